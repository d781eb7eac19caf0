// `npm ci` on a machine whose system Node is 20 (what the README promises) warns EBADENGINE only for the
// packages the README names and explains; never for the project itself, whose `engines` is for those who
// install the command, while `devEngines` says what developing it needs (a Node that runs npm).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { oldNode } from "../helpers/old-node.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const readme = await readFile(join(ROOT, "README.md"), "utf8");
const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));

/** The packages the README says warn, as `name@version`, from its section on EBADENGINE. */
function documented(): string[] {
  const paragraph = readme.split("\n### Why `npm ci` warns EBADENGINE")[1]?.split("\n#")[0] ?? "";
  return [...paragraph.matchAll(/`((?:@[\w-]+\/)?[\w.-]+@\d+\.\d+\.\d+)`/g)].map((m) => m[1] as string);
}

describe("EBADENGINE on a machine whose system Node is older than the project's", () => {
  it("the project says what developing it needs (devEngines) and what running it needs (engines)", () => {
    assert.deepEqual(pkg.devEngines, { runtime: { name: "node", version: ">=20", onFail: "warn" } });
    assert.equal(pkg.engines.node, ">=22.19");
    // The runtime check stays: engines is advice to npm, main.ts is what refuses an old Node.
    assert.ok(documented().length > 0, "README names the packages that warn");
  });

  it("`npm ci` under the system's old Node warns for exactly the packages the README names", async (t) => {
    const node = oldNode();
    if (!node) return t.skip("no Node older than 22.19 on this machine (CI's system Node 20 runs this case)");
    // npm as that Node runs it (the npm next to it), on a copy of the manifest and lockfile: --dry-run checks
    // engines as a real install does and writes nothing; offline, in under a second.
    const dir = await mkdtemp(join(tmpdir(), "tokenhub-engines-"));
    try {
      await copyFile(join(ROOT, "package.json"), join(dir, "package.json"));
      await copyFile(join(ROOT, "package-lock.json"), join(dir, "package-lock.json"));
      const env = { PATH: `${dirname(node)}:/usr/bin:/bin`, HOME: dir, npm_config_update_notifier: "false" };
      const version = execFileSync("node", ["-p", "process.version"], { env, encoding: "utf8" }).trim();
      const stderr = await new Promise<string>((resolve, reject) =>
        execFile(
          "npm",
          ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund", "--offline"],
          { cwd: dir, env },
          (error, _stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stderr),
        ),
      );
      const warned = [...stderr.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((m) => m[1]);
      t.diagnostic(`npm under Node ${version} warned for: ${warned.join(", ") || "nothing"}`);
      assert.ok(!warned.some((p) => p?.startsWith(`${pkg.name}@`)), "not for the project itself");
      assert.deepEqual(warned.sort(), documented().sort(), "README's EBADENGINE paragraph names these");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
