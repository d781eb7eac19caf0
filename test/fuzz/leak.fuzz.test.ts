// Leak fuzzing: keys drawn from a wide alphabet (everything JSON, regexes, URLs and shells escape) pushed
// through every simulator scenario, the live session, runTurn (snapshot round trips, a handed-over key) and the
// CLI and the OpenClaw tool; every output channel is scanned for the key and its encodings. Zero hits is the only
// pass.
//
// FUZZ_RUNS sets the number of session/runTurn runs (spread evenly over the scenarios; default 135, five per
// scenario); the CLI and the OpenClaw tool get a quarter of that each (at least 25), refused keys twice that.
// FUZZ_SEED replays a run.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { runCli } from "../../src/cli/run.ts";
import { KeyFormatError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import type { HostApi, HostSdk, HostTool, ToolContext } from "../../src/openclaw/host.ts";
import { registerTokenHub } from "../../src/openclaw/plugin.ts";
import type { ConfigInput } from "../../src/schema/config.ts";
import type { Notification } from "../../src/schema/host.ts";
import { MIN_KEY_LENGTH, parseKey } from "../../src/secrets/key.ts";
import { forgetSecret } from "../../src/secrets/scrubber.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { createSession } from "../../src/session/session.ts";
import { runTurn, type TurnResult } from "../../src/session/turn.ts";
import { listScenarios, startSimulator } from "../../src/simulator/index.ts";
import { type Channel, errorChannels, findLeaks, inspected, thrownBy } from "../helpers/leak-scan.ts";
// The CLI runs in this process (runCli): keytar is the stand-in here too, never the machine's OS keychain.
import "../helpers/fake-keytar.ts";

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 135);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
const SCENARIOS = listScenarios().map((s) => s.name);
const perScenario = Math.max(1, Math.ceil(FUZZ_RUNS / SCENARIOS.length));
const FINAL = new Set(["complete", "escalated", "cancelled"]);

// ---- keys ---------------------------------------------------------------------------------------------------

/** Characters that JSON, regexes, URLs and shells escape; all of them travel in an HTTP header. */
const SPECIALS = [..."\"\\$`%&+/=?#'*()[]{}|^~;<>!@:,.-_"];
const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const keyChar = fc.oneof(
  { arbitrary: printable, weight: 3 },
  { arbitrary: fc.constantFrom(...SPECIALS), weight: 2 },
);
/** A key parseKey accepts: MIN_KEY_LENGTH-80 printable ASCII characters, no whitespace. */
const keyArb = fc.string({ unit: keyChar, minLength: MIN_KEY_LENGTH, maxLength: 80 });

/** Characters parseKey must refuse inside a key: whitespace, control characters, anything outside ASCII. */
const badChar = fc.oneof(
  fc.constantFrom(" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u1680", "\u2028", "\u3000", "\ufeff"),
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)),
  fc.constantFrom("é", "ß", "—", "“", "’", "€", "😀", "\ud800", "\udfff", "ｓ", "к", "\u200b"),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }).filter((s) => /[^\x21-\x7e]/.test(s)),
);
/** Bad characters between valid ones, so that trimming cannot make the key acceptable. */
const refusedKeyArb = fc
  .tuple(
    fc.string({ unit: keyChar, minLength: 4, maxLength: 40 }),
    fc.array(fc.tuple(badChar, fc.string({ unit: keyChar, minLength: 1, maxLength: 20 })), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([head, rest]) => head + rest.map(([bad, tail]) => bad + tail).join(""));

// ---- helpers ------------------------------------------------------------------------------------------------

function collector() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

function memoryLogger() {
  const lines: string[] = [];
  return {
    logger: createLogger({ level: "trace", destination: { write: (l: string) => void lines.push(l) } }),
    lines,
  };
}

/**
 * Every flow that passes the text check also runs both multimodal checks (with whatever the scenario serves for
 * them: files, failures, a task that never ends, a 404), so the key meets those paths too. Polls 10 ms apart
 * keep the waiting short enough for the CLI and the OpenClaw tool (real clocks); a never-ending task waits
 * its one-second deadline, which keeps that scenario to the session runs (see `unhurried`).
 */
const MEDIA = {
  capabilities: ["image", "video"] as Array<"image" | "video">,
  // The 64 MiB media scenarios meet the cap instead of being written to disk in full, run after run.
  maxDownloadBytes: 1024 * 1024,
  video: { pollIntervalMs: 10, deadlineMs: 1_000 },
};

function configFor(scenario: string, baseUrl: string, statusPath: string): ConfigInput {
  return {
    baseUrl,
    statusPath,
    multimodal: { ...MEDIA, outputDir: join(dirname(statusPath), "media") },
    stream: scenario.startsWith("stream"),
    // slow-headers answers after 5 s: a whole-request limit this short turns it into timeouts at once.
    ...(scenario === "slow-headers" ? { timeouts: { requestMs: 20 } } : {}),
  };
}

async function fileText(path: string): Promise<Channel[]> {
  return existsSync(path) ? [["status file", await readFile(path, "utf8")]] : [];
}

/** A stored snapshot whose text is not JSON, with the key where a value should be. */
const notJson = (key: string) => `{"format":"tokenhub-setup.snapshot","snapshot":${key}}`;

function assertNoLeak(key: string, channels: readonly Channel[]): void {
  // The value parseKey registers is the trimmed one; look for both.
  const hits = findLeaks([key, key.trim()], channels);
  assert.deepEqual(hits, [], `the key ${JSON.stringify(key)} leaked`);
  assert.ok(channels.length > 0);
}

async function filesUnder(dir: string): Promise<Channel[]> {
  if (!existsSync(dir)) return [];
  const out: Channel[] = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name);
    if ((await stat(path)).isFile()) out.push([`file ${name}`, await readFile(path, "utf8")]);
  }
  return out;
}

