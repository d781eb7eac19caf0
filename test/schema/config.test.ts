// Durations in the config are bounded: Node's timers hold at most 2^31-1 ms and fire at once past that, so
// `requestMs: 3e9` used to time every request out immediately, and 5e9 threw deep inside a run.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ConfigInput, ConfigSchema, MAX_DURATION_MS } from "../../src/schema/config.ts";

const DURATIONS: Array<[string, (ms: number) => ConfigInput]> = [
  ["timeouts.connectMs", (ms) => ({ timeouts: { connectMs: ms } })],
  ["timeouts.headersMs", (ms) => ({ timeouts: { headersMs: ms } })],
  ["timeouts.bodyMs", (ms) => ({ timeouts: { bodyMs: ms } })],
  ["timeouts.requestMs", (ms) => ({ timeouts: { requestMs: ms } })],
  ["timeouts.totalMs", (ms) => ({ timeouts: { totalMs: ms } })],
  ["retry.baseDelayMs", (ms) => ({ retry: { baseDelayMs: ms } })],
  ["retry.maxDelayMs", (ms) => ({ retry: { maxDelayMs: ms } })],
  ["retry.serverDelayCapMs", (ms) => ({ retry: { serverDelayCapMs: ms } })],
  ["multimodal.requestMs", (ms) => ({ multimodal: { requestMs: ms } })],
  ["multimodal.video.pollIntervalMs", (ms) => ({ multimodal: { video: { pollIntervalMs: ms } } })],
  ["multimodal.video.deadlineMs", (ms) => ({ multimodal: { video: { deadlineMs: ms } } })],
];

describe("config durations", () => {
  it("the maximum is a day, inside what a timer holds", () => {
    assert.equal(MAX_DURATION_MS, 24 * 60 * 60 * 1000);
    assert.ok(MAX_DURATION_MS < 2 ** 31 - 1);
  });

  for (const [path, config] of DURATIONS) {
    it(`${path}: a day is accepted; more, 3e9 and 5e9 are refused at that path`, () => {
      assert.ok(ConfigSchema.safeParse(config(MAX_DURATION_MS)).success, "a day");
      for (const ms of [MAX_DURATION_MS + 1, 3e9, 5e9]) {
        const parsed = ConfigSchema.safeParse(config(ms));
        assert.ok(!parsed.success, `${ms} refused`);
        assert.equal(parsed.error.issues[0]?.path.join("."), path);
      }
    });
  }
});
