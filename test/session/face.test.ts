// The flow's one face (machine/face.ts) as hosts meet it: runTurn stops only at the rest states the published
// manifest lists, at every one of them, and `resume` goes on from each with what that rest needs.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { silentLogger } from "../../src/log.ts";
import { EXIT } from "../../src/machine/face.ts";
import type { ConfigInput } from "../../src/schema/config.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { restOfSnapshot } from "../../src/session/snapshot.ts";
import { runTurn, type TurnInput, type TurnResult } from "../../src/session/turn.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";

const KEY = "sk-face-test-0123456789abcdef";
const manifest = JSON.parse(readFileSync(new URL("../../skill.manifest.json", import.meta.url), "utf8")) as {
  entry: { restStates: string[] };
};
const published = new Set(manifest.entry.restStates);
const seen = new Set<string>();
const sims: Simulator[] = [];
after(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

/** A conversation of turns against one simulator, each turn's state checked against the manifest. */
async function conversation(scenario: string, env: Record<string, string>, config: ConfigInput = {}) {
  const sim = await startSimulator({ scenario });
  sims.push(sim);
  const clock = createVirtualClock();
  const common: Omit<TurnInput, "event"> = {
    config: { baseUrl: sim.baseUrl, ...config },
    sources: { env, keychain: false },
    store: createMemoryStatusStore(),
    logger: silentLogger(),
    clock,
    maxWaitMs: 0,
  };
  return {
    sim,
    clock,
    async turn(input: Partial<TurnInput>): Promise<TurnResult> {
      const result = await runTurn({ ...common, ...input });
      assert.ok(published.has(result.state), `runTurn rested in ${result.state}, not a published rest state`);
      assert.equal(result.rest.state, result.state);
      assert.deepEqual(
        restOfSnapshot(JSON.stringify(result.snapshot)),
        result.rest,
        "the stored rest reads back",
      );
      seen.add(result.state);
      return result;
    },
  };
}

describe("the flow's face: where runTurn rests and how it resumes", () => {
  it("a missing key rests for KEY_READY; resume sends it once the key is stored", async () => {
    const env: Record<string, string> = {};
    const c = await conversation("happy", env);
    const first = await c.turn({ event: { type: "SETUP" } });
    assert.deepEqual(
      { resumeWith: first.rest.resumeWith, needKey: first.rest.needKey, exitCode: first.rest.exitCode },
      { resumeWith: "KEY_READY", needKey: "missing", exitCode: EXIT.keyMissing },
    );
    env.TOKENHUB_API_KEY = KEY;
    const second = await c.turn({ snapshot: first.snapshot, resume: true });
    assert.equal(second.rest.final, true);
    assert.equal(second.output?.status, "complete");
    assert.equal(second.rest.exitCode, EXIT.complete);
  });

  it("resume with an event of the host's own is refused, not half-done: neither is dropped", async () => {
    const c = await conversation("happy", {});
    const first = await c.turn({ event: { type: "SETUP" } });
    for (const event of [{ type: "KEY_PROVIDED", key: KEY } as const, { type: "CANCEL" } as const]) {
      await assert.rejects(
        runTurn({ snapshot: first.snapshot, resume: true, event, config: { baseUrl: c.sim.baseUrl } }),
        (err: { code?: string; message?: string }) =>
          err.code === "invalid_event" && !String(err.message).includes(KEY),
      );
    }
    assert.equal(c.sim.requests.length, 0);
    // Without resume, the same KEY_PROVIDED goes on from the stored key prompt.
    const handed = await c.turn({ snapshot: first.snapshot, event: { type: "KEY_PROVIDED", key: KEY } });
    assert.equal(handed.output?.status, "complete");
  });

  it("a rejected key rests for a new one, with its own exit code", async () => {
    const c = await conversation("unauthorized", { TOKENHUB_API_KEY: KEY });
    const first = await c.turn({ event: { type: "SETUP" } });
    assert.equal(first.rest.needKey, "rejected");
    assert.equal(first.rest.exitCode, EXIT.keyRejected);
  });

  it("a backoff rests until its retry time; resume with no event goes on from there", async () => {
    const c = await conversation("server-500-then-ok", { TOKENHUB_API_KEY: KEY });
    const first = await c.turn({ event: { type: "SETUP" } });
    assert.equal(first.rest.resumeWith, "time");
    assert.equal(first.rest.wait?.for, "retry");
    assert.ok((first.rest.wait?.until ?? 0) > c.clock.now());
    const second = await c.turn({
      snapshot: first.snapshot,
      resume: true,
      event: { type: "SETUP" },
      maxWaitMs: 60_000,
    });
    assert.equal(second.output?.status, "complete");
    assert.equal(c.sim.requests.length, 2, "resumed, not started afresh");
    assert.ok(c.clock.now() >= (first.rest.wait?.until ?? Number.POSITIVE_INFINITY));
  });

  it("a video wait rests until the next poll, naming the task", async () => {
    const dir = mkdtempSync(join(tmpdir(), "face-media-"));
    const c = await conversation(
      "happy",
      { TOKENHUB_API_KEY: KEY },
      { multimodal: { capabilities: ["video"], outputDir: dir } },
    );
    let turn = await c.turn({ event: { type: "SETUP" } });
    assert.equal(turn.rest.wait?.for, "video");
    assert.match(turn.rest.wait?.taskId ?? "", /^task-/);
    for (let i = 0; i < 10 && turn.rest.wait; i++) {
      c.clock.advance(12_000);
      turn = await c.turn({ snapshot: turn.snapshot, resume: true });
    }
    assert.equal(turn.output?.status, "complete");
  });

  it("escalations and cancels are final, with the CLI's exit codes; resume after a final state starts afresh", async () => {
    const c = await conversation("insufficient-balance", { TOKENHUB_API_KEY: KEY });
    const escalated = await c.turn({ event: { type: "SETUP" } });
    assert.equal(escalated.rest.final, true);
    assert.equal(escalated.rest.exitCode, EXIT.escalated);
    const again = await c.turn({ snapshot: escalated.snapshot, resume: true, event: { type: "SETUP" } });
    assert.equal(c.sim.requests.length, 2, "a final snapshot is not resumed: the flow ran again");
    assert.equal(again.rest.final, true);

    const d = await conversation("server-503-always", { TOKENHUB_API_KEY: KEY });
    const waiting = await d.turn({ event: { type: "SETUP" } });
    const cancelled = await d.turn({ snapshot: waiting.snapshot, event: { type: "CANCEL" } });
    assert.equal(cancelled.rest.final, true);
    assert.equal(cancelled.rest.exitCode, EXIT.cancelled);
  });

  it("reached every published rest state but the untouched start", () => {
    assert.deepEqual(
      [...published].filter((s) => !seen.has(s)),
      ["idle"],
      "each published rest state is one runTurn really stops at",
    );
  });
});
