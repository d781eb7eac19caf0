// The package as a host installs it: `npm pack` of this tree holds exactly what a host needs (the built code,
// the simulator's scenarios, the bundled skill, the two manifests, README and LICENSE), nothing stale, nothing
// of the tests; and the unpacked tarball loads: its exports import, its bin runs, the simulator finds its
// scenarios. npm runs with --ignore-scripts: `npm test` has just built dist/ (npm pack would rebuild it).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

const ROOT = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | { default: string; types?: string }>;
  openclaw: { extensions: string[] };
};
const run = promisify(execFile);

/** npm pack's own list of what it would put in the tarball. */
function packedFiles(): string[] {
  const out = execFileSync("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path) ?? [];
}

describe("npm pack: what a host installs", () => {
  const files = packedFiles();

  it("holds the built code, the scenarios, the skill, the manifests, README and LICENSE, and nothing else", () => {
    const tops = [
      ...new Set(
        files.map((f) => (f.startsWith("fixtures/") ? f.split("/").slice(0, 2).join("/") : f.split("/")[0])),
      ),
    ].sort();
    assert.deepEqual(tops, [
      "LICENSE",
      "README.md",
      "dist",
      "fixtures/scenarios",
      "openclaw.plugin.json",
      "package.json",
      "skill.manifest.json",
      "skills",
    ]);
    assert.ok(files.includes("skills/tokenhub-setup/SKILL.md"));
    assert.ok(files.includes("fixtures/scenarios/happy.json"));
  });

  // src/cli ships as the bin's bundle alone (main.js and its chunks, below); every other source file is one
  // module with its types. No source maps: they would point at src/, which is not shipped.
  it("its dist/ is this source built: a module for every source file, and none for a file that is gone", () => {
    const built = files
      .filter((f) => f.startsWith("dist/") && f.endsWith(".js") && f !== "dist/cli/main.js")
      .map((f) => f.slice("dist/".length, -".js".length))
      .sort();
    const sources = (readdirSync(join(ROOT, "src"), { recursive: true }) as string[])
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.startsWith("cli/"))
      .map((f) => f.slice(0, -".ts".length))
      .sort();
    assert.deepEqual(built, sources);
    const types = files
      .filter((f) => f.endsWith(".d.ts"))
      .map((f) => f.slice("dist/".length, -".d.ts".length));
    assert.deepEqual(types.sort(), sources);
    assert.deepEqual(
      files.filter((f) => f.endsWith(".map")),
      [],
    );
    assert.deepEqual(
      files.filter((f) => f.startsWith("dist/cli/") && !/^dist\/cli\/(main\.js|bin-[A-Z0-9]+\.mjs)$/.test(f)),
      [],
      "dist/cli holds the bin's bundle alone",
    );
  });

  // The bin is the one bundled entry (scripts/bundle-bin.ts): its chunks are .mjs beside it, outside the tsc
  // output counted above. Every chunk shipped is one the bin reaches, so a stale chunk cannot ride along.
  it("its bin's bundle chunks are exactly those the bin reaches", () => {
    const shipped = files.filter((f) => f.endsWith(".mjs")).sort();
    assert.ok(shipped.length > 0, "the bin is bundled into chunks");
    assert.ok(
      shipped.every((f) => /^dist\/cli\/bin-[A-Z0-9]+\.mjs$/.test(f)),
      shipped.join(" "),
    );
    const reached = new Set<string>();
    const queue = [pkg.bin["tokenhub-setup"]?.replace(/^\.\//, "") ?? ""];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      for (const [, chunk] of readFileSync(join(ROOT, file), "utf8").matchAll(
        /["'`]\.\/(bin-[A-Z0-9]+\.mjs)["'`]/g,
      )) {
        const path = `dist/cli/${chunk}`;
        if (!reached.has(path)) queue.push(path);
        reached.add(path);
      }
    }
    assert.deepEqual([...reached].sort(), shipped);
  });

  it("every entry point package.json names is in it: bin, exports, the OpenClaw extension", () => {
    const targets = [
      ...Object.values(pkg.bin),
      ...pkg.openclaw.extensions,
      ...Object.values(pkg.exports).flatMap((e) =>
        typeof e === "string" ? [e] : [e.default, e.types ?? e.default],
      ),
    ].map((p) => p.replace(/^\.\//, ""));
    assert.deepEqual(
      targets.filter((t) => !files.includes(t)),
      [],
    );
  });

  describe("the unpacked tarball loads", () => {
    let dir: string;
    let unpacked: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "tokenhub-pack-"));
      const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      const tarball = (JSON.parse(out) as Array<{ filename: string }>)[0]?.filename ?? "";
      execFileSync("tar", ["-xzf", join(dir, tarball), "-C", dir]);
      unpacked = join(dir, "package");
      // Its dependencies as an install would provide them (these are the ones the lockfile pins).
      await symlink(join(ROOT, "node_modules"), join(unpacked, "node_modules"), "dir");
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it("its exports import by the package's name (., ./simulator, ./mcp)", async () => {
      const script = `for (const s of ["${pkg.name}", "${pkg.name}/simulator", "${pkg.name}/mcp"]) { const m = await import(s); console.log(s, Object.keys(m).length); }`;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
        cwd: unpacked,
      });
      const counts = stdout
        .trim()
        .split("\n")
        .map((l) => Number(l.split(" ")[1]));
      assert.equal(counts.length, 3, stdout);
      assert.ok(
        counts.every((n) => n > 0),
        stdout,
      );
    });

    it("its bin runs, and the simulator finds its scenarios", async () => {
      const bin = join(unpacked, pkg.bin[pkg.name] as string);
      const version = await run(process.execPath, [bin, "--version", "--json"]);
      assert.equal((JSON.parse(version.stdout) as { version: string }).version, pkg.version);
      const scenarios = await run(process.execPath, [bin, "simulate", "--list-scenarios", "--json"]);
      const names = (JSON.parse(scenarios.stdout) as Array<{ name: string }>).map((s) => s.name);
      assert.ok(names.includes("happy") && names.includes("server-503-always"), names.join(", "));
    });
  });
});
