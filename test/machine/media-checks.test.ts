// The multimodal checks' machine alone, every effect faked through machine.provide(): fast, no simulator, about
// its own rules (one decision per poll, the wait's schedule, how each check ends, CANCEL).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, fromPromise, toPromise, waitFor } from "xstate";
import { KEY_LOST } from "../../src/machine/failures.ts";
import {
  type DownloadVideoInput,
  type MediaChecksInput,
  type MediaStepOutput,
  mediaChecksMachine,
  type PollVideoInput,
  type PollVideoOutput,
  type SubmitVideoOutput,
} from "../../src/machine/media-checks.ts";
import { MAX_POLL_MISSES } from "../../src/machine/policy.ts";
import type { ProgressNotification } from "../../src/schema/host.ts";

const T0 = 1_000_000;
const input = (capabilities: Array<"image" | "video">): MediaChecksInput => ({
  settings: {
    capabilities,
    imageModel: "wanx2.1-t2i-turbo",
    videoModel: "wan2.6-t2v",
    pollIntervalMs: 10_000,
    deadlineMs: 60_000,
  },
  key: { source: "env", fingerprint: "fp" },
  now: T0,
});
const saved = (at: number, mime: string): MediaStepOutput => ({
  saved: { file: `/out/file.${mime.split("/")[1]}`, bytes: 10, mime, sha256: "ab" },
  at,
});
const poll = (status: PollVideoOutput["status"], at: number, url: string | null = null): PollVideoOutput => ({
  status,
  rawStatus: status === "miss" ? "" : status.toUpperCase(),
  url,
  reason: null,
  error: status === "miss" ? { code: "media_network", message: "poll failed", remedy: "later" } : null,
  at,
});

/** The machine with scripted effects; time moves only with the effects' `at`. */
function harness(script: {
  image?: () => Promise<MediaStepOutput>;
  submit?: SubmitVideoOutput;
  polls?: Array<PollVideoOutput | Error>;
  download?: () => Promise<MediaStepOutput>;
  holdSleep?: boolean;
}) {
  const calls = { polls: [] as PollVideoInput[], sleeps: [] as number[], downloads: [] as string[] };
  const polls = [...(script.polls ?? [])];
  const machine = mediaChecksMachine.provide({
    actors: {
      sleep: fromPromise<void, { until: number }>(async ({ input, signal }) => {
        calls.sleeps.push(input.until);
        if (script.holdSleep)
          await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      }),
      generateImage: fromPromise(async () => (script.image ? script.image() : saved(T0 + 1, "image/png"))),
      submitVideo: fromPromise(
        async () => script.submit ?? { taskId: "task-1", rawStatus: "PENDING", at: T0 + 2 },
      ),
      pollVideo: fromPromise<PollVideoOutput, PollVideoInput>(async ({ input }) => {
        calls.polls.push(input);
        const next = polls.shift();
        if (!next) throw new Error("the script ran out of polls");
        if (next instanceof Error) throw next;
        return next;
      }),
      downloadVideo: fromPromise<MediaStepOutput, DownloadVideoInput>(async ({ input }) => {
        calls.downloads.push(input.url);
        return script.download ? script.download() : saved(T0 + 100_000, "video/mp4");
      }),
    },
  });
  return { machine, calls };
}

function run(machine: typeof mediaChecksMachine, capabilities: Array<"image" | "video">) {
  const actor = createActor(machine, { input: input(capabilities) });
  const progress: string[] = [];
  actor.on("progress", (n: ProgressNotification) => progress.push(n.detail ?? ""));
  actor.start();
  return { actor, progress };
}

