// `status` as a person uses it (issue 11, items 2 and 8): it tells the truth about the last run, prints on
// stdout (so `status | less` shows it), and `status --check` asks TokenHub now, naming each key source.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { lastAttemptPath } from "../../src/status/last-attempt.ts";
import { cli } from "../helpers/cli.ts";

const GOOD = "sk-status-good-7d3e1f0a9b";
const BAD = "sk-status-bad-2c8f4e6a1d";

describe("status as a person uses it", () => {
  let dir: string;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-status-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("after a success, a run that finds no key makes status say the record is older, exit 1", async () => {
    const file = join(dir, "stale.json");
    const ok = await cli(["--base-url", sim.baseUrl, "--status-file", file], { TOKENHUB_API_KEY: GOOD });
    assert.equal(ok.code, EXIT.complete, ok.stderr);
    const fresh = await cli(["status", "--status-file", file]);
    assert.equal(fresh.code, EXIT.complete);
    assert.match(fresh.stdout, /✔ TokenHub integration complete/);
    assert.equal(fresh.stderr, "", "human output is on stdout");

    const missing = await cli(["--base-url", sim.baseUrl, "--status-file", file, "--no-input"]);
    assert.equal(missing.code, EXIT.keyMissing);
    const note = JSON.parse(await readFile(lastAttemptPath(file), "utf8"));
    assert.equal(note.outcome, "key_missing");

    const stale = await cli(["status", "--status-file", file]);
    assert.equal(stale.code, EXIT.failure, stale.stdout);
    assert.match(stale.stdout, /The last run \(.+\) ended without a verdict: no TokenHub API key was found/);
    assert.match(stale.stdout, /The record below is older/);

    // A later verified run supersedes the note.
    await cli(["--base-url", sim.baseUrl, "--status-file", file], { TOKENHUB_API_KEY: GOOD });
    assert.equal((await cli(["status", "--status-file", file])).code, EXIT.complete);
  });

  it("after a success, a 401 makes status exit 1 and show the last success kept in the record", async () => {
    const file = join(dir, "rejected.json");
    await cli(["--base-url", sim.baseUrl, "--status-file", file], { TOKENHUB_API_KEY: GOOD });
    const bad = await cli(["--base-url", sim.baseUrl, "--status-file", file, "--no-input"], {
      TOKENHUB_API_KEY: BAD,
    });
    assert.equal(bad.code, EXIT.keyRejected, bad.stderr);
    // Named by source and masked hint, with what to do while the variable is set.
    assert.match(bad.stderr, /rejected the key in TOKENHUB_API_KEY \(sk-…6a1d\)/);
    assert.match(bad.stderr, /not read while TOKENHUB_API_KEY is set/);
    assert.ok(!bad.stderr.includes(BAD));
    const status = await cli(["status", "--status-file", file]);
    assert.equal(status.code, EXIT.failure);
    assert.match(status.stdout, /✖ TokenHub integration failed/);
    assert.match(status.stdout, /last success +deepseek-v3\.2 at http:\/\/127\.0\.0\.1:\d+\/v1, validated /);
    assert.doesNotMatch(status.stdout, /key from (event|env)/);
  });

  it("status --check names each source, the one used, its masked hint, and TokenHub's verdict now", async () => {
    const good = await cli(["status", "--check", "--base-url", sim.baseUrl], { TOKENHUB_API_KEY: GOOD });
    assert.equal(good.code, EXIT.complete, good.stdout + good.stderr);
    assert.match(good.stdout, /✔ TOKENHUB_API_KEY +key sk-…0a9b +<- used/);
    assert.match(good.stdout, /! the OS keychain +cannot be read/);
    assert.match(good.stdout, /TokenHub accepted it/);
    assert.ok(!good.stdout.includes(GOOD));

    const bad = await cli(["status", "--check", "--json", "--base-url", sim.baseUrl], {
      TOKENHUB_API_KEY: BAD,
    });
    assert.equal(bad.code, EXIT.keyRejected);
    const report = JSON.parse(bad.stdout);
    assert.equal(report.used, "env");
    assert.equal(report.probe.http_status, 401);
    assert.equal(report.sources[0].hint, `sk-…${BAD.slice(-4)}`);
    assert.ok(!bad.stdout.includes(BAD));

    const none = await cli(["status", "--check", "--base-url", sim.baseUrl]);
    assert.equal(none.code, EXIT.keyMissing);
    assert.match(none.stdout, /No key to check/);
    // Nothing was sent without a key, and --check never writes a record.
  });

  it("doctor and key where print their answer on stdout", async () => {
    const doctor = await cli(["doctor", "--base-url", sim.baseUrl, "--status-file", join(dir, "d.json")]);
    assert.match(doctor.stdout, /Reachable/);
    assert.equal(doctor.stderr, "");
    const where = await cli(["key", "where"], { TOKENHUB_API_KEY: GOOD });
    assert.match(where.stdout, /Key source: environment \(TOKENHUB_API_KEY\)/);
  });
});
