// One distinctive key through every path of the core, and every output channel scanned for it and its
// common encodings. Zero hits is the only pass.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { inspect } from "node:util";
import { KeyFormatError } from "../src/errors.ts";
import { createLogger } from "../src/log.ts";
import { parseKey } from "../src/secrets/key.ts";
import { createVirtualClock } from "../src/session/clock.ts";
import { createSession } from "../src/session/session.ts";
import { runTurn } from "../src/session/turn.ts";
import { listScenarios, startSimulator } from "../src/simulator/index.ts";
import { createFileStatusStore } from "../src/status/store.ts";
import { cli } from "./helpers/cli.ts";
import { runCliInterrupted } from "./helpers/interrupted-cli.ts";
import { findLeaks } from "./helpers/leak-scan.ts";
import { createTurnProcess } from "./helpers/turn-process.ts";

// Characters that JSON, regexes, URLs and shells escape, in a key that is still a valid header value.
const KEY = `sk-LEAK_"q'\\b$(x)%2F+/=?#&;{[|]}~^*.9f2c`;

// Every form the shared scan knows (raw, JSON-escaped once and twice, URL-encoded, base64 at any offset), and
// a fragment long enough to be a real leak.
function assertClean(channel: string, text: string): void {
  assert.deepEqual(findLeaks([KEY], [[channel, text]]), [], `${channel} contains the key`);
  assert.ok(!text.includes(KEY.slice(3, -3)), `${channel} contains a fragment of the key`);
}

// Every scenario the simulator has, so a new one is covered the day it is added. Two need their own set-up:
// a redirect target (its own test below) and a response slower than any test should wait for.
const SCENARIOS = listScenarios()
  .map((s) => s.name)
  .filter((name) => name !== "redirect" && name !== "slow-headers");

