// Deadlines hold: every attempt's limit is clipped to what is left of timeouts.totalMs, and a video poll to what
// is left of the task's deadline, so a flow ends within its deadline plus a small margin, whatever the timings.
// (Before, a request started just before the deadline ran its full requestMs past it: the documented 300 s flow
// could take about 360 s, and a video wait minutes more than its deadline.)
//
// DEADLINE_RUNS sets the number of generated timings (default 10); FUZZ_SEED replays a run.
import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Scenario } from "../../src/simulator/index.ts";
import { runFlow } from "../helpers/flow.ts";

const RUNS = Number(process.env.DEADLINE_RUNS ?? 10);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
/** Scheduling, a macrotask per step, the response path: what "ends at the deadline" may take beyond it. */
const MARGIN_MS = 150;

/**
 * Runs `fn` and says how late this process's timers fired meanwhile (the worst case, ms): on a shared machine
 * another process can hold the CPU, and a timer that fires late ends the flow late through no fault of its own.
 * The deadline is asserted with that measured lag added, so the test checks the clipping, not the machine's load.
 */
async function withLag<T>(fn: () => Promise<T>): Promise<{ value: T; lagMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  try {
    const value = await fn();
    return { value, lagMs: Math.round(Math.max(0, histogram.max / 1e6 - 10)) };
  } finally {
    histogram.disable();
  }
}

const neverAnswers = (delayMs: number | null): Scenario =>
  ({
    name: "slow-or-silent",
    description: "chat answers late, or never",
    routes: {
      "POST /v1/chat/completions": [delayMs === null ? { never: true } : { delayMs, template: "chat" }],
    },
  }) as Scenario;

describe("deadlines", () => {
  it(`the flow ends within timeouts.totalMs (+${MARGIN_MS} ms), over ${RUNS} generated timings`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          totalMs: fc.integer({ min: 200, max: 700 }),
          requestMs: fc.integer({ min: 100, max: 1500 }),
          baseDelayMs: fc.integer({ min: 0, max: 300 }),
          answerAfterMs: fc.option(fc.integer({ min: 50, max: 1500 }), { nil: null }),
        }),
        async ({ totalMs, requestMs, baseDelayMs, answerAfterMs }) => {
          const started = performance.now();
          const { value: r, lagMs } = await withLag(() =>
            runFlow(neverAnswers(answerAfterMs), {
              config: { timeouts: { totalMs, requestMs }, retry: { baseDelayMs, maxDelayMs: 1000 } },
            }),
          );
          const wall = performance.now() - started;
          const slept = r.sleeps.reduce((sum, ms) => sum + ms, 0);
          // Virtual time = real time spent + virtual sleeps; the flow's own clock says when it ended.
          const elapsed =
            r.output?.status === "escalated"
              ? r.output.escalation.diagnostic.elapsedMs
              : Date.parse(r.records.at(-1)?.result.attempted_at ?? "") - Date.parse("2026-01-01T00:00:00Z");
          assert.ok(
            elapsed <= totalMs + MARGIN_MS + lagMs,
            `ended ${elapsed} ms after the start (deadline ${totalMs} ms; wall ${Math.round(wall)} ms, timer lag ${lagMs} ms, slept ${slept} ms, ${r.requests.length} requests, ${r.state})`,
          );
        },
      ),
      { numRuns: RUNS, ...SEED },
    );
  });

  it("a video poll that never answers ends by the task's deadline plus at most one poll interval", async () => {
    const deadlineMs = 400;
    const pollIntervalMs = 100;
    const scenario = {
      name: "video-poll-silent",
      description: "the task is created; every poll hangs",
      routes: {
        "POST /v1/chat/completions": [{ template: "chat" }],
        "POST /v1/video/generations": [
          {
            body: { output: { task_id: "{{taskId}}", task_status: "PENDING" }, request_id: "{{requestId}}" },
          },
        ],
        "GET /v1/video/tasks/{taskId}": [{ never: true }],
      },
    } as Scenario;
    const started = performance.now();
    const { value: r, lagMs } = await withLag(() =>
      runFlow(scenario, {
        config: {
          multimodal: {
            capabilities: ["video"],
            requestMs: 60_000, // a poll's own limit: far beyond the task's deadline
            video: { deadlineMs, pollIntervalMs },
          },
        },
      }),
    );
    const wall = performance.now() - started;
    assert.equal(r.state, "complete");
    const video = r.records.at(-1)?.multimodal?.video;
    assert.equal(video?.status, "failed", JSON.stringify(video));
    assert.ok(
      (video?.duration_ms ?? Number.POSITIVE_INFINITY) <= deadlineMs + pollIntervalMs + MARGIN_MS + lagMs,
      `the video check took ${video?.duration_ms} ms (deadline ${deadlineMs} ms; wall ${Math.round(wall)} ms, timer lag ${lagMs} ms)`,
    );
  });
});
