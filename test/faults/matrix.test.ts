// The fault matrix (issue 5, item 2): every row of fixtures/faults/*.json is one server behaviour, driven through
// the whole flow (Steps 1-5) against the simulator on a virtual clock. Each row states where the flow rests,
// the failure code, the exact number of requests and bounds on the virtual time slept.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { OutputSchema } from "../../src/schema/host.ts";
import {
  DEFAULT_WALL_MS_MAX,
  type FaultRow,
  loadFaultRows,
  runFaultRow,
  unresolvableHostProblem,
} from "../helpers/fault-matrix.ts";
import { failureCode } from "../helpers/flow.ts";

const rows = loadFaultRows();
const MiB = 1024 * 1024;
/**
 * The virtual clock measures a sleep from the moment the sleep starts, but the flow fixed its wake-up time when
 * it decided to back off: the real time in between (state transitions, one macrotask) is taken off the sleep. A
 * delay of exactly the lower bound can so be measured a millisecond or two short; it was not scheduled short.
 */
const SCHEDULING_SLACK_MS = 20;
const started = performance.now();

describe("fault matrix", () => {
  after(() => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`# fault matrix: ${rows.length} rows in ${seconds} s`);
  });

  it("has at least 30 rows, covering the behaviours issue 5 lists", () => {
    assert.ok(rows.length >= 30, `${rows.length} rows`);
    const names = new Set(rows.map((row) => row.name));
    for (const name of [
      "401-always",
      "402-always",
      "429-then-ok",
      "503-always",
      "retry-after-http-date",
      "retry-after-ms",
      "retry-after-absurd",
      "retry-after-negative",
      "connection-refused",
      "reset-mid-body-always",
      "headers-timeout",
      "body-timeout",
      "sse-truncated",
      "sse-no-done-no-finish",
      "sse-error-event",
      "html-200",
      "body-50mb",
      "gzip-lie",
      "redirect-loop",
      "redirect-other-origin",
      "region-dashscope-falls-back",
      "supplier-openai-falls-back",
      "chain-exhausted",
      "dns-failure",
    ]) {
      assert.ok(names.has(name), `missing row ${name}`);
    }
  });

  for (const row of rows) {
    it(`${row.name}: ${row.behaviour}`, async (t) => {
      if (row.target === "unresolvable-host") {
        const problem = await unresolvableHostProblem();
        if (problem !== undefined) {
          t.skip(problem);
          return;
        }
      }
      await check(row);
    });
  }
});

