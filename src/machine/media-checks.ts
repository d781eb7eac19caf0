/**
 * Section 5 of the quickstart, opt-in: the image and video checks, as a machine of their own that the chart's
 * `multimodal` state invokes once the text path has passed. Each capability runs in turn and ends as ok, failed
 * or cancelled in `checks`; the machine's output is that section of the record. A failed or cancelled check
 * never fails the validated integration, so nothing here can escalate.
 *
 * Like the chart, it is pure: effects are actors provided by the session, time arrives in their outputs, and
 * the video wait is an absolute `task.pollAt` plus a `sleep` actor, so a restored snapshot polls the same task.
 * A poll is decided once, on its answer, and the transient `videoPolled` state acts on that decision.
 */
import { assign, emit, setup } from "xstate";
import type { Capability } from "../schema/config.ts";
import type { MediaChecksContext, VideoTask } from "../schema/flow.ts";
import type { ProgressNotification } from "../schema/host.ts";
import type { KeySource, MediaCheck, MultimodalSection } from "../schema/record.ts";
import type { MediaFailure, TaskStatus } from "../tokenhub/classify-media.ts";
import { notProvided } from "./effects.ts";
import { mediaCancelled, mediaCrashed, videoTaskEnded } from "./failures.ts";
import { PROGRESS, progressTitle } from "./notifications.ts";
import { decidePoll, type PollDecision } from "./policy.ts";

/** A file a multimodal check saved (and, with the hook configured, handed to object storage). */
export interface SavedFileFacts {
  file: string;
  bytes: number;
  mime: string;
  sha256: string;
  transfer?: MediaCheck["transfer"];
}
export type MediaStepOutput = { saved: SavedFileFacts; at: number } | { error: MediaFailure; at: number };
export interface MediaCallInput {
  model: string;
  keySource: KeySource | null;
  keyFingerprint: string | null;
}
export type SubmitVideoOutput =
  | { taskId: string; rawStatus: string; at: number }
  | { error: MediaFailure; at: number };
export interface PollVideoInput extends MediaCallInput {
  taskId: string;
  /** When the wait for the task ends (epoch ms): a poll may not run much past it. */
  deadline: number;
}
export interface PollVideoOutput {
  /** The task's status, "miss" for a transient poll failure, "failed" also for a poll refused for good. */
  status: TaskStatus | "miss";
  rawStatus: string;
  url: string | null;
  reason: { code: string | null; message: string } | null;
  error: MediaFailure | null;
  at: number;
}
export interface DownloadVideoInput {
  model: string;
  taskId: string;
  url: string;
}

/** The checks' context: the persisted shape (schema/flow.ts), plus the last poll's decision (never at a rest). */
export type MediaContext = MediaChecksContext & { decision: PollDecision | null };
export type MediaChecksInput = Pick<MediaChecksContext, "settings" | "key" | "now">;
export interface MediaChecksOutput {
  checks: MultimodalSection;
  at: number;
}
export type MediaChecksEvent = { type: "CANCEL"; at: number; reason?: string };

const modelFor = (context: MediaContext, capability: Capability) =>
  capability === "image" ? context.settings.imageModel : context.settings.videoModel;

/** One check's entry in the record's multimodal section. */
function entry(
  context: MediaContext,
  capability: Capability,
  end: { status: MediaCheck["status"]; at: number; saved?: SavedFileFacts; error?: MediaFailure },
  task: VideoTask | null = capability === "video" ? context.task : null,
): MediaCheck {
  return {
    status: end.status,
    model: modelFor(context, capability),
    task_id: task?.id ?? null,
    file: end.saved?.file ?? null,
    bytes: end.saved?.bytes ?? null,
    mime: end.saved?.mime ?? null,
    sha256: end.saved?.sha256 ?? null,
    duration_ms: Math.max(0, end.at - context.startedAt),
    finished_at: new Date(end.at).toISOString(),
    ...(task ? { polls: task.polls } : {}),
    ...(end.saved?.transfer ? { transfer: end.saved.transfer } : {}),
    ...(end.error ? { error: end.error } : {}),
  };
}

/** The context with one check ended; the video's URL (possibly signed) is not kept past that. */
function ended(context: MediaContext, capability: Capability, check: MediaCheck, task = context.task) {
  return {
    checks: { ...context.checks, [capability]: check },
    task: task ? { ...task, url: null } : null,
    decision: null,
  };
}

/** The task after one poll: counted, as it answered, and when to poll next if the decision is to wait. */
function polledTask(task: VideoTask, output: PollVideoOutput, decision: PollDecision): VideoTask {
  return {
    ...task,
    polls: task.polls + 1,
    misses: output.status === "miss" ? task.misses + 1 : 0,
    rawStatus: output.status === "miss" ? task.rawStatus : output.rawStatus,
    url: output.url,
    reason: output.reason ?? task.reason,
    pollAt: decision.next === "wait" ? decision.pollAt : task.pollAt,
  };
}

