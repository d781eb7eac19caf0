// The statechart alone, with every effect faked through machine.provide(): fast, and about the chart's own rules.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, fromPromise, toPromise, waitFor } from "xstate";
import { setupMachine } from "../../src/machine/chart.ts";
import type { Settings } from "../../src/machine/context.ts";
import type {
  ProbeInput,
  ProbeOutput,
  RecordRejectionInput,
  RecordRejectionOutput,
  ResolveKeyOutput,
  WriteStatusInput,
} from "../../src/machine/effects.ts";
import type { Notification } from "../../src/schema/host.ts";
import type { Outcome } from "../../src/tokenhub/classify.ts";

const settings: Settings = {
  modelChain: ["deepseek-v3.2", "alibaba/deepseek-v3.2"],
  stream: false,
  retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 8000, jitter: 0.2, serverDelayCapMs: 60_000 },
  totalMs: 300_000,
  baseUrl: "https://tokenhub.link/v1",
  consoleUrl: "https://console.example",
  contactUrl: "https://support.example",
  multimodal: {
    capabilities: [],
    imageModel: "wanx2.1-t2i-turbo",
    videoModel: "wan2.6-t2v",
    pollIntervalMs: 12_000,
    deadlineMs: 600_000,
  },
};
const ok: Outcome = {
  status: 200,
  requestId: "r1",
  latencyMs: 5,
  message: "ok",
  kind: "ok",
  id: "c1",
  model: "m",
  content: "OK",
  streamed: false,
};
const unauthorized: Outcome = {
  status: 401,
  requestId: "r0",
  latencyMs: 5,
  message: "bad key",
  kind: "unauthorized",
};

function harness(outcomes: Outcome[], keys: ResolveKeyOutput[]) {
  const probes: ProbeInput[] = [];
  const sleeps: number[] = [];
  let aborted = false;
  const machine = setupMachine.provide({
    actors: {
      resolveKey: fromPromise(
        async () => keys.shift() ?? { found: false, sawRejected: false, notices: [], at: 0 },
      ),
      probe: fromPromise<ProbeOutput, ProbeInput>(async ({ input, signal }) => {
        probes.push(input);
        const outcome = outcomes.shift();
        if (!outcome) {
          // Hang until aborted: lets a test cancel mid-request.
          await new Promise((_, reject) =>
            signal.addEventListener("abort", () => {
              aborted = true;
              reject(signal.reason);
            }),
          );
        }
        return { outcome: outcome as Outcome, at: 1000 };
      }),
      sleep: fromPromise(async ({ input }) => void sleeps.push((input as { until: number }).until)),
      writeStatus: fromPromise(async ({ input }) => ({
        record: (input as WriteStatusInput).record,
        at: 2000,
      })),
      recordRejection: fromPromise<RecordRejectionOutput, RecordRejectionInput>(async () => ({
        otherKeys: [],
        notice: null,
        at: 1500,
      })),
    },
  });
  const actor = createActor(machine, { input: { settings } });
  const emitted: Notification[] = [];
  actor.on("*", (e) => emitted.push(e as Notification));
  actor.start();
  return { actor, probes, sleeps, emitted, aborted: () => aborted };
}

const found = (fingerprint: string): ResolveKeyOutput => ({
  found: true,
  source: "env",
  fingerprint,
  hint: `sk-…${fingerprint.slice(-4)}`,
  notices: [],
  at: 0,
});

describe("setup machine (effects faked)", () => {
  it("goes idle -> resolvingKey -> requesting -> validating -> writingStatus -> complete", async () => {
    const h = harness([ok], [found("aaa")]);
    h.actor.send({ type: "SETUP", at: 0, seed: 1 });
    const output = await toPromise(h.actor);
    assert.equal(output.status, "complete");
    assert.equal(h.probes.length, 1);
    assert.deepEqual(
      h.emitted.map((n) => (n.type === "progress" ? n.step : n.type)),
      [1, 3, 4, 5, "completed"],
    );
  });

  it("on 401 remembers the key's fingerprint, asks again, and never carries the key in context", async () => {
    const h = harness(
      [unauthorized, ok],
      [found("bad"), { found: false, sawRejected: true, notices: [], at: 0 }, found("good")],
    );
    h.actor.send({ type: "SETUP", at: 0, seed: 1 });
    await waitFor(h.actor, (s) => s.matches("awaitingKey"));
    assert.deepEqual(h.actor.getSnapshot().context.key.rejected, ["bad"]);
    const needKey = h.emitted.find((n) => n.type === "needKey");
    assert.ok(needKey?.type === "needKey" && needKey.reason === "rejected");
    h.actor.send({ type: "KEY_READY", at: 10, seed: 2 });
    await waitFor(
      h.actor,
      (s) => s.matches("awaitingKey") && h.emitted.filter((n) => n.type === "needKey").length === 2,
    );
    h.actor.send({ type: "KEY_PROVIDED", at: 20, seed: 3, remember: true });
    const output = await toPromise(h.actor);
    assert.equal(output.status, "complete");
    assert.equal(h.actor.getSnapshot().context.key.remember, true);
    assert.deepEqual(
      h.probes.map((p) => p.keyFingerprint),
      ["bad", "good"],
    );
  });

  it("CANCEL while requesting aborts the request through the actor's signal", async () => {
    const h = harness([], [found("aaa")]);
    h.actor.send({ type: "SETUP", at: 0, seed: 1 });
    await waitFor(h.actor, (s) => s.matches("requesting"));
    h.actor.send({ type: "CANCEL", at: 5, reason: "stop" });
    const output = await toPromise(h.actor);
    assert.equal(output.status, "cancelled");
    assert.equal(output.status === "cancelled" && output.reason, "stop");
    // Stopped mid-check: the record it leaves says so.
    assert.equal(output.status === "cancelled" && output.record?.failure?.code, "cancelled");
    assert.equal(h.aborted(), true);
  });

  it("sleeps until an absolute retryAt computed from the outcome's time", async () => {
    const busy: Outcome = {
      status: 429,
      requestId: null,
      latencyMs: 1,
      message: "slow down",
      kind: "retryable",
      reason: "rate_limited",
      retryAfterMs: 1500,
    };
    const h = harness([busy, ok], [found("aaa")]);
    h.actor.send({ type: "SETUP", at: 0, seed: 1 });
    await toPromise(h.actor);
    assert.deepEqual(h.sleeps, [1000 + 1500]);
  });
});
