import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { renderReadme } from "../../scripts/readme.ts";
import { statechartEdges } from "../../src/machine/diagram.ts";
import { EXIT, REST_STATES, STATE_NAMES } from "../../src/machine/face.ts";
import { buildPluginManifest } from "../../src/openclaw/manifest.ts";
import { buildManifest, TRIGGERS } from "../../src/schema/manifest.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("generated documents cannot drift", () => {
  it("skill.manifest.json is what the zod schemas generate (run `npm run manifest`)", () => {
    const pkg = JSON.parse(read("package.json")) as { version: string };
    assert.deepEqual(
      JSON.parse(read("skill.manifest.json")),
      JSON.parse(JSON.stringify(buildManifest(pkg.version, { restStates: REST_STATES }))),
    );
  });

  it("openclaw.plugin.json is what the zod schemas generate (run `npm run manifest`)", () => {
    const pkg = JSON.parse(read("package.json")) as { version: string; openclaw: { extensions: string[] } };
    const plugin = JSON.parse(read("openclaw.plugin.json"));
    assert.deepEqual(plugin, JSON.parse(JSON.stringify(buildPluginManifest(pkg.version))));
    assert.equal(plugin.configSchema.additionalProperties, false);
    assert.equal(plugin.uiHints.apiKey.sensitive, true);
    assert.deepEqual(
      plugin.configContracts.secretInputs.paths.map((p: { path: string }) => p.path),
      ["apiKey"],
    );
    assert.deepEqual(pkg.openclaw.extensions, ["./dist/openclaw/index.js"]);
  });

  it("the manifest carries the contract the issue asks for", () => {
    const manifest = JSON.parse(read("skill.manifest.json"));
    assert.equal(manifest.id, "tokenhub-setup");
    for (const t of ["set up TokenHub", "connect TokenHub", "configure TokenHub API key"])
      assert.ok(TRIGGERS.includes(t as never));
    assert.deepEqual(Object.keys(manifest.events).sort(), ["CANCEL", "KEY_PROVIDED", "KEY_READY", "SETUP"]);
    assert.deepEqual(Object.keys(manifest.notifications).sort(), [
      "cancelled",
      "completed",
      "escalated",
      "needKey",
      "progress",
    ]);
    assert.deepEqual(manifest.permissions.network.origins, ["https://tokenhub.link"]);
    assert.ok(manifest.permissions.env.includes("TOKENHUB_API_KEY"));
    assert.equal(manifest.permissions.keychain.service, "tokenhub-setup");
    assert.equal(manifest.config.additionalProperties, false);
  });

  it("README's generated sections are current (run `npm run readme`)", () => {
    const readme = read("README.md");
    // Compare line sets first for a short message, then the whole text.
    const fresh = renderReadme(readme);
    const stale = fresh.split("\n").filter((line) => !readme.includes(line));
    assert.deepEqual(stale, [], "README.md is stale: run `npm run readme`");
    assert.ok(readme === fresh, "README.md is stale: run `npm run readme`");
  });

  it("README's diagram names every state and every transition of the machine", () => {
    const readme = read("README.md");
    for (const state of STATE_NAMES.map((name) => name.split(".").at(-1) as string))
      assert.ok(readme.includes(` ${state} `) || readme.includes(` ${state}\n`), state);
    for (const e of statechartEdges())
      assert.ok(readme.includes(`${e.from} --> ${e.to}`), `${e.from} -> ${e.to}`);
  });

  it("README's exit code table matches the CLI", () => {
    const readme = read("README.md");
    for (const code of Object.values(EXIT))
      assert.ok(new RegExp(`^\\|\\s*${code}\\s*\\|`, "m").test(readme), `exit code ${code}`);
  });

  it("the README opens with the two commands", () => {
    const lines = read("README.md").split("\n");
    const block = lines.slice(lines.indexOf("```sh") + 1, lines.indexOf("```sh") + 3).join("\n");
    assert.match(block, /^npm ci && npm run demo/m);
    assert.match(block, /^npm test/m);
  });
});
