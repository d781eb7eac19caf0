import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createProgressLines } from "../../src/cli/progress-lines.ts";
import type { Notification } from "../../src/schema/host.ts";

type Progress = Extract<Notification, { type: "progress" }>;

const step = (n: 1 | 3 | 4 | 5, detail?: string): Progress => ({
  type: "progress",
  step: n,
  title: `Step ${n}`,
  ...(detail ? { detail } : {}),
});
const download = (mb: number): Progress => ({
  ...step(4, `image check: downloaded ${mb.toFixed(1)} MB of 64.0 MB`),
  capability: "image",
});

function harness() {
  let clock = 0;
  const printed: string[] = [];
  const lines = createProgressLines((n) => printed.push(n.detail ?? n.title), {
    intervalMs: 10_000,
    now: () => clock,
  });
  const tick = (ms: number) => {
    clock += ms;
  };
  return { lines, printed, tick };
}

describe("progress lines off a terminal", () => {
  it("prints the first update, at most one per interval, and the held-back last one when something else comes", () => {
    const { lines, printed, tick } = harness();
    lines.progress(step(4));
    for (let mb = 0.25; mb <= 64; mb += 0.25) {
      lines.progress(download(mb));
      tick(100); // 256 updates over 25.6 s
    }
    lines.progress(step(5));
    assert.deepEqual(printed, [
      "Step 4",
      "image check: downloaded 0.3 MB of 64.0 MB",
      "image check: downloaded 25.3 MB of 64.0 MB", // 10 s later
      "image check: downloaded 50.3 MB of 64.0 MB", // 20 s
      "image check: downloaded 64.0 MB of 64.0 MB", // the last, held back until step 5 came
      "Step 5",
    ]);
  });

  it("flush() prints a held-back update once; lines that differ in words are never held", () => {
    const { lines, printed } = harness();
    lines.progress(download(1));
    lines.progress(download(2));
    lines.flush();
    lines.flush();
    lines.progress(step(3, "deepseek-v3.2 (attempt 1)"));
    lines.progress(step(3, "server_error: waiting 1.0 s before attempt 2"));
    lines.progress(step(3, "deepseek-v3.2 (attempt 2)"));
    assert.deepEqual(printed, [
      "image check: downloaded 1.0 MB of 64.0 MB",
      "image check: downloaded 2.0 MB of 64.0 MB",
      "deepseek-v3.2 (attempt 1)",
      "server_error: waiting 1.0 s before attempt 2",
      "deepseek-v3.2 (attempt 2)",
    ]);
  });
});