describe("the key leaks nowhere", () => {
  let dir: string;
  let logText = "";
  const logSink = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level: "trace", destination: logSink });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-leak-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const scenario of SCENARIOS) {
    it(`through the live session: ${scenario}`, async () => {
      const sim = await startSimulator({ scenario, acceptKeys: [KEY] });
      const statusPath = join(dir, `${scenario}.json`);
      const session = createSession({
        config: {
          baseUrl: sim.baseUrl,
          stream: scenario.startsWith("stream"),
          statusPath,
          // The multimodal paths too, wherever the text path passes (the files go beside the record).
          multimodal: {
            capabilities: ["image", "video"],
            outputDir: join(dir, "media"),
            maxDownloadBytes: 1024 * 1024,
            video: { deadlineMs: 60_000 },
          },
        },
        sources: { env: { TOKENHUB_API_KEY: KEY }, keychain: false },
        clock: createVirtualClock(),
        logger,
      });
      const seen: unknown[] = [];
      session.subscribe((n) => seen.push(n));
      try {
        session.send({ type: "SETUP" });
        const state = await session.untilRest();
        assert.ok(sim.requests.length > 0);
        // The API gets the key in its header only; a media host gets no credential at all.
        for (const r of sim.requests) {
          assert.equal(r.authorization, r.path.startsWith("/media/") ? "absent" : "present", r.path);
          assert.deepEqual(r.keyLeaks, [], r.path);
        }
        assertClean("notifications", JSON.stringify(seen));
        assertClean("inspect(notifications)", inspect(seen, { depth: Number.POSITIVE_INFINITY }));
        assertClean("snapshot", JSON.stringify(session.snapshot()));
        assertClean(
          "inspect(session)",
          inspect(session, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        );
        if (state !== "awaitingKey") {
          const output = await session.done();
          assertClean("output", JSON.stringify(output));
          assertClean("inspect(output)", inspect(output, { depth: Number.POSITIVE_INFINITY }));
          assertClean("status file", await readFile(statusPath, "utf8"));
        }
      } finally {
        await session.stop();
        await sim.close();
      }
      assertClean("logs", logText);
    });
  }

  it("through runTurn: key handed over in an event, backoff persisted, restored, completed", async () => {
    const sim = await startSimulator({ scenario: "server-500-then-ok", acceptKeys: [KEY] });
    const common = {
      config: { baseUrl: sim.baseUrl, statusPath: join(dir, "turns.json") },
      sources: { env: {}, keychain: false as const },
      logger,
      clock: createVirtualClock(),
    };
    try {
      const one = await runTurn({ ...common, event: { type: "SETUP" } });
      const two = await runTurn({
        ...common,
        snapshot: one.snapshot,
        event: { type: "KEY_PROVIDED", key: KEY },
        maxWaitMs: 0,
      });
      assert.equal(two.state, "backingOff");
      for (const turn of [one, two]) {
        assertClean("turn result", JSON.stringify(turn));
        assertClean("inspect(turn)", inspect(turn, { depth: Number.POSITIVE_INFINITY }));
      }
      const three = await runTurn({ ...common, snapshot: two.snapshot });
      assertClean("turn result", JSON.stringify(three));
    } finally {
      await sim.close();
    }
    assertClean("logs", logText);
  });

  it("through errors: a refused key, a refused event, a refused snapshot", async () => {
    const messages: string[] = [];
    for (const raw of [`${KEY} tail`, `${KEY}\u001b[0m`, `${KEY}é`]) {
      // assert.throws, not try/assert.fail/catch: the catch would take the "should refuse" failure for the
      // refusal, and count its two messages all the same.
      assert.throws(
        () => parseKey(raw, "env"),
        (err: Error) => {
          messages.push(inspect(err, { depth: Number.POSITIVE_INFINITY }), String(err.stack));
          return err instanceof KeyFormatError;
        },
      );
    }
    const session = createSession({ sources: { env: {}, keychain: false }, logger });
    try {
      session.send({ type: "KEY_PROVIDED", key: KEY, extra: KEY } as never);
    } catch (err) {
      messages.push(inspect(err, { depth: Number.POSITIVE_INFINITY }));
    }
    await session.stop();
    try {
      createSession({
        snapshot: { format: "tokenhub-setup.snapshot", key: KEY },
        sources: { env: {}, keychain: false },
      });
    } catch (err) {
      messages.push(inspect(err, { depth: Number.POSITIVE_INFINITY }));
    }
    assert.equal(messages.length, 8);
    assertClean("errors", messages.join("\n"));
  });

  it("through a redirect to another origin: no credential reaches it", async () => {
    const seenHeaders: string[] = [];
    const other = createServer((req, res) => {
      seenHeaders.push(JSON.stringify(req.headers));
      res.end("{}");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as AddressInfo).port;
    const sim = await startSimulator({
      scenario: "redirect",
      acceptKeys: [KEY],
      redirectTo: `http://127.0.0.1:${port}/v1/chat/completions`,
    });
    const session = createSession({
      config: { baseUrl: sim.baseUrl, statusPath: join(dir, "redirect.json") },
      sources: { env: { TOKENHUB_API_KEY: KEY }, keychain: false },
      logger,
    });
    try {
      session.send({ type: "SETUP" });
      assert.equal(await session.untilRest(), "escalated");
      assert.equal(seenHeaders.length, 0, "the redirect was not followed");
      assertClean("escalation", JSON.stringify(await session.done()));
    } finally {
      await session.stop();
      await sim.close();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("through the CLI: stdout, stderr (verbose logs) and the status file", async () => {
    const sim = await startSimulator({ scenario: "server-500-then-ok", acceptKeys: [KEY] });
    const statusFile = join(dir, "cli", "status.json");
    try {
      const { code, stdout, stderr } = await cli(
        ["--base-url", sim.baseUrl, "--json", "--verbose", "--status-file", statusFile],
        { HOME: dir, TOKENHUB_API_KEY: KEY },
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, /"integration_status": "success"/);
      assert.match(stderr, /attempt finished/, "verbose logs were on");
      assertClean("CLI stdout", stdout);
      assertClean("CLI stderr", stderr);
      assertClean("CLI status file", await readFile(statusFile, "utf8"));
      assert.deepEqual(await readdir(join(dir, "cli")), ["status.json"], "no temp files left");
    } finally {
      await sim.close();
    }
  });

  it("through cancel: mid-request, from a persisted backoff, while a video renders", async () => {
    // A live session cancelled while its request hangs (the slow-headers scenario).
    const slow = await startSimulator({ scenario: "slow-headers", acceptKeys: [KEY] });
    const session = createSession({
      config: { baseUrl: slow.baseUrl, statusPath: join(dir, "cancel-live.json") },
      sources: { env: { TOKENHUB_API_KEY: KEY }, keychain: false },
      logger,
    });
    const seen: unknown[] = [];
    session.subscribe((n) => seen.push(n));
    try {
      session.send({ type: "SETUP" });
      for (const until = Date.now() + 10_000; slow.requests.length === 0; ) {
        assert.ok(Date.now() < until, "the request reached the simulator within 10 s");
        await new Promise((r) => setTimeout(r, 5));
      }
      session.send({ type: "CANCEL", reason: "changed my mind" });
      assert.equal(await session.untilRest(), "cancelled");
      const output = await session.done();
      assertClean("cancel: notifications", JSON.stringify(seen));
      assertClean("cancel: output", inspect(output, { depth: Number.POSITIVE_INFINITY }));
      assertClean("cancel: snapshot", JSON.stringify(session.snapshot()));
      assertClean(
        "cancel: inspect(session)",
        inspect(session, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      );
    } finally {
      await session.stop();
      await slow.close();
    }

    // Turn by turn: the key handed over in an event, a backoff persisted, then CANCEL on that snapshot; and a
    // video check cancelled at its rest state, which writes the record.
    const cases: [string, Parameters<typeof runTurn>[0]["config"]][] = [
      ["server-503-always", {}],
      [
        "video-never-finishes",
        {
          multimodal: {
            capabilities: ["video"],
            outputDir: join(dir, "media"),
            video: { deadlineMs: 60_000 },
          },
        },
      ],
    ];
    for (const [scenario, config] of cases) {
      const sim = await startSimulator({ scenario, acceptKeys: [KEY] });
      const statusPath = join(dir, `cancel-${scenario}.json`);
      const common = {
        config: { baseUrl: sim.baseUrl, statusPath, ...config },
        sources: { env: {}, keychain: false as const },
        logger,
        clock: createVirtualClock(),
        maxWaitMs: 0,
      };
      try {
        const one = await runTurn({ ...common, event: { type: "KEY_PROVIDED", key: KEY } });
        assert.ok(["backingOff", "multimodal.videoWaiting"].includes(one.state), one.state);
        const two = await runTurn({
          ...common,
          snapshot: one.snapshot,
          event: { type: "CANCEL", reason: "the user is done waiting" },
        });
        assert.equal(two.state, scenario === "server-503-always" ? "cancelled" : "complete");
        for (const turn of [one, two]) {
          assertClean(`cancel ${scenario}: turn result`, JSON.stringify(turn));
          assertClean(
            `cancel ${scenario}: inspect(turn)`,
            inspect(turn, { depth: Number.POSITIVE_INFINITY }),
          );
        }
        if (two.state === "complete") {
          const record = await readFile(statusPath, "utf8");
          assert.match(record, /"status": "cancelled"/);
          assertClean(`cancel ${scenario}: status file`, record);
        }
      } finally {
        await sim.close();
      }
    }

    // The CLI interrupted with Ctrl-C (SIGINT) while the request hangs, with verbose logs on.
    const cli = await startSimulator({ scenario: "slow-headers", acceptKeys: [KEY] });
    try {
      const { code, stdout, stderr } = await runCliInterrupted(
        ["--base-url", cli.baseUrl, "--json", "--verbose", "--status-file", join(dir, "cli-cancel.json")],
        { HOME: dir, TOKENHUB_API_KEY: KEY },
        "[3/5]",
      );
      assert.equal(code, 130, stderr);
      assertClean("CLI cancel: stdout", stdout);
      assertClean("CLI cancel: stderr", stderr);
    } finally {
      await cli.close();
    }
    assertClean("logs", logText);
  });

  it("through a refused http: base URL: refused before any key source is read; the error and the CLI's output", async () => {
    const messages: string[] = [];
    const reads: string[] = [];
    // An environment that notes every read of the key variable.
    const env = new Proxy({ TOKENHUB_API_KEY: KEY } as Record<string, string>, {
      get(target, name) {
        if (name === "TOKENHUB_API_KEY") reads.push("env");
        return target[name as string];
      },
    });
    try {
      createSession({
        config: { baseUrl: "http://tokenhub.link/v1" },
        sources: {
          env,
          hostSecret: () => {
            reads.push("host");
            return KEY;
          },
          keychain: false,
        },
        logger,
      });
      assert.fail("should refuse");
    } catch (err) {
      assert.equal((err as { code?: string }).code, "insecure_base_url");
      messages.push(inspect(err, { depth: Number.POSITIVE_INFINITY }), String((err as Error).stack));
    }
    assert.deepEqual(reads, [], "no key source was read");
    assertClean("insecure base URL error", messages.join("\n"));
    const r = await cli(["--base-url", "http://tokenhub.link/v1", "--json", "--verbose"], {
      HOME: dir,
      TOKENHUB_API_KEY: KEY,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /https/);
    assertClean("CLI insecure URL: stdout", r.stdout);
    assertClean("CLI insecure URL: stderr", r.stderr);
    assertClean("logs", logText);
  });

  it("through a new process: a snapshot left at awaitingKey, resumed where the key is set", async () => {
    const sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
    const statusPath = join(dir, "process-status.json");
    // Everything a turn returns goes to stdout, and debug logs to stderr, so both are scanned.
    const { turn, snapshotPath } = await createTurnProcess({
      dir,
      baseUrl: sim.baseUrl,
      statusPath,
      logLevel: "debug",
    });
    try {
      const one = await turn({ type: "SETUP" });
      assert.equal(JSON.parse(one.stdout).state, "awaitingKey");
      const two = await turn({ type: "KEY_READY" }, { TOKENHUB_API_KEY: KEY });
      assert.equal(JSON.parse(two.stdout).state, "complete");
      assert.match(two.stderr, /"msg":"transition"/, "debug logs were on");
      for (const [name, out] of [
        ["first process", one],
        ["second process", two],
      ] as const) {
        assertClean(`${name}: stdout`, out.stdout);
        assertClean(`${name}: stderr`, out.stderr);
      }
      assertClean("snapshot file", await readFile(snapshotPath, "utf8"));
      assertClean("status file", await readFile(statusPath, "utf8"));
    } finally {
      await sim.close();
    }
  });

  it("the file store scrubs a key that slipped into a record's notes", async () => {
    parseKey(KEY, "env"); // registers it, as loading it from any source does
    const path = join(dir, "scrubbed.json");
    await createFileStatusStore(path).write({
      integration_status: "success",
      provider_mode: "platform-routing",
      model: "m",
      endpoint: "POST /v1/chat/completions",
      validated_at: new Date().toISOString(),
      notes: `oops ${KEY}`,
      result: {
        base_url: "https://tokenhub.link/v1",
        attempted_at: new Date().toISOString(),
        notices: [`noticed ${KEY}`],
        request_ids: [],
        http_status: 200,
        model_served: "m",
        response_id: "x",
        latency_ms: 1,
        attempts: 1,
        fallbacks_used: [],
        key_source: "env",
        streamed: false,
        reply_preview: "OK",
      },
    });
    assertClean("status file", await readFile(path, "utf8"));
  });
});
