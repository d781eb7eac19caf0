// status, key, doctor, simulate and the conventions every command shares, as a script would run them.
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { COMMAND_NAMES, COMMANDS } from "../../src/cli/args.ts";
import { EXIT } from "../../src/machine/face.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { cli, readFakeKeychain, spawnCli } from "../helpers/cli.ts";

const KEY = "sk-cli-commands-0f9e8d7c6b5a";

describe("CLI commands", () => {
  let dir: string;
  let sim: Simulator;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-cmds-"));
    sim = await startSimulator({ scenario: "happy" });
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("every command's --help lists its options and examples", async () => {
    for (const name of COMMAND_NAMES) {
      const r = await cli([name, "--help"]);
      assert.equal(r.code, 0, name);
      for (const option of Object.keys(COMMANDS[name]?.options ?? {}))
        assert.ok(r.stdout.includes(`--${option}`), `${name} --${option}`);
      assert.match(r.stdout, /Examples:/);
      assert.match(r.stdout, /--no-color/);
    }
  });

  it("status: exit 1 with a sentence when nothing is recorded, 0 with the record after a setup", async () => {
    const file = join(dir, "status.json");
    const none = await cli(["status", "--status-file", file]);
    assert.equal(none.code, EXIT.failure);
    assert.match(none.stdout, /No integration recorded/);
    const setup = await cli(["--base-url", sim.baseUrl, "--status-file", file], { TOKENHUB_API_KEY: KEY });
    assert.equal(setup.code, 0, setup.stderr);
    const human = await cli(["status", "--status-file", file]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /integration complete/);
    const json = await cli(["status", "--status-file", file, "--json"]);
    assert.equal(JSON.parse(json.stdout).integration_status, "success");
  });

  it("status: the multimodal checks are listed beside the text result", async () => {
    const file = join(dir, "media-status.json");
    const setup = await cli([
      "--simulate",
      "--scenario",
      "video-failed",
      "--multimodal",
      "image,video",
      "--output-dir",
      join(dir, "media"),
      "--status-file",
      file,
    ]);
    assert.equal(setup.code, 0, setup.stderr);
    const human = await cli(["status", "--status-file", file]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^ {2}image {8}ok with wanx2\.1-t2i-turbo: .*image-.*\.png \(\d+ bytes\)$/m);
    assert.match(human.stdout, /^ {2}video {8}failed with wan2\.6-t2v \(task task-\d+\): media_task_failed/m);
  });

  it("status: a failed or corrupt record exits 1 with one line", async () => {
    const failed = join(dir, "failed.json");
    await cli(["--simulate", "--scenario", "routing-exhausted", "--status-file", failed]);
    const r = await cli(["status", "--status-file", failed]);
    assert.equal(r.code, EXIT.failure);
    assert.match(r.stdout, /integration failed[\s\S]*remedy/);
    const corrupt = join(dir, "corrupt.json");
    await writeFile(corrupt, "{ half a record");
    const c = await cli(["status", "--status-file", corrupt]);
    assert.equal(c.code, EXIT.failure);
    assert.equal(c.stderr.trim().split("\n").length, 1);
    assert.match(c.stderr, /not a valid record/);
  });

  it("key where: names the source without printing the key; a masked form only on request", async () => {
    const env = await cli(["key", "where"], { TOKENHUB_API_KEY: KEY });
    assert.equal(env.code, 0);
    assert.match(env.stdout, /environment/);
    assert.ok(!env.stdout.includes(KEY));
    const masked = await cli(["key", "where", "--show-masked", "--json"], { TOKENHUB_API_KEY: KEY });
    const answer = JSON.parse(masked.stdout) as { source: string; masked: string };
    assert.equal(answer.source, "env");
    assert.equal(answer.masked, `sk-…${KEY.slice(-4)}`);
    assert.ok(!masked.stdout.includes(KEY) && !masked.stderr.includes(KEY));
    const none = await cli(["key", "where"], { HOME: dir });
    assert.equal(none.code, EXIT.failure);
    assert.match(none.stdout, /Key source: none/);
  });

  it("key set: refuses without a terminal unless --stdin; a keychain that is unavailable is one line, not a stack", async () => {
    const noTty = await cli(["key", "set"]);
    assert.equal(noTty.code, EXIT.usage);
    assert.match(noTty.stderr, /--stdin/);
    // No keychain answers (test/helpers/cli.ts fakes keytar as where no Secret Service runs): it says so before
    // reading the key, and stores it nowhere, not even in the key file.
    const r = await cli(["key", "set", "--stdin"], { HOME: dir }, { input: `${KEY}\n` });
    assert.equal(r.code, EXIT.failure, r.stderr);
    assert.match(r.stderr, /OS keychain unavailable.*Nothing was asked for or stored/);
    assert.doesNotMatch(r.stderr, /Stored/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(!r.stderr.includes(KEY));
    await assert.rejects(stat(join(dir, ".config", "tokenhub-setup", "api-key")), { code: "ENOENT" });
    // A malformed key is named as such (test/cli/keys.test.ts: where no keychain works, once it says so).
    const bad = await cli(
      ["key", "set", "--stdin", "--insecure-storage"],
      { HOME: dir },
      { input: "sk with spaces\n" },
    );
    assert.equal(bad.code, EXIT.failure);
    assert.match(bad.stderr, /whitespace inside/);
    const what = await cli(["key", "frobnicate"]);
    assert.equal(what.code, EXIT.usage);
  });

  it("key set --stdin: where a keychain answers, the key goes there and nowhere else; where finds it, clear removes it", async () => {
    const home = await mkdtemp(join(dir, "keychain-home-"));
    const keychain = join(home, "keychain.json");
    const env = { HOME: home, TOKENHUB_TEST_KEYCHAIN: keychain };
    const set = await cli(["key", "set", "--stdin"], env, { input: `${KEY}\n` });
    assert.equal(set.code, EXIT.complete, set.stderr);
    assert.match(
      set.stderr,
      /^Stored in the OS keychain \(service tokenhub-setup, account TOKENHUB_API_KEY\)\.$/m,
    );
    assert.ok(!set.stderr.includes(KEY) && !set.stdout.includes(KEY));
    assert.deepEqual(readFakeKeychain(keychain), { "tokenhub-setup": { TOKENHUB_API_KEY: KEY } });
    await assert.rejects(stat(join(home, ".config", "tokenhub-setup", "api-key")), { code: "ENOENT" });
    const where = await cli(["key", "where", "--json", "--show-masked"], env);
    assert.deepEqual(JSON.parse(where.stdout), {
      source: "keychain",
      masked: `sk-…${KEY.slice(-4)}`,
      notices: [],
    });
    const clear = await cli(["key", "clear"], env);
    assert.equal(clear.code, EXIT.complete, clear.stderr);
    assert.match(clear.stdout, /Removed the TokenHub key from the OS keychain\./);
    assert.deepEqual(readFakeKeychain(keychain), { "tokenhub-setup": {} });
  });

  it("doctor: explains each check; a reachable loopback base URL passes, an http: one fails", async () => {
    const ok = await cli(
      ["doctor", "--json", "--base-url", sim.baseUrl, "--status-file", join(dir, "d.json")],
      {
        TOKENHUB_API_KEY: KEY,
      },
    );
    const { checks } = JSON.parse(ok.stdout) as {
      checks: Array<{ name: string; status: string; detail: string }>;
    };
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    for (const name of ["Node.js", "Base URL", "Proxy", "Reachable", "Key", "Keychain", "Status file"])
      assert.ok(byName[name], name);
    assert.equal(byName.Reachable?.status, "ok", byName.Reachable?.detail);
    assert.equal(byName.Key?.status, "ok");
    assert.ok(!ok.stdout.includes(KEY));
    assert.equal(ok.code, 0, ok.stdout);
    const bad = await cli(["doctor", "--base-url", "http://tokenhub.link/v1"]);
    assert.equal(bad.code, EXIT.failure);
    assert.match(bad.stdout, /Base URL .*only https: is allowed/);
  });

  it("simulate: lists scenarios, refuses a bad port, serves until Ctrl-C (exit 0)", async () => {
    const list = await cli(["simulate", "--list-scenarios"]);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /^happy\s/m);
    const port = await cli(["simulate", "--port", "http"]);
    assert.equal(port.code, EXIT.usage);
    const child = spawnCli(["simulate", "--scenario", "unauthorized"]);
    const url = await new Promise<string>((resolve) =>
      child.stdout.once("data", (d) => resolve(String(d).trim())),
    );
    const res = await fetch(`${url}/chat/completions`, {
      method: "POST",
      body: "{}",
      headers: { authorization: "Bearer x" },
    });
    assert.equal(res.status, 401);
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0);
  });

  it("--quiet keeps only the result; unknown options are one line and exit 2", async () => {
    const quiet = await cli(["--simulate", "--quiet"]);
    assert.equal(quiet.code, 0);
    assert.doesNotMatch(quiet.stderr, /\[1\/5\]/);
    assert.match(quiet.stderr, /Integration complete/);
    const bad = await cli(["status", "--frobnicate"]);
    assert.equal(bad.code, EXIT.usage);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
  });
});
