import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  backoffDelay,
  decide,
  jitterSample,
  nextModelIndex,
  type Policy,
  providerModeOf,
} from "../../src/machine/policy.ts";
import { RetrySchema } from "../../src/schema/config.ts";
import type { Outcome } from "../../src/tokenhub/classify.ts";

const retry = RetrySchema.parse({});
const policy: Policy = {
  modelChain: ["deepseek-v3.2", "alibaba/deepseek-v3.2", "plan-x"],
  retry,
  totalMs: 300_000,
};
const base = { status: 503, requestId: "r", latencyMs: 1, message: "m" };
const retryable = (retryAfterMs: number | null): Outcome => ({
  ...base,
  kind: "retryable",
  reason: "server_error",
  retryAfterMs,
});
const facts = { attempt: 1, modelIndex: 0, now: 1_000_000, startedAt: 1_000_000, seed: 42 };

describe("policy", () => {
  it("doubles the delay from the base, caps it, and jitters within ±jitter", () => {
    assert.equal(backoffDelay(retry, 1, 0.5), 1000);
    assert.equal(backoffDelay(retry, 2, 0.5), 2000);
    assert.equal(backoffDelay(retry, 3, 0.5), 4000);
    assert.equal(backoffDelay(retry, 10, 0.5), 8000, "capped at maxDelayMs");
    assert.equal(backoffDelay(retry, 1, 0), 800);
    assert.equal(backoffDelay(retry, 1, 0.999_999), 1200);
  });

  it("draws jitter deterministically in [0, 1) from seed and attempt", () => {
    const samples = Array.from({ length: 1000 }, (_, i) => jitterSample(i * 7919, i % 3));
    assert.ok(samples.every((s) => s >= 0 && s < 1));
    assert.ok(new Set(samples).size > 990, "samples vary");
    assert.equal(jitterSample(5, 1), jitterSample(5, 1));
    assert.notEqual(jitterSample(5, 1), jitterSample(5, 2));
  });

  it("retries with the computed backoff when the server names no delay", () => {
    const d = decide(policy, retryable(null), facts);
    assert.equal(d.next, "retry");
    assert.ok(
      d.next === "retry" && d.delayMs >= 800 && d.delayMs <= 1200 && d.retryAt === facts.now + d.delayMs,
    );
  });

  it("honours the server's delay up to the cap, including zero", () => {
    for (const ms of [0, 1500, 60_000]) {
      const d = decide(policy, retryable(ms), facts);
      assert.ok(d.next === "retry" && d.delayMs === ms, `${ms}`);
    }
  });

  it("escalates with a retryAt beyond the cap instead of sleeping, even for absurd delays", () => {
    for (const ms of [60_001, 3_600_000, Number.MAX_SAFE_INTEGER]) {
      const d = decide(policy, retryable(ms), facts);
      assert.ok(d.next === "fail" && d.failure.code === "server_delay_too_long");
      assert.ok(d.failure.retryAt && !Number.isNaN(Date.parse(d.failure.retryAt)));
    }
  });

  it("gives up after maxAttempts attempts on a model", () => {
    const d = decide(policy, retryable(null), { ...facts, attempt: 3 });
    assert.ok(d.next === "fail" && d.failure.code === "retries_exhausted");
    const two = decide({ ...policy, retry: { ...retry, maxAttempts: 2 } }, retryable(null), {
      ...facts,
      attempt: 2,
    });
    assert.ok(two.next === "fail");
    assert.match(d.next === "fail" ? d.failure.message : "", /failed 3 attempts in a row; last: /);
    const one = decide({ ...policy, retry: { ...retry, maxAttempts: 1 } }, retryable(null), {
      ...facts,
      attempt: 1,
    });
    assert.match(
      one.next === "fail" ? one.failure.message : "",
      /failed the only attempt allowed \(retry\.maxAttempts is 1\): /,
    );
  });

  it("gives up when the wait would pass the total deadline", () => {
    const d = decide(policy, retryable(10_000), { ...facts, now: facts.startedAt + 295_000 });
    assert.ok(d.next === "fail" && d.failure.code === "deadline_exceeded");
  });

  it("walks the model chain on routing refusals, then escalates", () => {
    const routing: Outcome = { ...base, kind: "routing", reason: "no_supplier", code: "x" };
    assert.deepEqual(decide(policy, routing, facts), { next: "fallback", modelIndex: 1 });
    assert.deepEqual(decide(policy, routing, { ...facts, modelIndex: 1 }), {
      next: "fallback",
      modelIndex: 2,
    });
    const last = decide(policy, routing, { ...facts, modelIndex: 2 });
    assert.ok(last.next === "fail" && last.failure.code === "routing_exhausted");
    assert.match(last.failure.message, /deepseek-v3.2 -> alibaba\/deepseek-v3.2 -> plan-x/);
    assert.equal(nextModelIndex(policy, 2), null);
  });

  it("maps the other outcomes to their next move", () => {
    assert.deepEqual(decide(policy, { ...base, kind: "unauthorized" }, facts), { next: "unauthorized" });
    const ok: Outcome = {
      ...base,
      status: 200,
      kind: "ok",
      id: "i",
      model: "m",
      content: "OK",
      streamed: false,
    };
    assert.deepEqual(decide(policy, ok, facts), { next: "complete" });
    for (const [outcome, code] of [
      [{ ...base, kind: "insufficientBalance" }, "insufficient_balance"],
      [{ ...base, kind: "invalidResponse", reason: "null_content" }, "invalid_response"],
      [{ ...base, kind: "fatal", code: "dns_failure", remedy: "Check DNS." }, "unreachable"],
      [{ ...base, kind: "fatal", code: "not_tokenhub", remedy: "Check the base URL." }, "wrong_base_url"],
      [{ ...base, kind: "fatal", code: "forbidden", remedy: "Check permissions." }, "fatal"],
    ] as const) {
      const d = decide(policy, outcome as Outcome, facts);
      assert.ok(d.next === "fail" && d.failure.code === code && d.failure.remedy.length > 0, code);
    }
  });

  it("names the provider mode from the model string and its place in the chain", () => {
    assert.equal(providerModeOf("deepseek-v3.2", 0), "platform-routing");
    assert.equal(providerModeOf("alibaba/deepseek-v3.2", 1), "provider-pinned");
    assert.equal(providerModeOf("plan-x", 2), "plan-model");
  });
});
