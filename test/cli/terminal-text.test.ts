// Terminal injection: a server (or an edited record file) that puts ESC sequences, BEL, a bare CR, C1 controls
// or bidirectional overrides into its text must not reach a person's terminal as such, in live output or in
// `status`; `--json` keeps the exact text.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { REPLACEMENT, terminalSafe } from "../../src/cli/terminal-text.ts";
import { type Scenario, type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { cli } from "../helpers/cli.ts";

const KEY = "sk-terminal-0123456789abcdef";

/** What a terminal acts on: C0 but TAB and LF, DEL, C1, and the bidi / separator format controls. */
const ACTS_ON =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029\u200e\u200f\u061c]/;

const HOSTILE =
  "clear\u001b[2J title\u001b]0;pwned\u0007 bell\u0007 back\rFAKE ✔ Integration complete c1\u009b31m rlo\u202egnp.exe";

describe("terminalSafe", () => {
  it("replaces each ESC sequence, control and bidi override with one mark, keeping newlines and tabs", () => {
    assert.equal(terminalSafe("a\u001b[31mred\u001b[0m"), `a${REPLACEMENT}red${REPLACEMENT}`);
    assert.equal(terminalSafe("t\u001b]0;title\u0007x"), `t${REPLACEMENT}x`);
    assert.equal(terminalSafe("over\rwrite"), `over${REPLACEMENT}write`);
    assert.equal(terminalSafe("c1\u009b2J"), `c1${REPLACEMENT}2J`);
    assert.equal(terminalSafe("rlo\u202eexe"), `rlo${REPLACEMENT}exe`);
    assert.equal(terminalSafe("line one\n\tline two ✔ «ok»"), "line one\n\tline two ✔ «ok»");
  });

  it("leaves nothing a terminal acts on, for any text (fast-check)", () => {
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0x3000 }).map((c) => String.fromCharCode(c)),
      fc.constantFrom("\u001b", "\u001b[", "\u001b]", "\u0007", "\r", "\u009b", "\u202e", "\u2066"),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 200 }), (text) => {
        const safe = terminalSafe(text);
        assert.ok(!ACTS_ON.test(safe), JSON.stringify(safe));
        assert.equal(terminalSafe(safe), safe, "idempotent");
      }),
    );
  });
});

describe("the CLI prints server and record text safely; --json stays exact", () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-terminal-"));
    sim = await startSimulator({ scenario: "happy" });
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  const answer = (step: Record<string, unknown>): Scenario =>
    ({
      name: "hostile-text",
      description: "a server whose text drives terminals",
      routes: { "POST /v1/chat/completions": [step] },
    }) as Scenario;

  it("an error message with ESC, OSC, BEL, CR, C1 and RLO: neutralised on stderr and in status; exact in --json", async () => {
    sim.useScenario(
      answer({ status: 400, body: { error: { message: HOSTILE, type: "invalid_request_error" } } }),
    );
    const statusFile = join(dir, "failed.json");
    const env = { TOKENHUB_API_KEY: KEY, HOME: dir };
    const run = await cli(["--base-url", sim.baseUrl, "--status-file", statusFile, "--no-input"], env);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /clear/, "the message is shown");
    assert.ok(!ACTS_ON.test(run.stderr), JSON.stringify(run.stderr));

    const status = await cli(["status", "--status-file", statusFile], env);
    assert.match(status.stdout, /failure +.*clear/);
    assert.ok(!ACTS_ON.test(status.stdout), JSON.stringify(status.stdout));

    const json = await cli(["status", "--json", "--status-file", statusFile], env);
    const record = JSON.parse(json.stdout) as { failure?: { message: string } };
    assert.ok(record.failure?.message.includes("\u001b[2J"), "--json keeps the text as the server sent it");
  });

  it("a reply with escape sequences: the success line shows marks, not colours", async () => {
    sim.useScenario(
      answer({
        body: {
          id: "chatcmpl-1",
          object: "chat.completion",
          created: 1735689600,
          model: "deepseek-v3.2",
          choices: [
            { index: 0, message: { role: "assistant", content: "OK\u001b[31m\u001b]8;;http://x\u0007" } },
          ],
        },
      }),
    );
    const statusFile = join(dir, "ok.json");
    const env = { TOKENHUB_API_KEY: KEY, HOME: dir };
    const run = await cli(["--base-url", sim.baseUrl, "--status-file", statusFile, "--no-input"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /answered "OK\ufffd/);
    assert.ok(!ACTS_ON.test(run.stderr), JSON.stringify(run.stderr));
    const status = await cli(["status", "--status-file", statusFile], env);
    assert.match(status.stdout, /integration complete/);
    assert.ok(!ACTS_ON.test(status.stdout), JSON.stringify(status.stdout));
  });
});
