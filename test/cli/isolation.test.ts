// The suite's own promise: a CLI it starts never touches the files or the OS keychain of the machine it runs on
// (test/helpers/cli.ts, test/helpers/fake-keytar.ts). On a developer's machine the alternative is a test that
// overwrites their real key or their real integration record.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { cli, isolatedEnv, readFakeKeychain } from "../helpers/cli.ts";

describe("the CLI under test is isolated from the machine", () => {
  it("gets a home of its own with the XDG folders in it, and nothing else from this process's environment", () => {
    // What a developer's shell holds: none of it may reach the child.
    const desktop: Record<string, string> = {
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus",
      XDG_RUNTIME_DIR: "/run/user/1000",
      XDG_CONFIG_HOME: "/home/someone/.config",
      TOKENHUB_API_KEY: "sk-from-the-developer-shell-1234",
    };
    const saved = Object.fromEntries(Object.keys(desktop).map((name) => [name, process.env[name]]));
    Object.assign(process.env, desktop);
    const isolated = isolatedEnv();
    try {
      const { env } = isolated;
      const home = env.HOME as string;
      assert.deepEqual(Object.keys(env).sort(), [
        "HOME",
        "PATH",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
      ]);
      assert.equal(env.PATH, process.env.PATH);
      assert.notEqual(home, process.env.HOME);
      assert.ok(home.startsWith(tmpdir()) && existsSync(home), home);
      for (const name of ["XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"])
        assert.ok(!relative(home, env[name] ?? "/").startsWith(".."), `${name} is inside HOME`);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      isolated.cleanup();
    }
    assert.ok(!existsSync(isolated.env.HOME as string), "the home made for the run is removed");
  });

  it("a home the test names is used, and left for the test to remove", async () => {
    const home = await mkdtemp(join(tmpdir(), "tokenhub-isolation-"));
    try {
      const isolated = isolatedEnv({ HOME: home, XDG_STATE_HOME: undefined });
      assert.equal(isolated.env.HOME, home);
      assert.equal(isolated.env.XDG_STATE_HOME, undefined, "undefined leaves a variable out");
      isolated.cleanup();
      assert.ok(existsSync(home));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("keytar is the stand-in: no keychain answers unless the test names one, and then it is that file", async () => {
    const home = await mkdtemp(join(tmpdir(), "tokenhub-isolation-"));
    try {
      const none = await cli(["key", "where", "--json"], { HOME: home });
      assert.equal(none.code, EXIT.failure, none.stderr);
      assert.match(JSON.stringify(JSON.parse(none.stdout).notices), /no Secret Service/);
      const keychain = join(home, "keychain.json");
      const set = await cli(
        ["key", "set", "--stdin"],
        { HOME: home, TOKENHUB_TEST_KEYCHAIN: keychain },
        { input: "sk-isolation-0123456789\n" },
      );
      assert.equal(set.code, EXIT.complete, set.stderr);
      assert.deepEqual(readFakeKeychain(keychain), {
        "tokenhub-setup": { TOKENHUB_API_KEY: "sk-isolation-0123456789" },
      });
      // Nothing else was written in the home: no key file, no record.
      assert.deepEqual(await readdir(home), ["keychain.json"]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