const callInput = (context: MediaContext, capability: Capability): MediaCallInput => ({
  model: modelFor(context, capability),
  keySource: context.key.source,
  keyFingerprint: context.key.fingerprint,
});

export const mediaChecksMachine = setup({
  types: {
    context: {} as MediaContext,
    input: {} as MediaChecksInput,
    output: {} as MediaChecksOutput,
    events: {} as MediaChecksEvent,
    // Progress for the host: the session listens to this machine's emits as to the chart's.
    emitted: {} as ProgressNotification,
  },
  actors: {
    sleep: notProvided<void, { until: number }>("sleep"),
    generateImage: notProvided<MediaStepOutput, MediaCallInput>("generateImage"),
    submitVideo: notProvided<SubmitVideoOutput, MediaCallInput>("submitVideo"),
    pollVideo: notProvided<PollVideoOutput, PollVideoInput>("pollVideo"),
    downloadVideo: notProvided<MediaStepOutput, DownloadVideoInput>("downloadVideo"),
  },
  guards: {
    pending: ({ context }, params: { capability: Capability }) =>
      context.settings.capabilities.includes(params.capability) &&
      context.checks[params.capability] === undefined,
    succeeded: (_, params: { output: object }) => !("error" in params.output),
    pollSaid: ({ context }, params: { next: PollDecision["next"] }) => context.decision?.next === params.next,
  },
  actions: {
    progress: emit(
      (_, params: { capability: Capability; detail: string }): ProgressNotification => ({
        type: "progress",
        step: 4,
        title: progressTitle(4),
        capability: params.capability,
        detail: params.detail,
      }),
    ),
    begin: assign(({ context }) => ({ startedAt: context.now })),
    stepEnded: assign(({ context }, params: { capability: Capability; output: MediaStepOutput }) => {
      const out = params.output;
      const check = entry(context, params.capability, {
        status: "saved" in out ? "ok" : "failed",
        at: out.at,
        ...("saved" in out ? { saved: out.saved } : { error: out.error }),
      });
      return { ...ended(context, params.capability, check), now: out.at };
    }),
    crashed: assign(({ context }, params: { capability: Capability; error: unknown }) =>
      ended(
        context,
        params.capability,
        entry(context, params.capability, {
          status: "failed",
          at: context.now,
          error: mediaCrashed(params.capability, params.error),
        }),
      ),
    ),
    taskCreated: assign(({ context }, params: { taskId: string; rawStatus: string; at: number }) => ({
      now: params.at,
      task: {
        id: params.taskId,
        createdAt: params.at,
        pollAt: params.at + Math.min(context.settings.pollIntervalMs, context.settings.deadlineMs),
        polls: 0,
        misses: 0,
        rawStatus: params.rawStatus,
        url: null,
        reason: null,
      },
    })),
    // The poll's answer is decided once, here, on the task as it was before this poll is counted.
    polled: assign(({ context }, params: PollVideoOutput) => {
      const task = context.task;
      if (!task) {
        const decision: PollDecision = {
          next: "fail",
          code: "media_error",
          message: "No video task to poll.",
          remedy: "Run again.",
        };
        return { now: params.at, decision };
      }
      const misses = params.status === "miss" ? task.misses + 1 : 0;
      const decision = decidePoll(
        context.settings,
        { id: task.id, createdAt: task.createdAt, misses, rawStatus: params.rawStatus || task.rawStatus },
        params.status,
        params.at,
      );
      const next = polledTask(task, params, decision);
      if (decision.next !== "fail") return { now: params.at, task: next, decision };
      // The poll that ended the task: counted like any other, then the failure recorded.
      const error = videoTaskEnded(params.status === "miss" ? null : params.error, decision, next.reason);
      const check = entry(context, "video", { status: "failed", at: params.at, error }, next);
      return { now: params.at, ...ended(context, "video", check, next), decision };
    }),
    // CANCEL ends the checks, not the integration: the unfinished ones are marked cancelled.
    cancelRest: assign(({ context, event }) => {
      const checks = { ...context.checks };
      const error = mediaCancelled(event.reason);
      for (const capability of context.settings.capabilities) {
        checks[capability] ??= entry(context, capability, { status: "cancelled", at: event.at, error });
      }
      return { checks, now: event.at, task: context.task ? { ...context.task, url: null } : null };
    }),
  },
}).createMachine({
  id: "mediaChecks",
  initial: "choosing",
  context: ({ input }) => ({ ...input, checks: {}, startedAt: input.now, task: null, decision: null }),
  output: ({ context }) => ({ checks: context.checks, at: context.now }),
  on: { CANCEL: { target: ".done", actions: "cancelRest" } },
  states: {
    choosing: {
      always: [
        { guard: { type: "pending", params: { capability: "image" } }, target: "image" },
        { guard: { type: "pending", params: { capability: "video" } }, target: "videoSubmitting" },
        { target: "done" },
      ],
    },

    // One synchronous generation, then the file saved (b64 decoded, or downloaded without the key).
    image: {
      entry: [
        "begin",
        {
          type: "progress",
          params: ({ context }) => ({
            capability: "image",
            detail: PROGRESS.image(context.settings.imageModel),
          }),
        },
      ],
      invoke: {
        src: "generateImage",
        input: ({ context }) => callInput(context, "image"),
        onDone: {
          target: "choosing",
          actions: {
            type: "stepEnded",
            params: ({ event }) => ({ capability: "image", output: event.output }),
          },
        },
        onError: {
          target: "choosing",
          actions: { type: "crashed", params: ({ event }) => ({ capability: "image", error: event.error }) },
        },
      },
    },

    // The video task: created once; its id is in context from here on, so a restore polls the same task.
    videoSubmitting: {
      entry: [
        "begin",
        {
          type: "progress",
          params: ({ context }) => ({
            capability: "video",
            detail: PROGRESS.videoSubmit(context.settings.videoModel),
          }),
        },
      ],
      invoke: {
        src: "submitVideo",
        input: ({ context }) => callInput(context, "video"),
        onDone: [
          {
            guard: { type: "succeeded", params: ({ event }) => ({ output: event.output }) },
            target: "videoWaiting",
            actions: {
              type: "taskCreated",
              params: ({ event }) => event.output as Extract<SubmitVideoOutput, { taskId: string }>,
            },
          },
          {
            target: "choosing",
            actions: {
              type: "stepEnded",
              params: ({ event }) => ({
                capability: "video",
                output: event.output as Extract<SubmitVideoOutput, { error: MediaFailure }>,
              }),
            },
          },
        ],
        onError: {
          target: "choosing",
          actions: { type: "crashed", params: ({ event }) => ({ capability: "video", error: event.error }) },
        },
      },
    },

    // A rest: until the next poll is due (absolute, as the chart's backoff).
    videoWaiting: {
      tags: "wait",
      meta: {
        wait: (c: MediaContext) => ({
          until: c.task?.pollAt ?? Number.NaN,
          for: "video" as const,
          ...(c.task ? { taskId: c.task.id } : {}),
        }),
      },
      entry: {
        type: "progress",
        params: ({ context }) => ({
          capability: "video",
          detail: PROGRESS.videoWait(
            context.task?.id,
            context.task?.rawStatus,
            (context.task?.pollAt ?? 0) - context.now,
          ),
        }),
      },
      invoke: {
        src: "sleep",
        input: ({ context }) => ({ until: context.task?.pollAt ?? 0 }),
        onDone: { target: "videoPolling" },
      },
    },

    videoPolling: {
      entry: {
        type: "progress",
        params: ({ context }) => ({
          capability: "video",
          detail: PROGRESS.videoPoll(context.task?.id, (context.task?.polls ?? 0) + 1),
        }),
      },
      invoke: {
        src: "pollVideo",
        input: ({ context }) => ({
          ...callInput(context, "video"),
          taskId: context.task?.id ?? "",
          deadline: (context.task?.createdAt ?? 0) + context.settings.deadlineMs,
        }),
        onDone: { target: "videoPolled", actions: { type: "polled", params: ({ event }) => event.output } },
        onError: {
          target: "videoPolled",
          actions: { type: "crashed", params: ({ event }) => ({ capability: "video", error: event.error }) },
        },
      },
    },

    // Every poll ends here, its decision taken once (in `polled`, or none when the poll crashed): download,
    // wait again, or the check has ended (already recorded).
    videoPolled: {
      always: [
        { guard: { type: "pollSaid", params: { next: "download" } }, target: "videoDownloading" },
        { guard: { type: "pollSaid", params: { next: "wait" } }, target: "videoWaiting" },
        { target: "choosing" },
      ],
    },

    // At once after success: the links expire (about 24 hours).
    videoDownloading: {
      entry: {
        type: "progress",
        params: ({ context }) => ({ capability: "video", detail: PROGRESS.videoDownload(context.task?.id) }),
      },
      invoke: {
        src: "downloadVideo",
        input: ({ context }) => ({
          model: context.settings.videoModel,
          taskId: context.task?.id ?? "",
          url: context.task?.url ?? "",
        }),
        onDone: {
          target: "choosing",
          actions: {
            type: "stepEnded",
            params: ({ event }) => ({ capability: "video", output: event.output }),
          },
        },
        onError: {
          target: "choosing",
          actions: { type: "crashed", params: ({ event }) => ({ capability: "video", error: event.error }) },
        },
      },
    },

    done: { type: "final" },
  },
});

export type MediaChecksMachine = typeof mediaChecksMachine;