/** An OpenClaw host as far as the plugin uses it: config in memory, SecretRefs resolved from `secrets`. */
function openclawHost(
  pluginConfig: Record<string, unknown>,
  stateDir: string,
  secrets: Record<string, string>,
  configFile: Record<string, unknown>,
) {
  const logs: string[] = [];
  let factory: ((ctx: ToolContext) => HostTool | null) | undefined;
  const log = (m: string) => void logs.push(m);
  const api: HostApi = {
    id: "tokenhub-setup",
    config: configFile,
    pluginConfig,
    logger: { info: log, warn: log, error: log, debug: log },
    registerTool: (f) => {
      factory = f;
    },
    registerCommand: () => {},
    registerCli: () => {},
    runtime: {
      config: {
        async mutateConfigFile(mutation) {
          return { path: join(stateDir, "openclaw.json"), result: mutation.mutate(configFile) };
        },
      },
    },
  };
  const sdk: HostSdk = {
    stateDir: () => stateDir,
    clock: createVirtualClock(),
    async resolveSecret({ value }) {
      if (typeof value === "string") return { value };
      const ref = value as { source: string; id: string };
      const found = secrets[ref.id];
      return found ? { value: found } : { unresolvedRefReason: `${ref.source}:${ref.id} is unresolved` };
    },
  };
  registerTokenHub(api, sdk);
  const tool = () => factory?.({ sessionKey: "agent:main:fuzz" }) as HostTool;
  return { tool, logs };
}

let fileCounter = 0;

