/**
 * The agent quickstart as a statechart: Step-1 `resolvingKey`, Step-2 `awaitingKey`, Step-3 `requesting`,
 * Step-4 `validating`, Step-5 `writingStatus`, with every error path an explicit state.
 *
 * The machine is pure: time arrives in events and actor outputs (`at`), jitter from a seed, and every effect
 * (key sources, HTTP, sleeping, the record store) is an actor injected with `machine.provide(...)`. The key
 * itself never enters context, events or emitted notifications: the session keeps it and the actors use it.
 *
 * After the text path, the optional multimodal checks (section 5 of the quickstart) run in the `multimodal`
 * state: an image (one synchronous call, then the file saved), a video task (submit, wait, poll, download).
 * They only add a section to the record: a failed or cancelled check never fails the validated integration.
 *
 * Rest states (where a snapshot may be taken): idle, awaitingKey, backingOff, multimodal.videoWaiting and the
 * finals. A wait is an absolute time (`retryAt`, `videoTask.pollAt`) plus a `sleep` actor, not an `after` delay,
 * so it survives persist/restore (xstate #5331); a restored video wait polls the same task, never a new one.
 */
import { assign, emit, fromPromise, setup } from "xstate";
import type { Capability } from "../schema/config.ts";
import type { FlowContext, FlowSettings, MediaSettings, VideoTask } from "../schema/flow.ts";
import type { Escalation, KeyHint, Notification, Output } from "../schema/host.ts";
import type {
  Attempt,
  CompletionRecord,
  Failure,
  KeySource,
  MediaCheck,
  MultimodalSection,
} from "../schema/record.ts";
import { scrubbedLine } from "../secrets/scrubber.ts";
import type { Outcome } from "../tokenhub/classify.ts";
import type { MediaFailure, TaskStatus } from "../tokenhub/classify-media.ts";
import {
  checkCancelled,
  KEY_LOST,
  keyRejected,
  mediaCancelled,
  mediaCrashed,
  recordNotWritten,
  rejectionNotRecorded,
  requestCrashed,
  videoTaskEnded,
} from "./failures.ts";
import { type NeedKeyReason, needKeyNotification, PROGRESS, progressTitle } from "./notifications.ts";
import { type Decision, decide, decidePoll, type Policy, type PollDecision } from "./policy.ts";
import { buildEscalation, buildRecord, type RunFacts, withMultimodal } from "./record.ts";

/** Bump when states, context or events change shape: snapshots from another version are refused. */
export const MACHINE_VERSION = "tokenhub-setup/5";

export type Settings = FlowSettings;
export type { MediaSettings, VideoTask };

/**
 * The chart's context: the persisted shape from `schema/flow.ts` (the one definition), plus what one attempt
 * leaves for the decision that follows it, which never outlives a rest (a restore sets both to null).
 */
export type SetupContext = FlowContext & {
  outcome: Outcome | null;
  decision: Decision | null;
};

/** A timed rest: when it ends, and what it waits for (another attempt, or the video task's next poll). */
export interface Wait {
  /** Epoch ms; NaN when the context lost the time (only a tampered snapshot can: it is refused on restore). */
  until: number;
  for: "retry" | "video";
  taskId?: string;
}

export type SetupEvent =
  | {
      type: "SETUP";
      at: number;
      seed: number;
      preferences?: { modelChain?: string[]; stream?: boolean; multimodal?: Capability[] };
    }
  | { type: "KEY_PROVIDED"; at: number; seed: number; remember: boolean }
  | { type: "KEY_READY"; at: number; seed: number }
  | { type: "CANCEL"; at: number; reason?: string };

export type ResolveKeyOutput =
  | { found: true; source: KeySource; fingerprint: string; hint: string; notices: string[]; at: number }
  | { found: false; sawRejected: boolean; notices: string[]; at: number };
export interface ResolveKeyInput {
  rejected: string[];
}
export interface ProbeInput {
  model: string;
  stream: boolean;
  keySource: KeySource | null;
  keyFingerprint: string | null;
  /** When the whole flow must be over (epoch ms): no attempt may run past it. */
  deadline: number;
}
export interface ProbeOutput {
  outcome: Outcome;
  at: number;
}
export interface WriteStatusInput {
  record: CompletionRecord;
  remember: boolean;
}
export interface WriteStatusOutput {
  record: CompletionRecord;
  at: number;
}
export interface RecordRejectionInput {
  record: CompletionRecord;
  /** Fingerprints of the keys rejected so far: the survey of the sources leaves them out. */
  rejected: string[];
}
export interface RecordRejectionOutput {
  otherKeys: KeyHint[];
  /** Set when the failed record could not be written (the flow still asks for a key). */
  notice: string | null;
  at: number;
}

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

