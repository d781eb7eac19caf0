// One distinctive key through every path of the core, and every output channel scanned for it and its
// common encodings. Zero hits is the only pass.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { inspect, promisify } from "node:util";
import { createLogger } from "../src/log.ts";
import { parseKey } from "../src/secrets/key.ts";
import { createVirtualClock } from "../src/session/clock.ts";
import { createSession } from "../src/session/session.ts";
import { runTurn } from "../src/session/turn.ts";
import { listScenarios, startSimulator } from "../src/simulator/index.ts";
import { createFileStatusStore } from "../src/status/store.ts";

// Characters that JSON, regexes, URLs and shells escape, in a key that is still a valid header value.
const KEY = `sk-LEAK_"q'\\b$(x)%2F+/=?#&;{[|]}~^*.9f2c`;

const encodings = (key: string) => [
  key,
  JSON.stringify(key).slice(1, -1),
  encodeURIComponent(key),
  Buffer.from(key).toString("base64"),
  Buffer.from(key).toString("base64url"),
  key.slice(3, -3), // a fragment long enough to be a real leak
];

function assertClean(channel: string, text: string): void {
  for (const form of encodings(KEY)) {
    assert.ok(!text.includes(form), `${channel} contains the key (as ${JSON.stringify(form.slice(0, 12))}…)`);
  }
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
      try {
        parseKey(raw, "env");
        assert.fail("should refuse");
      } catch (err) {
        messages.push(inspect(err, { depth: Number.POSITIVE_INFINITY }), String((err as Error).stack));
      }
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
      const main = new URL("../src/cli/main.ts", import.meta.url).pathname;
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [main, "--base-url", sim.baseUrl, "--json", "--verbose", "--status-file", statusFile],
        { env: { PATH: process.env.PATH, HOME: dir, TOKENHUB_API_KEY: KEY } },
      );
      assert.match(stdout, /"integration_status": "complete"/);
      assert.match(stderr, /attempt finished/, "verbose logs were on");
      assertClean("CLI stdout", stdout);
      assertClean("CLI stderr", stderr);
      assertClean("CLI status file", await readFile(statusFile, "utf8"));
      assert.deepEqual(await readdir(join(dir, "cli")), ["status.json"], "no temp files left");
    } finally {
      await sim.close();
    }
  });

  it("the file store scrubs a key that slipped into a record's notes", async () => {
    parseKey(KEY, "env"); // registers it, as loading it from any source does
    const path = join(dir, "scrubbed.json");
    await createFileStatusStore(path).write({
      integration_status: "complete",
      provider_mode: "bare",
      model: "m",
      endpoint: "https://tokenhub.link/v1/chat/completions",
      validated_at: new Date().toISOString(),
      notes: `oops ${KEY}`,
      result: {
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
