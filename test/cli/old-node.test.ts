// On a Node older than 22.19 the command refuses in one sentence that says what works instead (exit 2), before
// anything that needs a newer Node is loaded.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { isolatedEnv, MAIN } from "../helpers/cli.ts";
import { oldNode } from "../helpers/old-node.ts";

const DIST_MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

function run(node: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // The machine's PATH, not this suite's (where node is Node 24); a home of its own, should the refusal fail.
  const isolated = isolatedEnv({ PATH: "/usr/bin:/bin" });
  return new Promise((resolve) => {
    execFile(node, args, { env: isolated.env }, (error, stdout, stderr) => {
      isolated.cleanup();
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function assertRefusal(r: { code: number; stdout: string; stderr: string }, version: string) {
  assert.equal(r.code, EXIT.usage, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.ok(
    r.stderr.startsWith(`tokenhub-setup needs Node.js 22.19 or newer; this is ${version}.`),
    r.stderr,
  );
  // What works instead: npx inside a clone (the pinned Node), or a current Node.
  assert.match(r.stderr, /`npx tokenhub-setup`/);
  assert.match(r.stderr, /install a current Node \(https:\/\/nodejs\.org\)/);
  assert.doesNotMatch(r.stderr, /npm scripts/);
}

describe("an old Node.js", () => {
  it("the built command under the machine's old Node refuses, saying what works (exit 2)", async (t) => {
    const node = oldNode();
    if (!node) return t.skip("no Node older than 22.19 on this machine (CI's system Node 20 runs this case)");
    const version = execFileSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
    assertRefusal(await run(node, [DIST_MAIN, "--version"]), version);
  });

  it("the same check with this Node told it is 20.11.0 (runs everywhere)", async () => {
    const pretend = `data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.11.0"}})`;
    assertRefusal(await run(process.execPath, ["--import", pretend, MAIN, "status"]), "20.11.0");
  });
});