export { KEY_LOST };

const MAX_ATTEMPTS_KEPT = 20;

/** An effect the chart invokes; `machine.provide()` (session/services.ts) gives the real one. */
function notProvided<Output, Input>(name: string) {
  return fromPromise<Output, Input>(async () => {
    throw new Error(`the ${name} actor was not provided; use machine.provide()`);
  });
}

const currentModel = (context: SetupContext) => context.settings.modelChain[context.run.modelIndex] ?? "";

function facts(context: SetupContext): RunFacts {
  return {
    modelChain: context.settings.modelChain,
    modelIndex: context.run.modelIndex,
    baseUrl: context.settings.baseUrl,
    outcome: context.outcome,
    attempts: context.run.attempts,
    fallbacksUsed: context.run.fallbacksUsed,
    keySource: context.key.source,
    notices: context.notices,
    startedAt: context.run.startedAt,
    at: context.now,
    contactUrl: context.settings.contactUrl,
  };
}

function outcomeSummary(outcome: Outcome | null): string {
  if (!outcome) return "no response";
  const reason = "reason" in outcome ? outcome.reason : outcome.kind;
  return outcome.status === null ? `${reason}` : `HTTP ${outcome.status} ${reason}`;
}

/** What the poll just answered means, with the task's miss count as it will be after this poll. */
function pollDecisionOf(context: SetupContext, output: PollVideoOutput): PollDecision {
  const task = context.media.task;
  if (!task)
    return { next: "fail", code: "media_error", message: "No video task to poll.", remedy: "Run again." };
  const misses = output.status === "miss" ? task.misses + 1 : 0;
  return decidePoll(
    context.settings.multimodal,
    { id: task.id, createdAt: task.createdAt, misses, rawStatus: output.rawStatus || task.rawStatus },
    output.status,
    output.at,
  );
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

/** One check's entry in the record's multimodal section. */
function mediaCheck(
  context: SetupContext,
  capability: Capability,
  end: { status: MediaCheck["status"]; at: number; saved?: SavedFileFacts; error?: MediaFailure },
  task: VideoTask | null = capability === "video" ? context.media.task : null,
): MediaCheck {
  return {
    status: end.status,
    model:
      capability === "image"
        ? context.settings.multimodal.imageModel
        : context.settings.multimodal.videoModel,
    task_id: task?.id ?? null,
    file: end.saved?.file ?? null,
    bytes: end.saved?.bytes ?? null,
    mime: end.saved?.mime ?? null,
    sha256: end.saved?.sha256 ?? null,
    duration_ms: Math.max(0, end.at - context.media.startedAt),
    finished_at: new Date(end.at).toISOString(),
    ...(task ? { polls: task.polls } : {}),
    ...(end.saved?.transfer ? { transfer: end.saved.transfer } : {}),
    ...(end.error ? { error: end.error } : {}),
  };
}

/** The media part with one check ended; the video's URL (possibly signed) is not kept past that. */
function withCheck(
  context: SetupContext,
  capability: Capability,
  check: MediaCheck,
  task = context.media.task,
) {
  return {
    ...context.media,
    checks: { ...context.media.checks, [capability]: check },
    task: task ? { ...task, url: null } : null,
  };
}

export function escalationOf(context: SetupContext): Escalation | null {
  return context.failure ? buildEscalation(facts(context), context.failure) : null;
}

/** What a final state hands the host; also what a restored final snapshot's output is rebuilt from. */
export function outputOf(context: SetupContext): Output {
  if (context.cancelReason !== null)
    return {
      status: "cancelled",
      reason: context.cancelReason,
      // The record this run left, when it wrote one (a cancelled check, or the 401 before the cancel).
      ...(context.record ? { record: context.record } : {}),
    };
  const escalation = escalationOf(context);
  if (escalation)
    return { status: "escalated", escalation, ...(context.record ? { record: context.record } : {}) };
  return { status: "complete", record: context.record as CompletionRecord };
}

/** A fresh flow's context, before SETUP. */
export function initialContext(settings: Settings): SetupContext {
  return {
    settings,
    now: 0,
    seed: 0,
    key: {
      source: null,
      fingerprint: null,
      hint: null,
      remember: false,
      needReason: "missing",
      rejected: [],
      rejectedKey: null,
      otherKeys: [],
    },
    run: { startedAt: 0, modelIndex: 0, attempt: 0, attempts: [], fallbacksUsed: [], retryAt: null },
    notices: [],
    record: null,
    failure: null,
    cancelReason: null,
    media: { checks: {}, startedAt: 0, task: null },
    outcome: null,
    decision: null,
  };
}

export const setupMachine = setup({
  types: {
    context: {} as SetupContext,
    events: {} as SetupEvent,
    input: {} as { settings: Settings },
    output: {} as Output,
    emitted: {} as Notification,
  },
  actors: {
    resolveKey: notProvided<ResolveKeyOutput, ResolveKeyInput>("resolveKey"),
    probe: notProvided<ProbeOutput, ProbeInput>("probe"),
    sleep: notProvided<void, { until: number }>("sleep"),
    writeStatus: notProvided<WriteStatusOutput, WriteStatusInput>("writeStatus"),
    recordRejection: notProvided<RecordRejectionOutput, RecordRejectionInput>("recordRejection"),
    generateImage: notProvided<MediaStepOutput, MediaCallInput>("generateImage"),
    submitVideo: notProvided<SubmitVideoOutput, MediaCallInput>("submitVideo"),
    pollVideo: notProvided<PollVideoOutput, PollVideoInput>("pollVideo"),
    downloadVideo: notProvided<MediaStepOutput, DownloadVideoInput>("downloadVideo"),
  },
  guards: {
    keyFound: (_, params: { found: boolean }) => params.found,
    keyLost: (_, params: { error: unknown }) =>
      (params.error as { code?: unknown } | null)?.code === KEY_LOST,
    decided: ({ context }, params: { next: Decision["next"] }) => context.decision?.next === params.next,
    recordComplete: ({ context }) => context.record?.integration_status === "success",
    completeWithMedia: ({ context }) =>
      context.decision?.next === "complete" && context.settings.multimodal.capabilities.length > 0,
    mediaPending: ({ context }, params: { capability: Capability }) =>
      context.settings.multimodal.capabilities.includes(params.capability) &&
      context.media.checks[params.capability] === undefined,
    succeeded: (_, params: { output: object }) => !("error" in params.output),
    // Reads the poll's output from the done event, so the diagram can show which decision each edge is.
    pollSays: ({ context, event }, params: { next: PollDecision["next"] }) =>
      pollDecisionOf(context, (event as unknown as { output: PollVideoOutput }).output).next === params.next,
  },
  actions: {
    progress: emit((_, params: { step: 1 | 2 | 3 | 4 | 5; detail?: string }) => ({
      type: "progress" as const,
      step: params.step,
      title: progressTitle(params.step),
      ...(params.detail ? { detail: params.detail } : {}),
    })),
    start: assign(({ context, event }) => {
      if (event.type === "CANCEL") return {};
      const preferences = event.type === "SETUP" ? event.preferences : undefined;
      return {
        now: event.at,
        seed: event.seed,
        run: { ...context.run, startedAt: event.at },
        key: {
          ...context.key,
          remember: event.type === "KEY_PROVIDED" ? event.remember : context.key.remember,
        },
        settings: {
          ...context.settings,
          modelChain: preferences?.modelChain ?? context.settings.modelChain,
          stream: preferences?.stream ?? context.settings.stream,
          multimodal: {
            ...context.settings.multimodal,
            capabilities: preferences?.multimodal ?? context.settings.multimodal.capabilities,
          },
        },
      };
    }),
    keyHandedOver: assign(({ context, event }) =>
      event.type === "KEY_PROVIDED"
        ? { key: { ...context.key, remember: event.remember }, now: event.at }
        : event.type === "KEY_READY"
          ? { now: event.at }
          : {},
    ),
    useKey: assign(({ context }, params: Extract<ResolveKeyOutput, { found: true }>) => ({
      key: { ...context.key, source: params.source, fingerprint: params.fingerprint, hint: params.hint },
      notices: params.notices,
      now: params.at,
    })),
    needKey: assign(({ context }, params: { reason: NeedKeyReason; notices: string[]; at?: number }) => ({
      key: { ...context.key, needReason: params.reason, source: null, fingerprint: null, hint: null },
      notices: params.notices,
      ...(params.at === undefined ? {} : { now: params.at }),
    })),
    notifyNeedKey: emit(({ context }) =>
      needKeyNotification(context.key.needReason, context.settings.consoleUrl, context.notices, {
        rejectedKey: context.key.needReason === "rejected" ? context.key.rejectedKey : null,
        otherKeys: context.key.needReason === "rejected" ? context.key.otherKeys : [],
      }),
    ),
    // The attempt is logged, and policy decides what follows, in the one step (validating reads the decision).
    attemptAnswered: assign(({ context }, params: ProbeOutput) => {
      const attempt: Attempt = {
        model: currentModel(context),
        status: params.outcome.status,
        outcome:
          params.outcome.kind === "ok"
            ? "ok"
            : scrubbedLine(`${params.outcome.kind}: ${params.outcome.message}`, 200),
        requestId: params.outcome.requestId,
        latencyMs: params.outcome.latencyMs,
        at: new Date(params.at).toISOString(),
      };
      const run = {
        ...context.run,
        attempt: context.run.attempt + 1,
        attempts: [...context.run.attempts, attempt].slice(-MAX_ATTEMPTS_KEPT),
      };
      const decision = decide(context.settings, params.outcome, {
        attempt: run.attempt,
        modelIndex: run.modelIndex,
        now: params.at,
        startedAt: run.startedAt,
        seed: context.seed,
      });
      return { outcome: params.outcome, now: params.at, run, decision };
    }),
    scheduleRetry: assign(({ context }) => ({
      run: {
        ...context.run,
        retryAt: context.decision?.next === "retry" ? context.decision.retryAt : context.now,
      },
    })),
    fallBack: assign(({ context }) => ({
      run: {
        ...context.run,
        fallbacksUsed: [...context.run.fallbacksUsed, currentModel(context)],
        modelIndex:
          context.decision?.next === "fallback" ? context.decision.modelIndex : context.run.modelIndex + 1,
        attempt: 0,
      },
    })),
    // The 401's record is built while the flow still knows which key it used; the key is then forgotten (its
    // fingerprint joins the rejected ones, so re-reading the sources does not loop on it).
    rejectKey: assign(({ context }) => {
      const { source, hint, fingerprint } = context.key;
      return {
        record: buildRecord(facts(context), keyRejected(source, hint)),
        key: {
          ...context.key,
          rejectedKey: source && hint ? { source, hint } : null,
          rejected: fingerprint ? [...new Set([...context.key.rejected, fingerprint])] : context.key.rejected,
          needReason: "rejected" as const,
          source: null,
          fingerprint: null,
          hint: null,
        },
        notices: [],
        run: { ...context.run, attempt: 0 },
      };
    }),
    rejectionRecorded: assign(({ context }, params: RecordRejectionOutput) => ({
      key: { ...context.key, otherKeys: params.otherKeys },
      notices: params.notice ? [params.notice] : [],
      now: params.at,
    })),
    rejectionLost: assign(({ context }, params: { error: unknown }) => ({
      record: null,
      key: { ...context.key, otherKeys: [] },
      notices: [rejectionNotRecorded(params.error)],
    })),
    // Stopped mid-check: the record says so (the last success kept inside it), instead of the old one standing.
    cancelCheck: assign(({ context, event }) => {
      const reason = event.type === "CANCEL" ? event.reason : undefined;
      return {
        cancelReason: reason ?? "cancelled by the host",
        ...(event.type === "CANCEL" ? { now: event.at } : {}),
        record: buildRecord(
          { ...facts(context), ...(event.type === "CANCEL" ? { at: event.at } : {}) },
          checkCancelled(reason),
        ),
      };
    }),
    cancelledRecordLost: assign({ record: null }),
    prepareSuccess: assign(({ context }) => ({ record: buildRecord(facts(context)), failure: null })),
    prepareFailure: assign(({ context }, params: { failure?: Failure }) => {
      const failure = params.failure ?? (context.decision?.next === "fail" ? context.decision.failure : null);
      if (!failure) return {};
      return { failure, record: buildRecord(facts(context), failure) };
    }),
    statusWritten: assign((_, params: WriteStatusOutput) => ({ record: params.record, now: params.at })),
    statusWriteFailed: assign(({ context }, params: { error: unknown }) => {
      const writeFailure = recordNotWritten(params.error);
      // An earlier failure stays the headline: it is what the user needs to hear first.
      const failure = context.failure ?? writeFailure;
      const notices = context.failure ? [...context.notices, writeFailure.message] : context.notices;
      return { failure, notices, record: buildRecord({ ...facts(context), notices }, failure) };
    }),
    notifyCompleted: emit(({ context }) => ({
      type: "completed" as const,
      record: context.record as CompletionRecord,
    })),
    notifyEscalated: emit(({ context }) => ({
      type: "escalated" as const,
      escalation: escalationOf(context) as Escalation,
      ...(context.record ? { record: context.record } : {}),
    })),
    cancel: assign(({ event }) => ({
      cancelReason: event.type === "CANCEL" ? (event.reason ?? "cancelled by the host") : "cancelled",
      ...(event.type === "CANCEL" ? { now: event.at } : {}),
    })),
    notifyCancelled: emit(({ context }) => ({
      type: "cancelled" as const,
      reason: context.cancelReason ?? "cancelled",
      ...(context.record ? { record: context.record } : {}),
    })),

    // ---- multimodal ----
    mediaProgress: emit((_, params: { capability: Capability; detail: string }) => ({
      type: "progress" as const,
      step: 4 as const,
      title: progressTitle(4),
      capability: params.capability,
      detail: params.detail,
    })),
    beginMedia: assign(({ context }) => ({ media: { ...context.media, startedAt: context.now } })),
    mediaEnded: assign(({ context }, params: { capability: Capability; output: MediaStepOutput }) => {
      const out = params.output;
      const check = mediaCheck(context, params.capability, {
        status: "saved" in out ? "ok" : "failed",
        at: out.at,
        ...("saved" in out ? { saved: out.saved } : { error: out.error }),
      });
      return { media: withCheck(context, params.capability, check), now: out.at };
    }),
    mediaCrashed: assign(({ context }, params: { capability: Capability; error: unknown }) => {
      const check = mediaCheck(context, params.capability, {
        status: "failed",
        at: context.now,
        error: mediaCrashed(params.capability, params.error),
      });
      return { media: withCheck(context, params.capability, check) };
    }),
    taskCreated: assign(({ context }, params: { taskId: string; rawStatus: string; at: number }) => ({
      now: params.at,
      media: {
        ...context.media,
        task: {
          id: params.taskId,
          createdAt: params.at,
          pollAt:
            params.at +
            Math.min(context.settings.multimodal.pollIntervalMs, context.settings.multimodal.deadlineMs),
          polls: 0,
          misses: 0,
          rawStatus: params.rawStatus,
          url: null,
          reason: null,
        },
      },
    })),
    taskPolled: assign(({ context }, params: PollVideoOutput) => {
      const task = context.media.task;
      if (!task) return {};
      return {
        now: params.at,
        media: { ...context.media, task: polledTask(task, params, pollDecisionOf(context, params)) },
      };
    }),
    // The poll that ended the task: counted like any other, then the failure recorded. The decision is taken
    // on the context before the poll is counted, as the transition's guard took it.
    taskEnded: assign(({ context }, params: PollVideoOutput) => {
      const decision = pollDecisionOf(context, params);
      const task = context.media.task ? polledTask(context.media.task, params, decision) : null;
      const error = videoTaskEnded(
        params.status === "miss" ? null : params.error,
        decision,
        task?.reason ?? null,
      );
      const check = mediaCheck(context, "video", { status: "failed", at: params.at, error }, task);
      return { now: params.at, media: withCheck(context, "video", check, task) };
    }),
    // CANCEL during the checks ends them, not the integration: the unfinished ones are marked cancelled and the
    // record of the validated text path is written with them.
    cancelMedia: assign(({ context, event }) => {
      const at = event.type === "CANCEL" ? event.at : context.now;
      const checks = { ...context.media.checks };
      const error = mediaCancelled(event.type === "CANCEL" ? event.reason : undefined);
      for (const capability of context.settings.multimodal.capabilities) {
        checks[capability] ??= mediaCheck(context, capability, { status: "cancelled", at, error });
      }
      const task = context.media.task ? { ...context.media.task, url: null } : null;
      return {
        media: { ...context.media, checks, task },
        now: at,
        record: context.record ? withMultimodal(context.record, checks) : context.record,
      };
    }),
    attachMultimodal: assign(({ context }) => ({
      record: context.record ? withMultimodal(context.record, context.media.checks) : context.record,
    })),
  },
}).createMachine({
  id: "tokenhubSetup",
  initial: "idle",
  context: ({ input }) => initialContext(input.settings),
  output: ({ context }): Output => outputOf(context),
  on: {
    CANCEL: { target: ".cancelled", actions: "cancel" },
  },
  states: {
    idle: {
      tags: "rest",
      on: {
        SETUP: { target: "resolvingKey", actions: "start" },
        KEY_PROVIDED: { target: "resolvingKey", actions: "start" },
        KEY_READY: { target: "resolvingKey", actions: "start" },
      },
    },

    // Step-1: explicit key, TOKENHUB_API_KEY, the host's secret, the OS keychain (secrets/sources.ts).
    resolvingKey: {
      entry: { type: "progress", params: { step: 1 } },
      invoke: {
        src: "resolveKey",
        input: ({ context }) => ({ rejected: context.key.rejected }),
        onDone: [
          {
            guard: { type: "keyFound", params: ({ event }) => ({ found: event.output.found }) },
            target: "requesting",
            actions: {
              type: "useKey",
              params: ({ event }) => event.output as Extract<ResolveKeyOutput, { found: true }>,
            },
          },
          {
            target: "awaitingKey",
            actions: {
              type: "needKey",
              params: ({ context, event }) => ({
                reason:
                  !event.output.found && event.output.sawRejected
                    ? "rejected"
                    : context.key.rejected.length > 0
                      ? "rejected"
                      : "missing",
                notices: event.output.notices,
                at: event.output.at,
              }),
            },
          },
        ],
        onError: {
          target: "awaitingKey",
          actions: {
            type: "needKey",
            params: ({ event }) => ({
              reason: "missing",
              notices: [(event.error as Error)?.message ?? "The key sources could not be read."],
            }),
          },
        },
      },
    },

    // Step-2: rest here until the user has put a key where the skill can read it, or handed one over.
    awaitingKey: {
      tags: "rest",
      entry: [{ type: "progress", params: { step: 2 } }, "notifyNeedKey"],
      on: {
        KEY_PROVIDED: { target: "resolvingKey", actions: "keyHandedOver" },
        KEY_READY: { target: "resolvingKey", actions: "keyHandedOver" },
      },
    },

    // Step-3: one attempt with the current model format. Leaving the state (CANCEL) aborts the request.
    requesting: {
      on: { CANCEL: { target: "cancelling", actions: "cancelCheck" } },
      entry: {
        type: "progress",
        params: ({ context }) => ({
          step: 3 as const,
          detail: PROGRESS.attempt(currentModel(context), context.run.attempt + 1),
        }),
      },
      invoke: {
        src: "probe",
        input: ({ context }) => ({
          model: context.settings.modelChain[context.run.modelIndex] ?? "",
          stream: context.settings.stream,
          keySource: context.key.source,
          keyFingerprint: context.key.fingerprint,
          deadline: context.run.startedAt + context.settings.totalMs,
        }),
        onDone: {
          target: "validating",
          actions: { type: "attemptAnswered", params: ({ event }) => event.output },
        },
        onError: [
          {
            guard: { type: "keyLost", params: ({ event }) => ({ error: event.error }) },
            target: "awaitingKey",
            actions: { type: "needKey", params: { reason: "lost", notices: [] } },
          },
          {
            target: "writingStatus",
            actions: {
              type: "prepareFailure",
              params: ({ event }) => ({ failure: requestCrashed(event.error) }),
            },
          },
        ],
      },
    },

    // Step-4: the quickstart's check has been applied (tokenhub/classify); policy decides what follows.
    validating: {
      entry: { type: "progress", params: { step: 4 } },
      always: [
        {
          guard: "completeWithMedia",
          target: "multimodal",
          actions: "prepareSuccess",
        },
        {
          guard: { type: "decided", params: { next: "complete" } },
          target: "writingStatus",
          actions: "prepareSuccess",
        },
        { guard: { type: "decided", params: { next: "unauthorized" } }, target: "unauthorized" },
        { guard: { type: "decided", params: { next: "fallback" } }, target: "fallingBack" },
        {
          guard: { type: "decided", params: { next: "retry" } },
          target: "backingOff",
          actions: "scheduleRetry",
        },
        { target: "writingStatus", actions: { type: "prepareFailure", params: {} } },
      ],
    },

    // 401: the quickstart stops and asks for a new key. The rejected key is remembered by fingerprint only; the
    // failed record replaces the old one (keeping its success inside), and the other sources are surveyed so
    // the message can say which key would be used instead.
    unauthorized: {
      entry: ["rejectKey", { type: "progress", params: { step: 5, detail: PROGRESS.recordingRejection } }],
      invoke: {
        src: "recordRejection",
        input: ({ context }) => ({
          record: context.record as CompletionRecord,
          rejected: context.key.rejected,
        }),
        onDone: {
          target: "awaitingKey",
          actions: { type: "rejectionRecorded", params: ({ event }) => event.output },
        },
        onError: {
          target: "awaitingKey",
          actions: { type: "rejectionLost", params: ({ event }) => ({ error: event.error }) },
        },
      },
    },

    // 429/5xx/network/timeouts: wait until retryAt (absolute, so a restored snapshot keeps the schedule).
    backingOff: {
      tags: "wait",
      meta: { wait: (c: SetupContext): Wait => ({ until: c.run.retryAt ?? Number.NaN, for: "retry" }) },
      on: { CANCEL: { target: "cancelling", actions: "cancelCheck" } },
      entry: {
        type: "progress",
        params: ({ context }) => ({
          step: 3 as const,
          detail: PROGRESS.backoff(
            outcomeSummary(context.outcome),
            (context.run.retryAt ?? 0) - context.now,
            context.run.attempt + 1,
          ),
        }),
      },
      invoke: {
        src: "sleep",
        input: ({ context }) => ({ until: context.run.retryAt ?? 0 }),
        onDone: { target: "requesting" },
      },
    },

    // Region unavailable / no supplier / model not offered: the next model format in the chain.
    fallingBack: {
      entry: [
        {
          type: "progress",
          params: ({ context }) => ({
            step: 3 as const,
            detail: PROGRESS.fallback(currentModel(context), outcomeSummary(context.outcome)),
          }),
        },
        "fallBack",
      ],
      always: { target: "requesting" },
    },

    // Section 5 of the quickstart, opt-in, after the text path passed: each capability in turn, each ending
    // as ok, failed or cancelled in `media`. CANCEL here ends the checks, not the integration: the record of the
    // validated text path is still written, with the unfinished checks marked cancelled.
    multimodal: {
      initial: "choosing",
      on: { CANCEL: { target: "writingStatus", actions: "cancelMedia" } },
      onDone: { target: "writingStatus", actions: "attachMultimodal" },
      states: {
        choosing: {
          always: [
            { guard: { type: "mediaPending", params: { capability: "image" } }, target: "image" },
            { guard: { type: "mediaPending", params: { capability: "video" } }, target: "videoSubmitting" },
            { target: "done" },
          ],
        },

        // One synchronous generation, then the file saved (b64 decoded, or downloaded without the key).
        image: {
          entry: [
            "beginMedia",
            {
              type: "mediaProgress",
              params: ({ context }) => ({
                capability: "image" as const,
                detail: PROGRESS.image(context.settings.multimodal.imageModel),
              }),
            },
          ],
          invoke: {
            src: "generateImage",
            input: ({ context }) => ({
              model: context.settings.multimodal.imageModel,
              keySource: context.key.source,
              keyFingerprint: context.key.fingerprint,
            }),
            onDone: {
              target: "choosing",
              actions: {
                type: "mediaEnded",
                params: ({ event }) => ({ capability: "image" as const, output: event.output }),
              },
            },
            onError: {
              target: "choosing",
              actions: {
                type: "mediaCrashed",
                params: ({ event }) => ({ capability: "image" as const, error: event.error }),
              },
            },
          },
        },

        // The video task: created once; its id is in context from here on, so a restore polls the same task.
        videoSubmitting: {
          entry: [
            "beginMedia",
            {
              type: "mediaProgress",
              params: ({ context }) => ({
                capability: "video" as const,
                detail: PROGRESS.videoSubmit(context.settings.multimodal.videoModel),
              }),
            },
          ],
          invoke: {
            src: "submitVideo",
            input: ({ context }) => ({
              model: context.settings.multimodal.videoModel,
              keySource: context.key.source,
              keyFingerprint: context.key.fingerprint,
            }),
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
                  type: "mediaEnded",
                  params: ({ event }) => ({
                    capability: "video" as const,
                    output: event.output as Extract<SubmitVideoOutput, { error: MediaFailure }>,
                  }),
                },
              },
            ],
            onError: {
              target: "choosing",
              actions: {
                type: "mediaCrashed",
                params: ({ event }) => ({ capability: "video" as const, error: event.error }),
              },
            },
          },
        },

        // A rest state: until the next poll is due (absolute), as in backingOff.
        videoWaiting: {
          tags: "wait",
          meta: {
            wait: (c: SetupContext): Wait => ({
              until: c.media.task?.pollAt ?? Number.NaN,
              for: "video",
              ...(c.media.task ? { taskId: c.media.task.id } : {}),
            }),
          },
          entry: {
            type: "mediaProgress",
            params: ({ context }) => ({
              capability: "video" as const,
              detail: PROGRESS.videoWait(
                context.media.task?.id,
                context.media.task?.rawStatus,
                (context.media.task?.pollAt ?? 0) - context.now,
              ),
            }),
          },
          invoke: {
            src: "sleep",
            input: ({ context }) => ({ until: context.media.task?.pollAt ?? 0 }),
            onDone: { target: "videoPolling" },
          },
        },

        videoPolling: {
          entry: {
            type: "mediaProgress",
            params: ({ context }) => ({
              capability: "video" as const,
              detail: PROGRESS.videoPoll(context.media.task?.id, (context.media.task?.polls ?? 0) + 1),
            }),
          },
          invoke: {
            src: "pollVideo",
            input: ({ context }) => ({
              model: context.settings.multimodal.videoModel,
              taskId: context.media.task?.id ?? "",
              keySource: context.key.source,
              keyFingerprint: context.key.fingerprint,
              deadline: (context.media.task?.createdAt ?? 0) + context.settings.multimodal.deadlineMs,
            }),
            onDone: [
              {
                guard: { type: "pollSays", params: { next: "download" as const } },
                target: "videoDownloading",
                actions: { type: "taskPolled", params: ({ event }) => event.output },
              },
              {
                guard: { type: "pollSays", params: { next: "wait" as const } },
                target: "videoWaiting",
                actions: { type: "taskPolled", params: ({ event }) => event.output },
              },
              {
                target: "choosing",
                actions: { type: "taskEnded", params: ({ event }) => event.output },
              },
            ],
            onError: {
              target: "choosing",
              actions: {
                type: "mediaCrashed",
                params: ({ event }) => ({ capability: "video" as const, error: event.error }),
              },
            },
          },
        },

        // At once after success: the links expire (about 24 hours).
        videoDownloading: {
          entry: {
            type: "mediaProgress",
            params: ({ context }) => ({
              capability: "video" as const,
              detail: PROGRESS.videoDownload(context.media.task?.id),
            }),
          },
          invoke: {
            src: "downloadVideo",
            input: ({ context }) => ({
              model: context.settings.multimodal.videoModel,
              taskId: context.media.task?.id ?? "",
              url: context.media.task?.url ?? "",
            }),
            onDone: {
              target: "choosing",
              actions: {
                type: "mediaEnded",
                params: ({ event }) => ({ capability: "video" as const, output: event.output }),
              },
            },
            onError: {
              target: "choosing",
              actions: {
                type: "mediaCrashed",
                params: ({ event }) => ({ capability: "video" as const, error: event.error }),
              },
            },
          },
        },

        done: { type: "final" },
      },
    },

    // Step-5: the record, success or failure, written through the injected store.
    writingStatus: {
      entry: { type: "progress", params: { step: 5 } },
      invoke: {
        src: "writeStatus",
        input: ({ context }) => ({
          record: context.record as CompletionRecord,
          remember: context.key.remember,
        }),
        onDone: [
          {
            guard: "recordComplete",
            target: "complete",
            actions: { type: "statusWritten", params: ({ event }) => event.output },
          },
          { target: "escalated", actions: { type: "statusWritten", params: ({ event }) => event.output } },
        ],
        onError: {
          target: "escalated",
          actions: { type: "statusWriteFailed", params: ({ event }) => ({ error: event.error }) },
        },
      },
    },

    // A cancel after requests were sent: the record says the check was cancelled (a second CANCEL, the root's,
    // does not wait for it).
    cancelling: {
      entry: { type: "progress", params: { step: 5, detail: PROGRESS.recordingCancel } },
      invoke: {
        src: "writeStatus",
        input: ({ context }) => ({ record: context.record as CompletionRecord, remember: false }),
        onDone: {
          target: "cancelled",
          actions: { type: "statusWritten", params: ({ event }) => event.output },
        },
        onError: { target: "cancelled", actions: "cancelledRecordLost" },
      },
    },

    complete: { type: "final", entry: "notifyCompleted" },
    escalated: { type: "final", entry: "notifyEscalated" },
    cancelled: { type: "final", entry: "notifyCancelled" },
  },
});

export type SetupMachine = typeof setupMachine;
