// The import directions of src/ (layers in .dependency-cruiser.ts) and the size of its files, checked in CI.
// Today's code breaks some rules. Those breaks are listed below, and the list must match what
// dependency-cruiser reports exactly: a new violation fails, and so does a listed one that has gone away (delete
// its line). The list can only shrink.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import config from "../../.dependency-cruiser.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

type Violation = readonly [rule: string, from: string, to: string];

/** Today's violations, as dependency-cruiser reports them. Delete a line when its import is gone. */
const KNOWN_VIOLATIONS: readonly Violation[] = [];

/** Today's files over MAX_LINES. Delete a line when its file is split. */
const KNOWN_LONG_FILES: readonly string[] = [];
const MAX_LINES = 500;

/**
 * Imports the runtime resolves but dependency-cruiser cannot: OpenClaw's plugin SDK is the host's own copy,
 * declared in src/openclaw/sdk.d.ts and not installed here.
 */
const UNRESOLVABLE_BY_DESIGN = /^openclaw\/plugin-sdk\/[a-z-]+$/;

/** The cruise of the real src/, run once for the tests that read it. */
let ours: Promise<ICruiseResult> | undefined;
const cruiseOurs = () => {
  ours ??= cruiseSrc(root);
  return ours;
};

async function cruiseSrc(baseDir: string): Promise<ICruiseResult> {
  const { output } = await cruise(["src"], {
    ...config.options,
    baseDir,
    validate: true,
    ruleSet: { forbidden: config.forbidden ?? [] },
  });
  assert.ok(typeof output === "object", "the cruise API returns an object when no outputType is given");
  return output;
}

const violationsOf = (result: ICruiseResult): string[] =>
  result.summary.violations.map((v) => line([v.rule.name, v.from, v.to])).sort();

const line = ([rule, from, to]: Violation) => `${rule}: ${from} -> ${to}`;

/** Both directions of a set difference, printed one violation a line. */
function assertSameViolations(actual: readonly string[], expected: readonly string[], what: string): void {
  const added = actual.filter((v) => !expected.includes(v));
  const gone = expected.filter((v) => !actual.includes(v));
  const report = [
    ...(added.length > 0 ? [`New ${what} (fix the import, or, if the rule is wrong, the rule):`] : []),
    ...added.map((v) => `  ${v}`),
    ...(gone.length > 0 ? [`Listed ${what} no longer reported (delete them from the list):`] : []),
    ...gone.map((v) => `  ${v}`),
  ];
  assert.ok(report.length === 0, `\n${report.join("\n")}\n`);
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name).slice(root.length))
    .sort();
}

