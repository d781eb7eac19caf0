// The bundled SKILL.md against the Agent Skills format (agentskills.io; ../shared/mcp.md) as its reference
// validator reads it: strict YAML (no flow collections), only the format's fields, name equal to the folder.
// And against what it tells an agent: the CLI commands and exit codes it names are the CLI's own.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isAlias, isCollection, isMap, isNode, isScalar, parseDocument, visit } from "yaml";
import { EXIT } from "../../src/machine/face.ts";
import { ENV_VAR } from "../../src/secrets/sources.ts";

const SKILL_PATH = fileURLToPath(new URL("../../skills/tokenhub-setup/SKILL.md", import.meta.url));
const AGENT_SKILLS_FIELDS = ["name", "description", "license", "compatibility", "metadata", "allowed-tools"];

function split(text: string): { front: string; body: string } {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  assert.ok(match, "SKILL.md starts with a front matter block between --- lines");
  return { front: match[1] ?? "", body: match[2] ?? "" };
}

/** Parses as strictly as the reference validator (strictyaml): errors, warnings, flow style, aliases, tags. */
function strictFrontMatter(front: string): Record<string, unknown> {
  const doc = parseDocument(front, { strict: true, uniqueKeys: true, prettyErrors: true });
  assert.deepEqual(
    [...doc.errors, ...doc.warnings].map((e) => e.message),
    [],
    "front matter parses as YAML without errors or warnings",
  );
  const refused: string[] = [];
  visit(doc, (_key, node) => {
    if (isAlias(node)) refused.push(`alias *${node.source}`);
    if (isCollection(node) && node.flow) refused.push(`flow ${isMap(node) ? "mapping" : "sequence"}`);
    if (isNode(node) && node.anchor) refused.push(`anchor &${node.anchor}`);
    if (isNode(node) && node.tag && !isScalar(node)) refused.push(`tag ${node.tag}`);
    if (isScalar(node) && node.tag) refused.push(`tag ${node.tag}`);
  });
  assert.deepEqual(refused, [], "block YAML only: strict parsers refuse flow style, anchors and tags");
  const value = doc.toJS() as unknown;
  assert.ok(value && typeof value === "object" && !Array.isArray(value), "front matter is a mapping");
  return value as Record<string, unknown>;
}

describe("the bundled SKILL.md", () => {
  const text = readFileSync(SKILL_PATH, "utf8");
  const { front, body } = split(text);

  it("is strict block YAML with only the Agent Skills fields, within their limits", () => {
    const fields = strictFrontMatter(front);
    const unknown = Object.keys(fields).filter((k) => !AGENT_SKILLS_FIELDS.includes(k));
    assert.deepEqual(unknown, [], `only ${AGENT_SKILLS_FIELDS.join(", ")}`);
    const { name, description, compatibility, metadata } = fields;
    assert.equal(name, basename(dirname(SKILL_PATH)), "name equals the folder's name");
    assert.match(String(name), /^[a-z0-9]+(-[a-z0-9]+)*$/);
    assert.ok(String(name).length <= 64);
    assert.equal(typeof description, "string");
    assert.ok((description as string).length >= 1 && (description as string).length <= 1024);
    if (compatibility !== undefined) {
      assert.equal(typeof compatibility, "string");
      assert.ok((compatibility as string).length <= 500);
    }
    assert.ok(metadata && typeof metadata === "object" && !Array.isArray(metadata), "metadata is a mapping");
    if (fields["allowed-tools"] !== undefined) assert.equal(typeof fields["allowed-tools"], "string");
  });

  it("keeps OpenClaw's keys under metadata, eligible without a key (the first run is the case it exists for)", () => {
    const metadata = strictFrontMatter(front).metadata as { openclaw?: Record<string, unknown> };
    const openclaw = metadata.openclaw;
    assert.ok(openclaw, "metadata.openclaw");
    // OpenClaw leaves a skill out of the system prompt while a `requires.env` variable is missing, unless
    // `always` (docs/tools/skills.md, Gating): without it the skill hides exactly when no key is configured.
    assert.equal(openclaw.always, true);
    assert.equal(openclaw.primaryEnv, ENV_VAR);
  });

  it("says when to use it: the triggers a user says", () => {
    const { description } = strictFrontMatter(front) as { description: string };
    for (const phrase of ["set up TokenHub", "connect TokenHub", "TOKENHUB_API_KEY"])
      assert.ok(description.includes(phrase), phrase);
  });

  it("tells an agent with the tool, and one without it, how to do the job, never through the chat", () => {
    assert.match(body, /`tokenhub_setup`/);
    assert.match(body, /without pasting it into the chat/);
    assert.match(
      body,
      /^npx --no-install tokenhub-setup --json --no-input$/m,
      "the command line for runtimes without the tool",
    );
    // npx must never fetch a package by that name: whoever published it would run with the key at hand.
    const fetching = [...text.matchAll(/\bnpx\s+(?!--no-install\b)[^\s`]+/g)].map((m) => m[0]);
    assert.deepEqual(fetching, [], "every npx in SKILL.md says --no-install");
    // The exit-code table: every row names a code the CLI really uses, and the codes an agent meets are there.
    const rows = [...body.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]));
    const known = new Set<number>(Object.values(EXIT));
    assert.deepEqual(
      rows.filter((code) => !known.has(code)),
      [],
      "exit codes in SKILL.md that the CLI never gives",
    );
    for (const code of [
      EXIT.complete,
      EXIT.failure,
      EXIT.usage,
      EXIT.keyMissing,
      EXIT.keyRejected,
      EXIT.escalated,
      EXIT.invalidResponse,
    ])
      assert.ok(rows.includes(code), `exit ${code} is explained`);
  });
});
