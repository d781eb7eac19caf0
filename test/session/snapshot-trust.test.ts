// A stored snapshot is untrusted input: whatever a host's storage hands back, the restore takes its settings
// from the current config, refuses what does not fit, and returns (or throws a SnapshotError) in bounded time.
// Each case below failed before: a stored maxAttempts of 25 made 25 requests, a stored base URL named another
// origin in the record, a final state without its record "completed" without a request, a final state marked
// active or a foreign child actor hung or threw a raw TypeError, deep nesting threw a RangeError.
//
// SNAPSHOT_RUNS sets the number of mutated snapshots (default 150); FUZZ_SEED replays a run.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { TokenHubSetupError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import type { HostEvent } from "../../src/schema/host.ts";
import type { SnapshotEnvelope } from "../../src/schema/snapshot.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { runTurn, type TurnResult } from "../../src/session/turn.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";

const RUNS = Number(process.env.SNAPSHOT_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
/** The video checks save files: into a temp folder, never the machine's state folder. */
const MEDIA_DIR = mkdtempSync(join(tmpdir(), "snapshot-trust-media-"));
after(() => rmSync(MEDIA_DIR, { recursive: true, force: true }));
const KEY = "sk-snapshot-trust-4b9d2e7f10";
const TURN_LIMIT_MS = 10_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

describe("stored snapshots are untrusted", () => {
  let sim: Simulator;
  let other: Simulator;
  const options = (baseUrl = sim.baseUrl, multimodal = false) => ({
    config: {
      baseUrl,
      ...(multimodal
        ? {
            multimodal: {
              capabilities: ["video" as const],
              video: { pollIntervalMs: 60_000 },
              outputDir: MEDIA_DIR,
            },
          }
        : {}),
    },
    sources: { env: { TOKENHUB_API_KEY: KEY } as Record<string, string>, keychain: false as const },
    store: createMemoryStatusStore(),
    clock: createVirtualClock(),
    logger: silentLogger(),
  });
  /** A turn that must end in bounded time, whatever the snapshot. */
  const turn = (
    event: HostEvent,
    snapshot: unknown,
    opts = options(),
    maxWaitMs = 30_000,
  ): Promise<TurnResult> =>
    Promise.race([
      runTurn({ event, snapshot, maxWaitMs, ...opts }),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`runTurn did not return in ${TURN_LIMIT_MS} ms`)),
          TURN_LIMIT_MS,
        ).unref(),
      ),
    ]);
  const clone = (envelope: SnapshotEnvelope) =>
    JSON.parse(JSON.stringify(envelope)) as Json & Record<string, Json>;
  const ctx = (envelope: Record<string, Json>) =>
    (envelope.snapshot as Record<string, Json>).context as Record<string, Json> & {
      settings: Record<string, Json>;
    };

  /** The multimodal checks' own context, stored under the chart's snapshot while the checks run. */
  const checks = (envelope: Record<string, Json>) => {
    type Stored = { children: { media: { snapshot: { context: Record<string, Json> } } } };
    return (envelope.snapshot as unknown as Stored).children.media.snapshot.context;
  };

  let backingOff: SnapshotEnvelope;
  let complete: SnapshotEnvelope;
  let awaiting: SnapshotEnvelope;
  let videoWaiting: SnapshotEnvelope;

  before(async () => {
    sim = await startSimulator({ scenario: "happy" });
    other = await startSimulator({ scenario: "happy" });
    sim.useScenario("server-503-always");
    backingOff = (await turn({ type: "SETUP" }, undefined, options(), 0)).snapshot;
    assert.equal(backingOff.state, "backingOff");
    sim.useScenario("happy");
    complete = (await turn({ type: "SETUP" }, undefined)).snapshot;
    assert.equal(complete.state, "complete");
    awaiting = (
      await turn({ type: "SETUP" }, undefined, { ...options(), sources: { env: {}, keychain: false } })
    ).snapshot;
    assert.equal(awaiting.state, "awaitingKey");
    videoWaiting = (await turn({ type: "SETUP" }, undefined, options(sim.baseUrl, true), 0)).snapshot;
    assert.equal(videoWaiting.state, "multimodal.videoWaiting");
  });
  after(async () => {
    await sim.close();
    await other.close();
  });

  it("settings come from the current config: a stored maxAttempts of 25 still means 3 attempts", async () => {
    const tampered = clone(backingOff);
    (ctx(tampered).settings.retry as Record<string, Json>).maxAttempts = 25;
    sim.useScenario("server-503-always");
    sim.reset();
    const result = await turn({ type: "KEY_READY" }, tampered);
    assert.equal(result.state, "escalated");
    assert.equal(sim.requests.length, 2, "the two attempts left of 3 (one was made before the snapshot)");
    sim.useScenario("happy");
  });

  it("a snapshot made for another base URL is refused and the setup starts again where the config points", async () => {
    const tampered = clone(complete);
    ctx(tampered).settings.baseUrl = other.baseUrl;
    sim.reset();
    const result = await turn({ type: "SETUP" }, tampered);
    assert.equal(result.refusedSnapshot?.code, "snapshot_config_changed");
    assert.equal(result.state, "complete");
    assert.equal(other.requests.length, 0);
    const record = result.output?.status === "complete" ? result.output.record : undefined;
    assert.equal(record?.result.base_url, sim.baseUrl, "the record names the origin the request went to");
  });

  it("a final state without its record, or marked active, is not a completion", async () => {
    for (const tamper of [
      (e: Record<string, Json>) => {
        ctx(e).record = null;
      },
      (e: Record<string, Json>) => {
        (e.snapshot as Record<string, Json>).status = "active";
      },
    ]) {
      const tampered = clone(complete);
      tamper(tampered);
      sim.reset();
      const result = await turn({ type: "SETUP" }, tampered);
      assert.equal(result.state, "complete");
      const record = result.output?.status === "complete" ? result.output.record : undefined;
      assert.ok(record, "a completion always carries its record");
      if (result.refusedSnapshot)
        assert.equal(sim.requests.length, 1, "a refused one starts again, with a request");
    }
  });

  it("a completion whose record failed, lacks a field or sits beside a failure is refused (its record checked once, on opening)", async () => {
    const failure = { code: "retries_exhausted", message: "m", remedy: "r" };
    for (const tamper of [
      (e: Record<string, Json>) => {
        (ctx(e).record as Record<string, Json>).integration_status = "failed";
      },
      (e: Record<string, Json>) => {
        delete (ctx(e).record as Record<string, Json>).model;
      },
      (e: Record<string, Json>) => {
        ctx(e).failure = failure;
      },
      (e: Record<string, Json>) => {
        e.state = "escalated";
        (e.snapshot as Record<string, Json>).value = "escalated";
      },
    ]) {
      const tampered = clone(complete);
      tamper(tampered);
      sim.reset();
      const result = await turn({ type: "SETUP" }, tampered);
      assert.equal(result.refusedSnapshot?.code, "snapshot_corrupt", JSON.stringify(result.refusedSnapshot));
      assert.equal(result.state, "complete");
      assert.equal(sim.requests.length, 1, "a refused one starts again, with a request");
    }
  });

  it("a foreign child actor in a waiting state is not run; a video wait without its settings takes the config's", async () => {
    const tampered = clone(backingOff);
    const snapshot = tampered.snapshot as Record<string, Json>;
    snapshot.children = {
      "0.tokenhubSetup.backingOff": {
        snapshot: { status: "active", input: { until: 0 } },
        src: "probe",
        syncSnapshot: false,
      },
      intruder: { snapshot: { status: "active", input: {} }, src: "writeStatus", syncSnapshot: false },
    };
    sim.useScenario("happy");
    sim.reset();
    const result = await turn({ type: "KEY_READY" }, tampered);
    assert.equal(result.state, "complete");
    assert.equal(sim.requests.length, 1, "one attempt after the wait, nothing from the intruders");

    const video = clone(videoWaiting);
    delete (ctx(video).settings as Record<string, Json>).multimodal;
    const resumed = await turn({ type: "KEY_READY" }, video, options(sim.baseUrl, true));
    assert.ok(["complete", "multimodal.videoWaiting"].includes(resumed.state), resumed.state);
  });

  it("the checks' machine stored under a state that does not run it, or with a check never asked for, is refused before any request", async () => {
    const moved = (value: string, extra: Record<string, Json> = {}) => {
      const e = clone(videoWaiting);
      (e.snapshot as Record<string, Json>).value = value;
      e.state = `${value}.videoWaiting`;
      Object.assign(ctx(e), extra);
      return e;
    };
    const backoff = moved("backingOff");
    (ctx(backoff).run as Record<string, Json>).retryAt = (ctx(backoff).now as number) + 1_000;
    const forged = clone(videoWaiting);
    checks(forged).checks = {
      image: { status: "ok", model: "m", task_id: null, file: "/etc/passwd", bytes: 1, mime: "image/png" },
    } as Json;
    (checks(forged).checks as Record<string, Record<string, Json>>).image = {
      ...(checks(forged).checks as Record<string, Record<string, Json>>).image,
      sha256: "0",
      duration_ms: 1,
      finished_at: new Date().toISOString(),
    };
    for (const [name, snapshot] of [
      ["idle", moved("idle")],
      ["awaitingKey", moved("awaitingKey")],
      ["complete", moved("complete")],
      ["backingOff", backoff],
      ["a forged image check", forged],
    ] as const) {
      sim.reset();
      const result = await turn({ type: "KEY_READY" }, snapshot, options(sim.baseUrl, true), 0);
      assert.equal(
        result.refusedSnapshot?.code,
        "snapshot_corrupt",
        `${name}: ${JSON.stringify(result.refusedSnapshot)}`,
      );
      assert.equal(
        sim.requests.filter((r) => r.path.startsWith("/v1/video/tasks/")).length,
        0,
        `${name}: no poll of the stored task`,
      );
    }
  });

  it("times out of range are refused: a task created in the far future (polled without end), -1e16 (RangeError)", async () => {
    const future = clone(videoWaiting);
    (checks(future).task as Record<string, Json>).createdAt = 1e15;
    const negative = clone(backingOff);
    (ctx(negative).run as Record<string, Json>).retryAt = -1e16;
    const farPoll = clone(videoWaiting);
    (checks(farPoll).task as Record<string, Json>).pollAt = -1e300;
    for (const [snapshot, opts] of [
      [future, options(sim.baseUrl, true)],
      [negative, options()],
      [farPoll, options(sim.baseUrl, true)],
    ] as const) {
      const result = await turn({ type: "KEY_READY" }, snapshot, opts);
      assert.equal(result.refusedSnapshot?.code, "snapshot_corrupt", JSON.stringify(result.refusedSnapshot));
    }
  });

  it("deep nesting, a huge snapshot and non-JSON values are refused as corrupt, never a RangeError", async () => {
    let deep: Json = "x";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const nested = clone(awaiting);
    ctx(nested).notices = [deep];
    const huge = clone(awaiting);
    ctx(huge).notices = ["x".repeat(2 * 1024 * 1024)];
    const textDeep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    const bigint = { ...(clone(awaiting) as Record<string, unknown>), savedAt: 10n };
    for (const snapshot of [nested, huge, textDeep, bigint]) {
      const result = await turn({ type: "SETUP" }, snapshot);
      assert.equal(result.refusedSnapshot?.code, "snapshot_corrupt", JSON.stringify(result.refusedSnapshot));
      assert.equal(result.state, "complete");
    }
  });

  it(`any mutation of a real snapshot: runTurn returns, or throws a typed error, within ${TURN_LIMIT_MS} ms (${RUNS} cases)`, async () => {
    const envelopes = () => [backingOff, complete, awaiting, videoWaiting];
    const paths = (value: Json, prefix: string[] = []): string[][] => {
      if (value === null || typeof value !== "object") return [prefix];
      const entries = Array.isArray(value)
        ? value.map((v, i) => [String(i), v] as const)
        : Object.entries(value);
      return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
    };
    const mutation = fc.record({
      which: fc.integer({ min: 0, max: 3 }),
      pick: fc.nat(),
      replacement: fc.oneof(
        fc.jsonValue({ maxDepth: 3 }),
        fc.constantFrom(null, -1, 0, 1e308, "", "complete", "done", [], {}, "sleep", "probe"),
      ),
      remove: fc.boolean(),
      event: fc.constantFrom<HostEvent>({ type: "SETUP" }, { type: "KEY_READY" }, { type: "CANCEL" }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ which, pick, replacement, remove, event }) => {
        const envelope = clone(envelopes()[which] as SnapshotEnvelope);
        const all = paths(envelope).filter((p) => p.length > 0);
        const path = all[pick % all.length] as string[];
        let parent = envelope as Record<string, Json>;
        for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, Json>;
        const last = path.at(-1) as string;
        if (remove && !Array.isArray(parent)) delete parent[last];
        else parent[last] = replacement as Json;
        const opts = options(sim.baseUrl, which === 3);
        try {
          const result = await turn(event, envelope, opts);
          assert.equal(typeof result.state, "string");
        } catch (err) {
          assert.ok(err instanceof TokenHubSetupError, `${path.join(".")}: ${String(err)}`);
        }
      }),
      { numRuns: RUNS, ...SEED },
    );
  });
});
