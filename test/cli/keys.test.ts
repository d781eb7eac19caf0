// Keys as a person manages them where no OS keychain works (issue 11, item 4): `key set` says so before asking
// for the key, and how to get a keychain; the explicit, warned-about plaintext file (--insecure-storage) is the
// way forward there, read by the flow after the keychain; doctor's advice fits the machine it runs on.
// No D-Bus session is passed to the children, so the OS keychain cannot answer (test/keychain covers one that does).
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { cli } from "../helpers/cli.ts";

const KEY = "sk-keyfile-3e9a7c51d2b8";

describe("keys where no OS keychain works", () => {
  let home: string;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "tokenhub-keys-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
  });
  after(async () => {
    await sim.close();
    await rm(home, { recursive: true, force: true });
  });
  const env = () => ({ HOME: home });
  const file = () => join(home, ".config", "tokenhub-setup", "api-key");

  it("key set says the keychain cannot take it before reading any key, and what to do instead", async () => {
    const r = await cli(["key", "set", "--stdin"], env(), { input: KEY });
    assert.equal(r.code, EXIT.failure);
    assert.match(r.stderr, /OS keychain unavailable: .* Nothing was asked for or stored\./);
    assert.match(r.stderr, /export TOKENHUB_API_KEY=\.\.\./);
    assert.match(r.stderr, /key set --insecure-storage/);
    assert.ok(!r.stderr.includes(KEY));
    await assert.rejects(stat(file()), { code: "ENOENT" });
  });

  it("doctor does not recommend `key set` where no keychain works", async () => {
    const r = await cli(["doctor", "--json", "--base-url", sim.baseUrl], env());
    const checks = JSON.parse(r.stdout).checks as Array<{ name: string; status: string; detail: string }>;
    const key = checks.find((c) => c.name === "Key");
    const keychain = checks.find((c) => c.name === "Keychain");
    assert.equal(keychain?.status, "warn");
    assert.doesNotMatch(key?.detail ?? "", /run `npx tokenhub-setup key set` \(OS keychain\)/);
    assert.match(key?.detail ?? "", /export TOKENHUB_API_KEY=\.\.\..*--insecure-storage/);
  });

  it("--insecure-storage: warned, 0600, used by a run, refused when others can read it, removed by key clear", async () => {
    const set = await cli(["key", "set", "--stdin", "--insecure-storage"], env(), { input: `${KEY}\n` });
    assert.equal(set.code, EXIT.complete, set.stderr);
    assert.match(set.stderr, /Warning: --insecure-storage keeps the key in plaintext/);
    assert.ok(!set.stderr.includes(KEY));
    const info = await stat(file());
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal((await readFile(file(), "utf8")).trim(), KEY);

    const where = await cli(["key", "where", "--json"], env());
    assert.equal(JSON.parse(where.stdout).source, "file");

    const record = join(home, "status.json");
    const run = await cli(["--base-url", sim.baseUrl, "--status-file", record, "--json"], env());
    assert.equal(run.code, EXIT.complete, run.stderr);
    assert.equal(JSON.parse(run.stdout).result.key_source, "file");

    // Readable by others: refused, as ssh refuses such a private key; the run says why.
    await chmod(file(), 0o644);
    const open = await cli(["--base-url", sim.baseUrl, "--status-file", record, "--no-input"], env());
    assert.equal(open.code, EXIT.keyMissing);
    assert.match(open.stderr, /can be read by others \(mode 644\).*chmod 600/);

    const clear = await cli(["key", "clear"], env());
    assert.equal(clear.code, EXIT.complete, clear.stderr);
    assert.match(clear.stdout, /Removed the key file/);
    await assert.rejects(stat(file()), { code: "ENOENT" });
  });

  it("a key typed or piped in is named as such when it is malformed, never 'from the host'", async () => {
    const r = await cli(["key", "set", "--stdin", "--insecure-storage"], env(), {
      input: "sk-has space-123456",
    });
    assert.equal(r.code, EXIT.failure);
    assert.match(r.stderr, /The key on standard input has whitespace inside it/);
    assert.doesNotMatch(r.stderr, /from the host/);
  });
});
