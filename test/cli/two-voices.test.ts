// Two voices from one set of facts (issue 11, item 7): every scenario the simulator plays, through the command
// line (a person at a terminal) and through the OpenClaw tool's text (an agent). The CLI must not speak the
// host's words (hand the key to the agent, say it is ready, call the tool) and the tool's text must not speak
// the command line's (flags, `npx tokenhub-setup`, run it again). Both from the same flow and notifications.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { COMMANDS } from "../../src/cli/args.ts";
import { runCli } from "../../src/cli/run.ts";
import { silentLogger } from "../../src/log.ts";
import { turnText } from "../../src/openclaw/text.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { runTurn } from "../../src/session/turn.ts";
import { listScenarios, startSimulator } from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";
// The CLI runs in this process: keytar is the stand-in here too, never the machine's OS keychain.
import "../helpers/fake-keytar.ts";

const KEY = "sk-two-voices-6f1e2d3c4b5a";

/** The host's words: meaningful to an agent in a conversation, wrong for a person whose process has exited. */
const HOST_WORDING =
  /conversation|say the key is ready|key is ready|tokenhub_setup|\{"action"|Tell the user|the host\b|SecretRef|openclaw /i;
/** The command line's words: its own flags (from its option table) and commands, meaningless inside the tool. */
const OUR_FLAGS = [...new Set(Object.values(COMMANDS).flatMap((c) => Object.keys(c.options)))];
const CLI_WORDING = new RegExp(
  `npx tokenhub-setup|\`tokenhub-setup|Run tokenhub-setup again|exit code|(^|\\s)--(${OUR_FLAGS.join("|")})\\b`,
);

function sink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

async function cliText(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const out = sink();
  const err = sink();
  await runCli([...args, "--no-input"], {
    stdout: out.stream,
    stderr: err.stream,
    env,
    interactive: false,
    clock: createVirtualClock(),
  });
  return `${out.text()}${err.text()}`;
}

const MEDIA_DIR = mkdtempSync(join(tmpdir(), "two-voices-media-"));
after(() => rmSync(MEDIA_DIR, { recursive: true, force: true }));

async function toolText(scenario: string, keyed: boolean): Promise<string> {
  const sim = await startSimulator({ scenario, acceptKeys: [KEY] });
  try {
    const turn = await runTurn({
      event: { type: "SETUP", preferences: { multimodal: ["image", "video"] } },
      // The checks save files: into a temp folder, never the machine's state folder.
      config: { baseUrl: sim.baseUrl, multimodal: { outputDir: MEDIA_DIR } },
      sources: { env: keyed ? { TOKENHUB_API_KEY: KEY } : {}, keychain: false },
      store: createMemoryStatusStore(),
      logger: silentLogger(),
      clock: createVirtualClock(),
      maxWaitMs: 24 * 3_600_000,
    });
    return turnText(turn, { recordPath: "(the plugin's record)" });
  } finally {
    await sim.close();
  }
}

describe("two voices from one set of facts", () => {
  // The CLI's home: the simulated media go to its cache folder.
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "tokenhub-two-voices-"));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });
  const scenarios = listScenarios().map((s) => s.name);

  it(`${scenarios.length} scenarios through the CLI speak to a person, never in the host's words`, async () => {
    const offenders: string[] = [];
    for (const name of scenarios) {
      const text = await cliText(["--simulate", "--scenario", name, "--multimodal", "image,video"], {
        HOME: home,
      });
      const hit = HOST_WORDING.exec(text);
      if (hit)
        offenders.push(
          `${name}: "${hit[0]}" in ${JSON.stringify(text.slice(Math.max(0, hit.index - 80), hit.index + 80))}`,
        );
    }
    assert.deepEqual(offenders, []);
  });

  it("the missing and rejected key, in both voices", async () => {
    // The CLI, off a terminal, with no key: what to do next, for a person.
    const sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
    try {
      const missing = await cliText(["--base-url", sim.baseUrl, "--status-file", "/dev/null/none.json"], {
        HOME: home,
      });
      assert.doesNotMatch(missing, HOST_WORDING);
      assert.match(missing, /No TokenHub API key found[\s\S]*Run tokenhub-setup again/);
    } finally {
      await sim.close();
    }
    // The tool: for an agent, with no flags.
    const tool = await toolText("happy", false);
    assert.match(tool, /Do NOT ask them to paste it into this conversation/);
    assert.doesNotMatch(tool, CLI_WORDING);
  });

  it(`${scenarios.length} scenarios through the OpenClaw tool's text speak to an agent, never in the CLI's words`, async () => {
    const offenders: string[] = [];
    for (const name of scenarios) {
      const text = await toolText(name, true);
      const hit = CLI_WORDING.exec(text);
      if (hit)
        offenders.push(
          `${name}: "${hit[0]}" in ${JSON.stringify(text.slice(Math.max(0, hit.index - 80), hit.index + 80))}`,
        );
    }
    assert.deepEqual(offenders, []);
  });
});