describe("leak fuzzing (fast-check)", () => {
  let dir: string;
  /** The state each scenario ends in with an ordinary key, and its total backoff (to pick CLI scenarios). */
  const baseline = new Map<string, { state: string; slept: number }>();
  const cliExit = new Map<string, number>();
  const counts = { session: 0, turns: 0, cli: 0, openclaw: 0, refused: 0 };
  /** Scenarios that end without a real wait: the CLI and the OpenClaw tool sleep on the system clock. */
  // The CLI and the tool run on virtual clocks too, so only slow-headers (a real 5 s server delay) is left out;
  // the tool ends a call at a wait longer than 15 s (and is resumed later), so it takes the scenarios whose
  // waits fit in one call, to compare its end state with the session's.
  const cliScenariosOf = () => SCENARIOS.filter((s) => s !== "slow-headers");
  const unhurried = () => cliScenariosOf().filter((s) => (baseline.get(s)?.slept ?? 0) <= 15_000);
  const started = performance.now();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-fuzz-"));
    const key = "sk-fuzz-baseline-5b1e07c2";
    for (const scenario of SCENARIOS) {
      const sim = await startSimulator({ scenario, acceptKeys: [key] });
      const clock = createVirtualClock();
      const session = createSession({
        config: configFor(scenario, sim.baseUrl, join(dir, "baseline.json")),
        sources: { env: { TOKENHUB_API_KEY: key }, keychain: false },
        clock,
        logger: memoryLogger().logger,
      });
      session.send({ type: "SETUP" });
      const state = await session.untilRest();
      await session.stop();
      await sim.close();
      baseline.set(scenario, { state, slept: clock.sleeps.reduce((a, b) => a + b, 0) });
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `leak fuzzing: ${counts.session} session+runTurn runs (${counts.turns} turns) over ${SCENARIOS.length} scenarios, ` +
        `${counts.cli} CLI runs over ${cliExit.size} scenarios, ${counts.openclaw} OpenClaw tool runs over ` +
        `${unhurried().length} scenarios, ${counts.refused} refused keys; ${seconds} s`,
    );
  });

  describe(`session and runTurn, ${perScenario} keys per scenario`, () => {
    for (const scenario of SCENARIOS) {
      it(scenario, async () => {
        await fc.assert(
          fc.asyncProperty(keyArb, async (key) => {
            try {
              await sessionAndTurns(key, scenario);
            } finally {
              forgetSecret(key);
            }
          }),
          { numRuns: perScenario, ...SEED },
        );
      });
    }
  });

  async function sessionAndTurns(key: string, scenario: string): Promise<void> {
    counts.session++;
    const channels: Channel[] = [];
    const { logger, lines } = memoryLogger();
    const sim = await startSimulator({ scenario, acceptKeys: [key] });
    const clock = createVirtualClock();
    const livePath = join(dir, `live-${++fileCounter}.json`);
    const turnsPath = join(dir, `turns-${fileCounter}.json`);
    try {
      // The live session, key from the environment.
      const session = createSession({
        config: configFor(scenario, sim.baseUrl, livePath),
        sources: { env: { TOKENHUB_API_KEY: key }, keychain: false },
        clock,
        logger,
      });
      const seen: Notification[] = [];
      session.subscribe((n) => seen.push(n));
      session.send({ type: "SETUP" });
      const state = await session.untilRest();
      // The key arrived intact: the simulator accepts only this exact key.
      assert.equal(state, baseline.get(scenario)?.state, "ends as it does with an ordinary key");
      channels.push(
        ["notifications", JSON.stringify(seen)],
        ["inspect(notifications)", inspected(seen)],
        ["snapshot", JSON.stringify(session.snapshot())],
        ["inspect(snapshot)", inspected(session.snapshot())],
        ["inspect(session)", inspected(session)],
      );
      if (FINAL.has(state)) {
        const output = await session.done();
        channels.push(["output", JSON.stringify(output)], ["inspect(output)", inspected(output)]);
      }
      // Errors with the key nearby: an event that is not in the contract, snapshots that are not ours.
      channels.push(
        ...(await thrownBy("invalid event", () =>
          session.send({ type: "KEY_PROVIDED", key, extra: key } as never),
        )),
      );
      await session.stop();
      const sources = { env: { TOKENHUB_API_KEY: key }, keychain: false as const };
      channels.push(
        ...(await thrownBy("foreign snapshot", () =>
          createSession({ snapshot: { format: "tokenhub-setup.snapshot", key }, sources, logger }),
        )),
        ...(await thrownBy("snapshot that is not JSON", () =>
          createSession({ snapshot: notJson(key), sources, logger }),
        )),
      );
      assert.ok(sim.requests.length > 0 || state === "awaitingKey");
      for (const r of sim.requests) {
        // The API gets the key in its header; a media host gets no credential at all.
        assert.equal(r.authorization, r.path.startsWith("/media/") ? "absent" : "present", r.path);
        assert.deepEqual(r.keyLeaks, [], "the key only in the Authorization header");
      }
      channels.push(...(await fileText(livePath)));

      // runTurn: no key, then the key handed over; every snapshot through JSON; long waits end the turn, so a
      // restored backoff finds the handed-over key gone (Step-2, lost) and the host hands it over again.
      sim.reset();
      const common = {
        config: configFor(scenario, sim.baseUrl, turnsPath),
        sources: { env: {}, keychain: false as const },
        clock,
        logger,
        maxWaitMs: 0,
      };
      const turns: TurnResult[] = [await runTurn({ ...common, event: { type: "SETUP" } })];
      for (let i = 0; i < 12; i++) {
        const last = turns.at(-1) as TurnResult;
        if (FINAL.has(last.state)) break;
        const needKey = last.notifications.filter((n) => n.type === "needKey").at(-1);
        if (last.state === "awaitingKey" && needKey?.type === "needKey" && needKey.reason === "rejected")
          break;
        const event = last.state === "awaitingKey" ? { type: "KEY_PROVIDED" as const, key } : undefined;
        turns.push(
          await runTurn({ ...common, snapshot: JSON.stringify(last.snapshot), ...(event ? { event } : {}) }),
        );
      }
      counts.turns += turns.length;
      assert.ok(turns.length >= 2, "the key was handed over at least once");
      for (const [i, turn] of turns.entries()) {
        channels.push([`turn ${i}`, JSON.stringify(turn)], [`inspect(turn ${i})`, inspected(turn)]);
      }
      channels.push(...(await fileText(turnsPath)));
    } catch (err) {
      // A failure is reported with the key in it; make sure it is not also a leak first.
      assertNoLeak(key, [...channels, ...errorChannels("unexpected error", err), ["logs", lines.join("")]]);
      throw err;
    } finally {
      await sim.close();
    }
    channels.push(["logs", lines.join("")]);
    assert.ok(lines.length > 0, "trace logs were written");
    assertNoLeak(key, channels);
  }

  describe("the CLI, in-process", () => {
    let cliScenarios: string[] = [];
    before(async () => {
      cliScenarios = cliScenariosOf();
      for (const scenario of cliScenarios) {
        cliExit.set(scenario, (await cli("sk-fuzz-baseline-5b1e07c2", scenario)).code);
      }
    });

    it("every channel, over the scenarios that do not wait", async () => {
      const runs = Math.max(25, Math.ceil(FUZZ_RUNS / 4));
      const each = Math.max(1, Math.ceil(runs / cliScenarios.length));
      for (const scenario of cliScenarios) {
        await fc.assert(
          fc.asyncProperty(keyArb, async (key) => {
            try {
              counts.cli++;
              const run = await cli(key, scenario);
              assert.equal(run.code, cliExit.get(scenario), `exit code for ${scenario}`);
              assert.ok(run.logs.length > 0, "--verbose logs were written");
              assertNoLeak(key, run.channels);
            } finally {
              forgetSecret(key);
            }
          }),
          { numRuns: each, ...SEED },
        );
      }
      assert.ok(counts.cli >= 25);
    });
  });

  async function cli(key: string, scenario: string) {
    const sim = await startSimulator({ scenario, acceptKeys: [key] });
    const stdout = collector();
    const stderr = collector();
    const statusFile = join(dir, `cli-${++fileCounter}.json`);
    const args = ["--base-url", sim.baseUrl, "--json", "--verbose", "--status-file", statusFile];
    args.push("--multimodal", "image,video", "--output-dir", join(dir, "cli-media"));
    if (scenario.startsWith("stream")) args.push("--stream");
    const channels: Channel[] = [];
    let code = -1;
    let logs = "";
    try {
      // --verbose sends the (scrubbed) pino lines to io.stderr, beside the human text.
      code = await runCli(args, {
        stdout: stdout.stream,
        stderr: stderr.stream,
        env: { TOKENHUB_API_KEY: key, HOME: dir, PATH: process.env.PATH },
        clock: createVirtualClock(),
      });
      logs = stderr
        .text()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .join("\n");
    } catch (err) {
      channels.push(...errorChannels("runCli threw", err));
    } finally {
      await sim.close();
    }
    channels.push(["stdout", stdout.text()], ["stderr", stderr.text()], ...(await fileText(statusFile)));
    return { code, logs, channels };
  }

  describe("the OpenClaw tool (fake host)", () => {
    const savedEnv = process.env.TOKENHUB_API_KEY;
    before(() => {
      // The plugin reads process.env as a key source; the key must come from the SecretRef here.
      delete process.env.TOKENHUB_API_KEY;
    });
    after(() => {
      if (savedEnv !== undefined) process.env.TOKENHUB_API_KEY = savedEnv;
    });

    it("start without a key, resume once it is a secret (SecretRef or plain text), wire, status", async () => {
      const scenarios = unhurried();
      const each = Math.max(1, Math.ceil(Math.max(25, Math.ceil(FUZZ_RUNS / 4)) / scenarios.length));
      for (const scenario of scenarios) {
        await fc.assert(
          fc.asyncProperty(keyArb, fc.boolean(), async (key, plainText) => {
            try {
              counts.openclaw++;
              await openclawRun(key, scenario, plainText);
            } finally {
              forgetSecret(key);
            }
          }),
          { numRuns: each, ...SEED },
        );
      }
      assert.ok(counts.openclaw >= 25);
    });
  });

  async function openclawRun(key: string, scenario: string, plainText: boolean): Promise<void> {
    const sim = await startSimulator({ scenario, acceptKeys: [key] });
    const stateDir = join(dir, `openclaw-${++fileCounter}`);
    const config = {
      baseUrl: sim.baseUrl,
      logLevel: "trace",
      multimodal: MEDIA,
      ...(scenario.startsWith("stream") ? { stream: true } : {}),
    };
    const apiKey = plainText ? key : { source: "env", provider: "default", id: "FUZZ_TOKENHUB_KEY" };
    const configFile: Record<string, unknown> = {
      plugins: { entries: { "tokenhub-setup": { config: { ...config, apiKey } } } },
    };
    const channels: Channel[] = [];
    try {
      const first = openclawHost(config, stateDir, {}, {});
      const started = await first.tool().execute("call-1", { action: "start" });
      assert.equal(started.details.state, "awaitingKey");
      const host = openclawHost({ ...config, apiKey }, stateDir, { FUZZ_TOKENHUB_KEY: key }, configFile);
      const resumed = await host.tool().execute("call-2", { action: "resume", wire: true });
      assert.equal(resumed.details.state, baseline.get(scenario)?.state, resumed.content[0]?.text);
      const status = await host.tool().execute("call-3", { action: "status" });
      for (const [name, result] of [
        ["start", started],
        ["resume", resumed],
        ["status", status],
      ] as const) {
        channels.push([`tool ${name}`, JSON.stringify(result)], [`inspect(tool ${name})`, inspected(result)]);
      }
      channels.push(["host logs", [...first.logs, ...host.logs].join("\n")]);
      assert.ok(host.logs.length > 0, "trace logs reached the host logger");
      // What the plugin wrote into OpenClaw's config (the user's own apiKey entry is theirs to keep).
      channels.push(["openclaw.json models", JSON.stringify(configFile.models ?? null)]);
      channels.push(...(await filesUnder(stateDir)));
    } finally {
      await sim.close();
    }
    assertNoLeak(key, channels);
  }

  it("a snapshot text that is not JSON does not quote the key in the error's cause", async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, async (key) => {
        try {
          parseKey(key, "host"); // loaded, as a key the process uses is
          const channels = await thrownBy("snapshot that is not JSON", () =>
            createSession({ snapshot: notJson(key), sources: { env: {}, keychain: false } }),
          );
          assertNoLeak(key, channels);
        } finally {
          forgetSecret(key);
        }
      }),
      { numRuns: 25, ...SEED },
    );
  });

  it("refuses keys with whitespace, control or non-ASCII characters, and never shows them", async () => {
    await fc.assert(
      fc.asyncProperty(refusedKeyArb, async (key) => {
        counts.refused++;
        const channels: Channel[] = [];
        const { logger, lines } = memoryLogger();
        try {
          let refused: unknown;
          try {
            parseKey(key, "env");
          } catch (err) {
            refused = err;
          }
          assert.ok(refused instanceof KeyFormatError, "parseKey refuses it");
          assert.match(refused.code, /^key_(whitespace|control_chars|not_ascii)$/);
          channels.push(...errorChannels("parseKey", refused));
          // Through a session: from the environment, and handed over in KEY_PROVIDED.
          const session = createSession({
            config: { baseUrl: "http://127.0.0.1:9/v1" },
            sources: { env: { TOKENHUB_API_KEY: key }, keychain: false },
            logger,
          });
          const seen: Notification[] = [];
          session.subscribe((n) => seen.push(n));
          session.send({ type: "SETUP" });
          assert.equal(await session.untilRest(), "awaitingKey");
          session.send({ type: "KEY_PROVIDED", key });
          assert.equal(session.state, "awaitingKey", "a refused key does not move the flow");
          channels.push(
            ["notifications", JSON.stringify(seen)],
            ["inspect(notifications)", inspected(seen)],
            ["snapshot", JSON.stringify(session.snapshot())],
          );
          await session.stop();
          channels.push(["logs", lines.join("")]);
          assert.equal(seen.filter((n) => n.type === "needKey").length, 2, "both refusals were explained");
          assertNoLeak(key, channels);
        } finally {
          forgetSecret(key);
          forgetSecret(key.trim());
        }
      }),
      { numRuns: FUZZ_RUNS * 2, ...SEED },
    );
  });
});
