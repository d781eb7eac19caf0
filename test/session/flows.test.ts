import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NotificationSchema } from "../../src/schema/host.ts";
import { COMPLETION_TEMPLATE_FIELDS } from "../../src/schema/record.ts";
import { failureCode, runFlow } from "../helpers/flow.ts";

describe("Steps 1-5 against the simulator", () => {
  it("completes on a JSON body and records the quickstart's template fields", async () => {
    const r = await runFlow("happy");
    assert.equal(r.state, "complete");
    assert.equal(r.requests.length, 1);
    assert.equal(r.requests[0]?.authorization, "present");
    const record = r.records.at(-1);
    assert.ok(record);
    for (const field of COMPLETION_TEMPLATE_FIELDS) assert.ok(field in record, field);
    assert.equal(record.integration_status, "success");
    assert.equal(record.provider_mode, "platform-routing");
    assert.equal(record.model, "deepseek-v3.2");
    assert.equal(record.endpoint, "POST /v1/chat/completions");
    assert.equal(record.notes, "TokenHub API is ready for production wiring.");
    assert.equal(record.result.base_url, r.baseUrl);
    assert.equal(record.result.reply_preview, "OK");
    assert.equal(record.result.key_source, "env");
    assert.equal(record.result.streamed, false);
    assert.equal(record.validated_at, record.result.attempted_at);
    assert.ok(!Number.isNaN(Date.parse(record.result.attempted_at)));
    const steps = r.notifications.flatMap((n) => (n.type === "progress" ? [n.step] : []));
    assert.deepEqual(steps, [1, 3, 4, 5]);
    for (const n of r.notifications) NotificationSchema.parse(n);
    assert.equal(r.notifications.at(-1)?.type, "completed");
  });

  it("completes over SSE, assembling delta.content", async () => {
    const r = await runFlow("stream-happy", { config: { stream: true } });
    assert.equal(r.state, "complete");
    assert.equal((r.requests[0]?.body as { stream?: boolean } | undefined)?.stream, true);
    assert.equal(r.records.at(-1)?.result.streamed, true);
    assert.equal(r.records.at(-1)?.result.reply_preview, "OK");
  });

  it("stops at awaitingKey (rejected) after exactly one request on 401", async () => {
    const r = await runFlow("unauthorized");
    assert.equal(r.state, "awaitingKey");
    assert.equal(r.requests.length, 1);
    const needKey = r.notifications.find((n) => n.type === "needKey");
    assert.equal(needKey?.type === "needKey" && needKey.reason, "rejected");
    // The 401 is recorded (issue 11, item 2): the record tells the last verification, not an older success.
    assert.equal(r.records.length, 1, "the 401 is recorded before the flow waits for a key");
    assert.equal(r.records[0]?.integration_status, "failed");
    assert.equal(r.records[0]?.failure?.code, "key_rejected");
    assert.equal(r.records[0]?.result.http_status, 401);
  });

  it("asks for a key (missing) without any request when no source has one", async () => {
    const r = await runFlow("happy", { env: {} });
    assert.equal(r.state, "awaitingKey");
    assert.equal(r.requests.length, 0);
    const needKey = r.notifications.find((n) => n.type === "needKey");
    assert.ok(needKey?.type === "needKey");
    assert.equal(needKey.reason, "missing");
    assert.equal(needKey.instructions.neverPasteInChat, true);
    assert.match(needKey.instructions.steps.join(" "), /without pasting it into the conversation/);
  });

  for (const [scenario, expected] of [
    ["rate-limited-seconds", 1000],
    ["rate-limited-ms", 150],
  ] as const) {
    it(`honours the server's delay (${scenario})`, async () => {
      const r = await runFlow(scenario);
      assert.equal(r.state, "complete");
      assert.equal(r.requests.length, 2);
      assert.equal(r.sleeps.length, 1);
      // The wait runs to retryAt = response time + delay; the virtual clock also counts the real milliseconds
      // spent between the response and the sleep, which a loaded machine stretches.
      const slept = r.sleeps[0] ?? 0;
      assert.ok(slept <= expected && slept >= expected - 100, `slept ${slept}`);
    });
  }

  it("honours Retry-After as an HTTP date", async () => {
    const r = await runFlow("rate-limited-http-date");
    assert.equal(r.state, "complete");
    assert.equal(r.requests.length, 2);
    // The date is 4 s ahead with one-second resolution: 3-4 s, less any stall before the client reads it. The
    // computed backoff (at most 1.2 s before the second attempt) cannot produce more than 1.5 s.
    assert.ok((r.sleeps[0] ?? -1) > 1500 && (r.sleeps[0] ?? 0) <= 4000, `slept ${r.sleeps[0]}`);
  });

  for (const scenario of [
    "server-500-then-ok",
    "server-502-then-ok",
    "server-504-then-ok",
    "reset-then-ok",
  ]) {
    it(`retries once and completes (${scenario})`, async () => {
      const r = await runFlow(scenario);
      assert.equal(r.state, "complete");
      assert.equal(r.requests.length, 2);
      assert.equal(r.records.at(-1)?.result.attempts, 2);
    });
  }

  for (const scenario of ["server-503-always", "reset-mid-body-always"]) {
    it(`escalates after exactly 3 attempts (${scenario})`, async () => {
      const r = await runFlow(scenario);
      assert.equal(r.state, "escalated");
      assert.equal(r.requests.length, 3);
      assert.equal(failureCode(r.output), "retries_exhausted");
      // The schedule: ~1 s then ~2 s, each within the ±20 % jitter.
      assert.equal(r.sleeps.length, 2);
      assert.ok((r.sleeps[0] ?? 0) >= 800 && (r.sleeps[0] ?? 0) <= 1200, `first ${r.sleeps[0]}`);
      assert.ok((r.sleeps[1] ?? 0) >= 1600 && (r.sleeps[1] ?? 0) <= 2400, `second ${r.sleeps[1]}`);
      const escalated = r.notifications.find((n) => n.type === "escalated");
      assert.ok(escalated?.type === "escalated");
      assert.equal(escalated.escalation.topic, "enterprise");
      assert.equal(escalated.escalation.diagnostic.attempts.length, 3);
      assert.equal(r.records.at(-1)?.integration_status, "failed");
    });
  }

  it("escalates at once, saying when to retry, when the server's delay is beyond the cap", async () => {
    const r = await runFlow("retry-after-too-long");
    assert.equal(r.state, "escalated");
    assert.equal(r.requests.length, 1);
    assert.equal(r.sleeps.length, 0);
    assert.ok(r.output?.status === "escalated");
    assert.equal(r.output.escalation.failure.code, "server_delay_too_long");
    assert.ok(r.output.escalation.failure.retryAt);
  });

  for (const scenario of ["region-unavailable-dashscope", "no-supplier-openai"]) {
    it(`falls back to the provider-pinned model and completes there (${scenario})`, async () => {
      const r = await runFlow(scenario);
      assert.equal(r.state, "complete");
      assert.deepEqual(
        r.requests.map((q) => (q.body as { model: string }).model),
        ["deepseek-v3.2", "alibaba/deepseek-v3.2"],
      );
      const record = r.records.at(-1);
      assert.equal(record?.model, "alibaba/deepseek-v3.2");
      assert.equal(record?.provider_mode, "provider-pinned");
      assert.deepEqual(record?.result.fallbacks_used, ["deepseek-v3.2"]);
    });
  }

  it("escalates when the whole chain is refused, and goes on to a plan model when one is configured", async () => {
    const r = await runFlow("routing-exhausted");
    assert.equal(r.state, "escalated");
    assert.equal(r.requests.length, 2);
    assert.equal(failureCode(r.output), "routing_exhausted");
    // The template's shape on failure: nothing was validated, and notes name the failure in one sentence.
    const record = r.records.at(-1);
    assert.ok(record);
    assert.deepEqual(Object.keys(record).slice(0, 6), [...COMPLETION_TEMPLATE_FIELDS]);
    assert.equal(record.integration_status, "failed");
    assert.equal(record.endpoint, "POST /v1/chat/completions");
    assert.equal(record.validated_at, null);
    assert.ok(!Number.isNaN(Date.parse(record.result.attempted_at)));
    assert.match(record.notes, /^Integration failed: [^.]+\.$/);
    // The quickstart's remedy order: an allowed region or another model format first, then Enterprise Support.
    const remedy = record.failure?.remedy ?? "";
    assert.match(remedy, /allowed region .*TokenHub console.*or another model format/);
    assert.ok(remedy.indexOf("Enterprise Support") > remedy.indexOf("allowed region"), remedy);

    const plan = await runFlow("routing-exhausted", {
      config: { modelChain: ["deepseek-v3.2", "alibaba/deepseek-v3.2", "plan-standard"] },
    });
    assert.equal(plan.requests.length, 3);
    assert.equal((plan.requests[2]?.body as { model: string } | undefined)?.model, "plan-standard");
  });

  it("escalates on 402 with a top-up remedy", async () => {
    const r = await runFlow("insufficient-balance");
    assert.equal(r.state, "escalated");
    assert.equal(r.requests.length, 1);
    assert.ok(r.output?.status === "escalated");
    assert.equal(r.output.escalation.failure.code, "insufficient_balance");
    assert.match(r.output.escalation.failure.remedy, /Top up/);
  });

  for (const scenario of ["empty-choices", "null-content", "wrong-object", "malformed-json", "oversized"]) {
    it(`refuses a 200 that fails the quickstart's check (${scenario})`, async () => {
      const r = await runFlow(scenario);
      assert.equal(r.state, "escalated");
      assert.equal(r.requests.length, 1);
      assert.equal(failureCode(r.output), "invalid_response");
      assert.equal(r.records.at(-1)?.integration_status, "failed");
    });
  }

  it("escalates when the deadline would be passed by the next backoff", async () => {
    const r = await runFlow("server-503-always", { config: { timeouts: { totalMs: 1500 } } });
    assert.equal(r.state, "escalated");
    assert.equal(r.requests.length, 2);
    assert.equal(failureCode(r.output), "deadline_exceeded");
  });

  it("escalates with status_write_failed when the record cannot be written, keeping the record in the output", async () => {
    const r = await runFlow("happy", {
      session: {
        store: {
          location: "broken",
          write: async () => {
            throw Object.assign(new Error("disk full"), { remedy: "Free some space." });
          },
          read: async () => undefined,
        },
      },
    });
    assert.equal(r.state, "escalated");
    assert.ok(r.output?.status === "escalated");
    assert.equal(r.output.escalation.failure.code, "status_write_failed");
    assert.equal(r.output.record?.integration_status, "failed");
  });
});