describe("import directions in src/", () => {
  it("break the layer rules exactly where the known-violations list says, nowhere else", async () => {
    const result = await cruiseOurs();
    const known = KNOWN_VIOLATIONS.map(line);
    assert.deepEqual(
      known.filter((v, i) => known.indexOf(v) !== i),
      [],
      "a known violation listed twice",
    );
    assertSameViolations(violationsOf(result), known, "layer violations");
  });

  it("are read from every file in src/, every import resolved", async () => {
    // If dependency-cruiser skipped files or failed to resolve our imports, the rules above would pass vacuously.
    const result = await cruiseOurs();
    const cruised = result.modules.map((m) => m.source).filter((s) => s.startsWith("src/"));
    assert.deepEqual(cruised.sort(), tsFilesUnder("src"));
    const unresolved = result.modules.flatMap((m) =>
      m.dependencies.filter((d) => d.couldNotResolve).map((d) => `${m.source} -> ${d.module}`),
    );
    assert.deepEqual(
      unresolved.filter((u) => !UNRESOLVABLE_BY_DESIGN.test(u.split(" -> ")[1] ?? "")),
      [],
    );
    const local = result.modules.flatMap((m) => m.dependencies.filter((d) => d.resolved.startsWith("src/")));
    assert.ok(local.length > 200, `only ${local.length} imports between our own files were seen`);
    assert.ok(
      local.some((d) => d.dependencyTypes.includes("type-only")),
      "type-only imports are counted (tsPreCompilationDeps)",
    );
  });

  it("each rule catches its own kind of import and lets the allowed ones through", async () => {
    // A scratch src/ with one planted break per rule and, beside each, imports the same rule must allow. The
    // expected list is exact, so a rule that catches nothing, or catches too much, fails here.
    mkdirSync(join(root, ".tmp"), { recursive: true });
    const scratch = mkdtempSync(join(root, ".tmp", "architecture-"));
    try {
      // Each scratch file is only its imports: dependency-cruiser reads them, nothing runs them.
      const files: Record<string, string[]> = {
        "src/schema/ok.ts": ['import { z } from "zod";'],
        "src/schema/bad.ts": ['import { readFileSync } from "node:fs";', 'import { A } from "./ok.ts";'],
        "src/secrets/scrubber.ts": ['import { A } from "../schema/ok.ts";'],
        "src/errors.ts": [
          'import { s } from "./secrets/scrubber.ts";',
          'import { t } from "./tokenhub/t.ts";',
        ],
        "src/log.ts": [
          'import pino from "pino";',
          'import { A } from "./schema/ok.ts";',
          'import { s } from "./secrets/scrubber.ts";',
        ],
        "src/tokenhub/t.ts": ['import { request } from "undici";'],
        "src/tokenhub/loop-a.ts": ['import { b } from "./loop-b.ts";'],
        "src/tokenhub/loop-b.ts": ['import { a } from "./loop-a.ts";'],
        "src/status/st.ts": [
          'import { e } from "../errors.ts";',
          'import { t } from "../tokenhub/t.ts";',
          'import { m } from "../machine/m.ts";',
        ],
        "src/machine/m.ts": [
          'import type { S } from "../session/s.ts";',
          'import { page } from "../key-page/page.ts";',
          'import { A } from "../schema/ok.ts";',
        ],
        "src/machine/io.ts": [
          'import { setup } from "xstate";',
          'import { randomUUID } from "node:crypto";',
          'import { readFile } from "node:fs/promises";',
          'import { request } from "undici";',
          'import type { Logger } from "pino";',
          'const keytar = () => import("keytar");',
          'const net = process.getBuiltinModule("node:net");',
        ],
        "src/session/s.ts": ['import { c } from "../cli/c.ts";'],
        "src/session/index.ts": [],
        "src/session/basics.ts": [
          'import { s } from "../secrets/scrubber.ts";',
          'import { A } from "../schema/ok.ts";',
        ],
        "src/session/inner.ts": [],
        "src/cli/c.ts": [
          'import { face } from "../session/index.ts";',
          'import { small } from "../session/basics.ts";',
          'import { inner } from "../session/inner.ts";',
          'import { start } from "../simulator/index.ts";',
          'import { sv } from "../simulator/server.ts";',
          'import { own } from "./own.ts";',
          'import { serve } from "../mcp/index.ts";',
          'import { tool } from "../mcp/tool.ts";',
          'import { open } from "../key-page/index.ts";',
        ],
        "src/mcp/index.ts": [
          'export { tool as serve } from "./tool.ts";',
          'import { open } from "../key-page/index.ts";',
          'import { page } from "../key-page/page.ts";',
          'import { own } from "../openclaw/own.ts";',
        ],
        "src/mcp/tool.ts": ['import { face } from "../session/index.ts";'],
        "src/key-page/index.ts": [
          'export { page as open } from "./page.ts";',
          'import { face } from "../session/index.ts";',
          'import { tool } from "../mcp/tool.ts";',
        ],
        "src/key-page/page.ts": [],
        "src/cli/own.ts": [],
        "src/openclaw/p.ts": [
          'import { face } from "../session/index.ts";',
          'import { own } from "./own.ts";',
          'import { c } from "../cli/c.ts";',
          'import { e } from "../errors.ts";',
          'import { start } from "../simulator/index.ts";',
        ],
        "src/openclaw/own.ts": [],
        "src/simulator/index.ts": ['export { sv as start } from "./server.ts";'],
        "src/simulator/server.ts": [
          'import { A } from "../schema/ok.ts";',
          'import { e } from "../errors.ts";',
        ],
        "src/index.ts": [
          'export * from "./cli/c.ts";',
          'export * from "./openclaw/p.ts";',
          'export * from "./machine/m.ts";',
        ],
      };
      for (const [path, lines] of Object.entries(files)) {
        mkdirSync(dirname(join(scratch, path)), { recursive: true });
        writeFileSync(join(scratch, path), `${lines.join("\n")}\n`);
      }
      const expected: Violation[] = [
        ["contract-only-zod", "src/schema/bad.ts", "fs"],
        ["scrubber-is-a-leaf", "src/secrets/scrubber.ts", "src/schema/ok.ts"],
        ["foundation-down-only", "src/errors.ts", "src/tokenhub/t.ts"],
        ["services-down-only", "src/status/st.ts", "src/machine/m.ts"],
        ["machine-down-only", "src/machine/m.ts", "src/session/s.ts"],
        ["machine-down-only", "src/machine/m.ts", "src/key-page/page.ts"],
        ["machine-is-pure", "src/machine/io.ts", "fs/promises"],
        ["machine-is-pure", "src/machine/io.ts", "net"],
        ["machine-is-pure", "src/machine/io.ts", "keytar"],
        ["machine-is-pure", "src/machine/io.ts", "pino"],
        ["machine-is-pure", "src/machine/io.ts", "undici"],
        ["session-down-only", "src/session/s.ts", "src/cli/c.ts"],
        ["session-basics-stays-small", "src/session/basics.ts", "src/schema/ok.ts"],
        ["cli-through-faces", "src/cli/c.ts", "src/session/inner.ts"],
        ["cli-through-faces", "src/cli/c.ts", "src/simulator/server.ts"],
        ["cli-through-faces", "src/cli/c.ts", "src/mcp/tool.ts"],
        ["openclaw-through-faces", "src/openclaw/p.ts", "src/cli/c.ts"],
        ["openclaw-through-faces", "src/openclaw/p.ts", "src/errors.ts"],
        ["openclaw-through-faces", "src/openclaw/p.ts", "src/simulator/index.ts"],
        ["mcp-through-faces", "src/mcp/index.ts", "src/openclaw/own.ts"],
        ["mcp-through-faces", "src/mcp/index.ts", "src/key-page/page.ts"],
        ["key-page-through-faces", "src/key-page/index.ts", "src/mcp/tool.ts"],
        ["simulator-stands-alone", "src/simulator/server.ts", "src/errors.ts"],
        ["no-circular", "src/tokenhub/loop-a.ts", "src/tokenhub/loop-b.ts"],
      ];
      // A package is named by itself: keytar is optional, resolved where it installed and unresolved elsewhere.
      const byPackage = (v: string) => v.replace(/ -> (\.\.\/)*node_modules\/([^/]+)\/.*$/, " -> $2");
      const actual = violationsOf(await cruiseSrc(scratch)).map(byPackage);
      assertSameViolations(actual, expected.map(line).sort(), "violations");
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe("file size in src/", () => {
  it(`no file over ${MAX_LINES} lines but the known ones`, () => {
    const long = tsFilesUnder("src").filter((path) => {
      const text = readFileSync(join(root, path), "utf8");
      const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
      return lines > MAX_LINES;
    });
    assertSameViolations(long, [...KNOWN_LONG_FILES].sort(), `files over ${MAX_LINES} lines`);
  });
});
