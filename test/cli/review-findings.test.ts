// What an outside review found by using the CLI (issue 11): each case as the reviewer ran it.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { cli } from "../helpers/cli.ts";
import { runCliInterrupted } from "../helpers/interrupted-cli.ts";

const KEY = "sk-review-findings-4c2a9e1b";

describe("outside review findings", () => {
  let home: string;
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "tokenhub-review-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
  });
  after(async () => {
    await sim.close();
    await rm(home, { recursive: true, force: true });
  });

  // Such a key redacted the flow's own words ("completed", the model's name) and broke the record.
  for (const word of ["complete", "Integration", "deepseek-v3.2"]) {
    it(`a key that is an ordinary word (${word}) is refused up front, with no crash and no redacted record`, async () => {
      const r = await cli(["--base-url", sim.baseUrl, "--json", "--status-file", join(home, "word.json")], {
        HOME: home,
        TOKENHUB_API_KEY: word,
      });
      assert.equal(r.code, EXIT.keyMissing, r.stderr);
      assert.match(r.stderr, /shorter than 16 characters/);
      assert.doesNotMatch(r.stderr, /\n\s+at |\[redacted\]/);
      assert.equal(JSON.parse(r.stdout).state, "awaitingKey");
    });
  }

  it("a record path through a file is a local fault (exit 7, the cause named, no Enterprise Support); doctor fails it", async () => {
    const aFile = join(home, "afile");
    await writeFile(aFile, "not a folder");
    const path = join(aFile, "status.json");
    const r = await cli(["--base-url", sim.baseUrl, "--status-file", path], {
      HOME: home,
      TOKENHUB_API_KEY: KEY,
    });
    assert.equal(r.code, EXIT.localFault, r.stderr);
    assert.match(r.stderr, /ENOTDIR: a part of the path is a file, not a folder/);
    assert.doesNotMatch(r.stderr, /Enterprise Support|Record: /);
    const doctor = await cli(["doctor", "--json", "--base-url", sim.baseUrl, "--status-file", path], {
      HOME: home,
    });
    const line = JSON.parse(doctor.stdout).checks.find((c: { name: string }) => c.name === "Status file");
    assert.equal(line.status, "fail", JSON.stringify(line));
  });

  it("flags every command has may come before the command (--no-color status, --json doctor, -q key where)", async () => {
    const status = await cli(["--no-color", "status", "--status-file", join(home, "none.json")], {
      HOME: home,
    });
    assert.equal(status.code, EXIT.failure);
    assert.match(status.stdout, /No integration recorded/);
    const doctor = await cli(["--json", "doctor", "--base-url", sim.baseUrl], { HOME: home });
    assert.ok(Array.isArray(JSON.parse(doctor.stdout).checks));
    const where = await cli(["-q", "key", "where"], { HOME: home, TOKENHUB_API_KEY: KEY });
    assert.equal(where.code, EXIT.complete, where.stderr);
  });

  it("--json's needKey is the command line's own instructions, not the host tool's", async () => {
    const r = await cli(
      ["--base-url", sim.baseUrl, "--json", "--no-input", "--status-file", join(home, "k.json")],
      {
        HOME: home,
      },
    );
    assert.equal(r.code, EXIT.keyMissing);
    const needKey = JSON.parse(r.stdout).needKey;
    const steps = needKey.instructions.steps.join(" ");
    assert.doesNotMatch(
      `${needKey.message} ${steps}`,
      /where the agent runs|host's masked|say the key is ready/,
    );
    assert.match(steps, /Run tokenhub-setup again/);
    assert.equal(needKey.instructions.neverPasteInChat, true);
  });

  it("a malformed TOKENHUB_API_KEY skipped for a key file is said on success, not only in the record", async () => {
    const set = await cli(["key", "set", "--stdin", "--insecure-storage"], { HOME: home }, { input: KEY });
    assert.equal(set.code, EXIT.complete, set.stderr);
    const r = await cli(["--base-url", sim.baseUrl, "--status-file", join(home, "skip.json")], {
      HOME: home,
      TOKENHUB_API_KEY: "sk-ünïcødé-key-1234567",
    });
    assert.equal(r.code, EXIT.complete, r.stderr);
    assert.match(r.stderr, /key: the key in the key file/);
    assert.match(r.stderr, /note: The key from TOKENHUB_API_KEY has characters an HTTP header cannot carry/);
    await cli(["key", "clear"], { HOME: home });
  });

  it("--base-url with an empty value is a usage error, not the production default", async () => {
    const r = await cli(["--base-url", "", "--no-input"], { HOME: home, TOKENHUB_API_KEY: KEY });
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /--base-url needs a URL/);
  });

  it("Ctrl-C during status --check: exit 130 and a Cancelled line", async () => {
    const slow = await startSimulator({ scenario: "slow-headers", acceptKeys: [KEY] });
    try {
      const { code, stderr } = await runCliInterrupted(
        ["status", "--check", "--base-url", slow.baseUrl],
        { HOME: home, TOKENHUB_API_KEY: KEY },
        "Asking TokenHub",
      );
      assert.equal(code, EXIT.cancelled, stderr);
      assert.match(stderr, /Cancelled: interrupted \(Ctrl-C\)/);
    } finally {
      await slow.close();
    }
  });
});