async function check(row: FaultRow): Promise<void> {
  const run = await runFaultRow(row);
  const { flow } = run;
  const { expect } = row;
  const where = `${row.name}: ${flow.state} after ${flow.requests.length} requests, slept ${flow.sleeps.join("+")} ms; ${describeOutput(flow.output)}`;

  assert.equal(flow.state, expect.state, where);
  assert.equal(flow.requests.length, expect.requests, `requests; ${where}`);
  assert.equal(run.attempts, expect.attempts ?? expect.requests, `attempts; ${where}`);
  // The key goes to the API in its header; a media host (object storage) gets no credential.
  for (const request of flow.requests)
    assert.equal(
      request.authorization,
      request.path.startsWith("/media/") ? "absent" : "present",
      request.path,
    );
  for (const authorization of run.otherOriginAuthorization) assert.equal(authorization, "absent");
  if (expect.models) {
    const models = flow.requests
      .filter((request) => request.path.endsWith("/chat/completions"))
      .map((request) => (request.body as { model?: unknown }).model);
    assert.deepEqual(models, expect.models, `models; ${where}`);
  }

  const [min, max] = expect.sleptMs;
  const sleepCount = flow.sleeps.length;
  assert.ok(
    run.sleptMs >= min - SCHEDULING_SLACK_MS * sleepCount && run.sleptMs <= max,
    `slept ${run.sleptMs} ms, not in [${min}, ${max}]`,
  );
  if (expect.sleeps !== undefined) assert.equal(flow.sleeps.length, expect.sleeps, `sleeps; ${where}`);
  const wallMax = expect.wallMsMax ?? DEFAULT_WALL_MS_MAX;
  assert.ok(run.wallMs <= wallMax, `took ${Math.round(run.wallMs)} ms of real time (limit ${wallMax})`);

  if (expect.state === "awaitingKey") {
    assert.equal(flow.output, undefined);
    const needKey = flow.notifications.find((n) => n.type === "needKey");
    assert.ok(needKey?.type === "needKey" && needKey.reason === "rejected", where);
    // The 401 is the last verification, so the file says so (issue 11, item 2).
    assert.equal(flow.records.length, 1, `one record of the 401; ${where}`);
    assert.equal(flow.records[0]?.failure?.code, "key_rejected", where);
  } else {
    OutputSchema.parse(flow.output);
    // The file always says how the last verification went: one record, success or failure.
    assert.equal(flow.records.length, 1, `records; ${where}`);
    const record = flow.records[0];
    assert.equal(record?.integration_status, expect.state === "complete" ? "success" : "failed");
    assert.equal(record?.result.attempts, run.attempts, `record attempts; ${where}`);
  }

  if (expect.state === "complete") {
    assert.equal(flow.output?.status, "complete");
    const record = flow.records[0];
    assert.equal(record?.result.reply_preview, expect.reply ?? "OK");
    if (expect.served) {
      assert.equal(record?.model, expect.served.model);
      assert.equal(record?.result.streamed, expect.served.streamed);
    }
  }

  const media = expect.media;
  if (media) {
    const record = flow.records[0];
    for (const capability of ["image", "video"] as const) {
      const want: { status: string; code?: string; polls?: number } | undefined = media[capability];
      const got = record?.multimodal?.[capability];
      if (!want) {
        assert.equal(got, undefined, `${capability}; ${where}`);
        continue;
      }
      assert.equal(got?.status, want.status, `${capability} status; ${JSON.stringify(got)}`);
      if (want.code)
        assert.ok(got?.error?.code.startsWith(want.code), `${capability} code; ${JSON.stringify(got)}`);
      else assert.equal(got?.error, undefined, `${capability} error; ${JSON.stringify(got)}`);
      if (want.polls !== undefined) assert.equal(got?.polls, want.polls, `${capability} polls`);
    }
    assert.equal(run.mediaFiles.length, media.files, `files left: ${run.mediaFiles.join(", ")}`);
  } else {
    assert.equal(flow.records[0]?.multimodal, undefined);
  }

  if (expect.state === "escalated") {
    assert.ok(flow.output?.status === "escalated", where);
    const { escalation } = flow.output;
    assert.equal(failureCode(flow.output), expect.failure, where);
    // Faults on the user's side are theirs to fix; everything else goes to Enterprise Support.
    assert.equal(
      escalation.topic,
      ["unreachable", "wrong_base_url"].includes(expect.failure ?? "") ? "local" : "enterprise",
      where,
    );
    assert.ok(escalation.failure.remedy.length > 0);
    assert.equal(escalation.diagnostic.attempts.length, run.attempts, `diagnostic attempts; ${where}`);
    if (expect.detail !== undefined) {
      assert.match(escalation.failure.message, new RegExp(expect.detail), where);
    }
    if (expect.retryAt !== undefined) {
      assert.equal(escalation.failure.retryAt !== undefined, expect.retryAt, where);
      if (escalation.failure.retryAt !== undefined) {
        assert.ok(!Number.isNaN(Date.parse(escalation.failure.retryAt)), escalation.failure.retryAt);
      }
    }
    const escalated = flow.notifications.filter((n) => n.type === "escalated");
    assert.equal(escalated.length, 1, "one escalated notification");
  }

  if (expect.otherOriginRequests !== undefined) {
    assert.equal(run.otherOriginRequests, expect.otherOriginRequests, "requests on the other origin");
  }
  if (expect.maxRssGrowthMb !== undefined) {
    const grew = run.rssGrowthBytes / MiB;
    assert.ok(
      grew < expect.maxRssGrowthMb,
      `RSS grew ${grew.toFixed(1)} MiB (limit ${expect.maxRssGrowthMb})`,
    );
  }
}

function describeOutput(output: unknown): string {
  const parsed = OutputSchema.safeParse(output);
  if (!parsed.success) return "no output";
  if (parsed.data.status !== "escalated") return parsed.data.status;
  const { code, message } = parsed.data.escalation.failure;
  return `${code}: ${message}`;
}