describe("the multimodal checks' machine (effects faked)", () => {
  it("image, then a video polled until it succeeds: both ok, the wait on the poll schedule, the URL not kept", async () => {
    const { machine, calls } = harness({
      polls: [
        poll("running", T0 + 10_002),
        poll("succeeded", T0 + 20_002, "https://cdn.example/v.mp4?sig=1"),
      ],
    });
    const { actor, progress } = run(machine, ["image", "video"]);
    const output = await toPromise(actor);
    assert.equal(output.checks.image?.status, "ok");
    assert.equal(output.checks.video?.status, "ok");
    assert.equal(output.checks.video?.polls, 2);
    assert.equal(output.checks.video?.task_id, "task-1");
    assert.deepEqual(
      calls.sleeps,
      [T0 + 2 + 10_000, T0 + 10_002 + 10_000],
      "each wait ends an interval later",
    );
    assert.deepEqual(calls.downloads, ["https://cdn.example/v.mp4?sig=1"]);
    assert.equal(actor.getSnapshot().context.task?.url, null, "the signed URL is dropped after the download");
    assert.deepEqual(
      progress.map((p) => p.split(":")[0]),
      [
        "image check",
        "video check",
        "video check",
        "video check",
        "video check",
        "video check",
        "video check",
      ],
    );
  });

  it("a poll that keeps failing transiently ends the check at the allowed misses in a row, not before", async () => {
    const misses = Array.from({ length: MAX_POLL_MISSES + 1 }, (_, i) =>
      poll("miss", T0 + 2 + (i + 1) * 10_000),
    );
    const { machine, calls } = harness({ polls: misses });
    const output = await toPromise(run(machine, ["video"]).actor);
    assert.equal(calls.polls.length, MAX_POLL_MISSES, "no poll after the last allowed miss");
    assert.equal(output.checks.video?.status, "failed");
    assert.equal(output.checks.video?.error?.code, "media_poll_failed");
    assert.equal(output.checks.video?.polls, MAX_POLL_MISSES, "the last poll is counted too");
  });

  it("misses between answers do not add up: only misses in a row end the check", async () => {
    const script = [poll("miss", T0 + 10_002), poll("miss", T0 + 20_002), poll("running", T0 + 30_002)];
    script.push(poll("miss", T0 + 40_002), poll("miss", T0 + 50_002));
    script.push(poll("succeeded", T0 + 59_000, "https://cdn.example/v.mp4"));
    const { machine } = harness({ polls: script });
    const output = await toPromise(run(machine, ["video"]).actor);
    assert.equal(output.checks.video?.status, "ok");
    assert.equal(output.checks.video?.polls, 6);
  });

  it("a task still running at the deadline fails with the deadline's remedy; the last poll lands on it", async () => {
    const polls = [1, 2, 3, 4, 5, 6].map((n) => poll("running", T0 + 2 + n * 10_000));
    const { machine, calls } = harness({ polls });
    const output = await toPromise(run(machine, ["video"]).actor);
    assert.equal(output.checks.video?.error?.code, "media_task_deadline");
    assert.ok(
      calls.sleeps.every((until) => until <= T0 + 2 + 60_000),
      "no wait past the deadline",
    );
  });

  it("a poll that throws ends the check as crashed, through the same decision point", async () => {
    const { machine } = harness({ polls: [new Error("boom")] });
    const { actor } = run(machine, ["video"]);
    const output = await toPromise(actor);
    assert.equal(output.checks.video?.status, "failed");
    assert.equal(output.checks.video?.error?.code, "media_error");
    assert.match(output.checks.video?.error?.message ?? "", /boom/);
  });

  it("a key lost after a restore is named as such, with how to avoid it", async () => {
    const lost = Object.assign(new Error("gone"), { code: KEY_LOST });
    const { machine } = harness({ image: () => Promise.reject(lost) });
    const output = await toPromise(run(machine, ["image"]).actor);
    assert.equal(output.checks.image?.error?.code, "media_key_lost");
  });

  it("a refused task creation ends the video check without polling", async () => {
    const refused = { code: "media_refused", message: "no", remedy: "change the prompt" };
    const { machine, calls } = harness({ submit: { error: refused, at: T0 + 5 } });
    const output = await toPromise(run(machine, ["video"]).actor);
    assert.deepEqual(output.checks.video?.error, refused);
    assert.equal(calls.polls.length, 0);
  });

  it("CANCEL during the wait ends the checks: the finished one kept, the rest cancelled with the reason", async () => {
    const { machine } = harness({ holdSleep: true });
    const { actor } = run(machine, ["image", "video"]);
    await waitFor(actor, (s) => s.hasTag("wait"));
    actor.send({ type: "CANCEL", at: T0 + 50, reason: "the user is done waiting" });
    const output = await toPromise(actor);
    assert.equal(output.checks.image?.status, "ok");
    assert.equal(output.checks.video?.status, "cancelled");
    assert.equal(output.checks.video?.error?.message, "the user is done waiting");
    assert.equal(output.at, T0 + 50);
  });
});
