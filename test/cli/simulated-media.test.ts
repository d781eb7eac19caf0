import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, describe, it } from "node:test";
import { freshSimulatedMediaDir, simulatedMediaRoot } from "../../src/cli/simulated-media.ts";

describe("the simulated runs' media folder", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const cache = async () => {
    const dir = await mkdtemp(join(tmpdir(), "tokenhub-sim-cache-"));
    dirs.push(dir);
    return dir;
  };

  it("lives under $XDG_CACHE_HOME, or ~/.cache when that is unset or relative", () => {
    assert.equal(
      simulatedMediaRoot({ XDG_CACHE_HOME: "/c", HOME: "/h" }),
      "/c/tokenhub-setup/simulated-media",
    );
    assert.equal(
      simulatedMediaRoot({ XDG_CACHE_HOME: "rel", HOME: "/h" }),
      "/h/.cache/tokenhub-setup/simulated-media",
    );
  });

  it("removes ended runs' folders only: not its own, not a live process's, not what it did not make", async () => {
    const env = { XDG_CACHE_HOME: await cache() };
    const root = simulatedMediaRoot(env);
    const mine = freshSimulatedMediaDir(env);
    await writeFile(join(mine, "image.png"), "x");
    // An earlier process that had this pid (a container's pid 1 after a restart) left this one.
    const samePidEarlier = `${process.pid}-zzzzzz`;
    // Pid 2^22+1 is above Linux's pid_max: no process has it.
    const ended = `${2 ** 22 + 1}-abcdef`;
    const live = `${process.ppid}-abcdef`;
    const notAFolder = `${2 ** 22 + 1}-file00`;
    const link = `${2 ** 22 + 1}-link00`;
    const target = await cache();
    for (const name of [samePidEarlier, ended, live, "keep", "4-short"]) await mkdir(join(root, name));
    await writeFile(join(root, notAFolder), "x");
    await symlink(target, join(root, link));
    await writeFile(join(target, "precious"), "x");

    const next = freshSimulatedMediaDir(env);
    assert.deepEqual(
      (await readdir(root)).sort(),
      [basename(mine), basename(next), live, "keep", "4-short", notAFolder, link].sort(),
    );
    assert.deepEqual(await readdir(mine), ["image.png"]);
    assert.deepEqual(await readdir(target), ["precious"]);
  });
});
