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
import type { Escalation, Notification, Output } from "../schema/host.ts";
import type {
  Attempt,
  CompletionRecord,
  Failure,
  KeySource,
  MediaCheck,
  MultimodalSection,
} from "../schema/record.ts";
import { describeSource } from "../secrets/key.ts";
import { scrubbedLine } from "../secrets/scrubber.ts";
import type { Outcome } from "../tokenhub/classify.ts";
import type { MediaFailure, TaskStatus } from "../tokenhub/classify-media.ts";
import { type NeedKeyReason, needKeyNotification, progressTitle } from "./notifications.ts";
import { type Decision, decide, decidePoll, type Policy, type PollDecision } from "./policy.ts";
import { buildEscalation, buildRecord, type RunFacts, withMultimodal } from "./record.ts";

/** Bump when states, context or events change shape: snapshots from another version are refused. */
export const MACHINE_VERSION = "tokenhub-setup/4";

/** What the statechart needs of the multimodal config; the requests' details stay with the services. */
export interface MediaSettings {
  capabilities: Capability[];
  imageModel: string;
  videoModel: string;
  pollIntervalMs: number;
  deadlineMs: number;
}

export interface Settings extends Policy {
  stream: boolean;
  /** The API base the flow's requests go to, for the record (`result.base_url`). */
  baseUrl: string;
  consoleUrl: string;
  contactUrl: string;
  multimodal: MediaSettings;
}

/** The video task being waited on: everything a restored snapshot needs to poll the same task again. */
export interface VideoTask {
  id: string;
  createdAt: number;
  /** When the next poll is due (absolute, like `retryAt`). */
  pollAt: number;
  polls: number;
  /** Transient poll failures in a row. */
  misses: number;
  rawStatus: string;
  /** The finished video's URL: only between the last poll and the download, then dropped. */
  url: string | null;
  reason: { code: string | null; message: string } | null;
}

export interface SetupContext {
  settings: Settings;
  startedAt: number;
  seed: number;
  /** The latest time the machine has heard of (from an event or an actor's output). */
  now: number;
  modelIndex: number;
  /** Attempts on the current model format. */
  attempt: number;
  attempts: Attempt[];
  fallbacksUsed: string[];
  keySource: KeySource | null;
  keyFingerprint: string | null;
  /** The key in use, masked (`sk-…9f2c`): enough for a person to tell keys apart, nothing to use. */
  keyHint: string | null;
  /** The key TokenHub rejected last (where it came from, masked), for the messages that follow. */
  rejectedKey: KeyHint | null;
  /** Other keys the sources hold besides the rejected one, seen right after a 401 (masked). */
  otherKeys: KeyHint[];
  /** Fingerprints of keys TokenHub rejected in this flow, so re-reading the sources does not loop on them. */
  rejected: string[];
  remember: boolean;
  needKeyReason: NeedKeyReason;
  notices: string[];
  outcome: Outcome | null;
  decision: Decision | null;
  retryAt: number | null;
  record: CompletionRecord | null;
  failure: Failure | null;
  cancelReason: string | null;
  /** The multimodal checks that have ended, by capability. */
  media: MultimodalSection;
  /** When the current multimodal check started. */
  mediaStartedAt: number;
  videoTask: VideoTask | null;
}

/** A timed rest: when it ends, and what it waits for (another attempt, or the video task's next poll). */
export interface Wait {
  /** Epoch ms; NaN when the context lost the time (only a tampered snapshot can: it is refused on restore). */
  until: number;
  for: "retry" | "video";
  taskId?: string;
}

/** A key as people may see it: its source and a masked hint, never the key. */
export interface KeyHint {
  source: KeySource;
  hint: string;
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

/** Thrown by the probe actor when the key the flow was using can no longer be read (fresh process). */
export const KEY_LOST = "key_lost";

const MAX_ATTEMPTS_KEPT = 20;

const notProvided = (name: string) =>
  fromPromise<never, unknown>(async () => {
    throw new Error(`the ${name} actor was not provided; use machine.provide()`);
  });

function facts(context: SetupContext): RunFacts {
  return {
    modelChain: context.settings.modelChain,
    modelIndex: context.modelIndex,
    baseUrl: context.settings.baseUrl,
    outcome: context.outcome,
    attempts: context.attempts,
    fallbacksUsed: context.fallbacksUsed,
    keySource: context.keySource,
    notices: context.notices,
    startedAt: context.startedAt,
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
  const task = context.videoTask;
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
): MediaCheck {
  const task = capability === "video" ? context.videoTask : null;
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
    duration_ms: Math.max(0, end.at - context.mediaStartedAt),
    finished_at: new Date(end.at).toISOString(),
    ...(task ? { polls: task.polls } : {}),
    ...(end.saved?.transfer ? { transfer: end.saved.transfer } : {}),
    ...(end.error ? { error: end.error } : {}),
  };
}

function crashFailure(capability: Capability, error: unknown): MediaFailure {
  const e = error as { code?: unknown; message?: unknown; remedy?: unknown } | null;
  if (e?.code === KEY_LOST) {
    // Only after a restore in another process, with a key that lived in the first one's memory: the check
    // cannot ask for it again (the text path already passed), so it says how to avoid this next time.
    return {
      code: "media_key_lost",
      message: `The ${capability} check could not go on after the restore: the key was held only in an earlier process's memory.`,
      remedy:
        "Keep the key where the skill can read it again (TOKENHUB_API_KEY, the host's secret store or the OS keychain) and run the check again.",
    };
  }
  return {
    code: "media_error",
    message: `The ${capability} check stopped: ${typeof e?.message === "string" ? e.message : "unknown error"}`,
    remedy: typeof e?.remedy === "string" ? e.remedy : "Run the check again; report it if it persists.",
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

export const setupMachine = setup({
  types: {
    context: {} as SetupContext,
    events: {} as SetupEvent,
    input: {} as { settings: Settings },
    output: {} as Output,
    emitted: {} as Notification,
  },
  actors: {
    resolveKey: notProvided("resolveKey") as unknown as ReturnType<
      typeof fromPromise<ResolveKeyOutput, ResolveKeyInput>
    >,
    probe: notProvided("probe") as unknown as ReturnType<typeof fromPromise<ProbeOutput, ProbeInput>>,
    sleep: notProvided("sleep") as unknown as ReturnType<typeof fromPromise<void, { until: number }>>,
    writeStatus: notProvided("writeStatus") as unknown as ReturnType<
      typeof fromPromise<WriteStatusOutput, WriteStatusInput>
    >,
    recordRejection: notProvided("recordRejection") as unknown as ReturnType<
      typeof fromPromise<RecordRejectionOutput, RecordRejectionInput>
    >,
    generateImage: notProvided("generateImage") as unknown as ReturnType<
      typeof fromPromise<MediaStepOutput, MediaCallInput>
    >,
    submitVideo: notProvided("submitVideo") as unknown as ReturnType<
      typeof fromPromise<SubmitVideoOutput, MediaCallInput>
    >,
    pollVideo: notProvided("pollVideo") as unknown as ReturnType<
      typeof fromPromise<PollVideoOutput, PollVideoInput>
    >,
    downloadVideo: notProvided("downloadVideo") as unknown as ReturnType<
      typeof fromPromise<MediaStepOutput, DownloadVideoInput>
    >,
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
      context.media[params.capability] === undefined,
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
        startedAt: event.at,
        now: event.at,
        seed: event.seed,
        remember: event.type === "KEY_PROVIDED" ? event.remember : context.remember,
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
    keyHandedOver: assign(({ event }) =>
      event.type === "KEY_PROVIDED"
        ? { remember: event.remember, now: event.at }
        : event.type === "KEY_READY"
          ? { now: event.at }
          : {},
    ),
    useKey: assign(
      (
        _,
        params: { source: KeySource; fingerprint: string; hint: string; notices: string[]; at: number },
      ) => ({
        keySource: params.source,
        keyFingerprint: params.fingerprint,
        keyHint: params.hint,
        notices: params.notices,
        now: params.at,
      }),
    ),
    needKey: assign((_, params: { reason: NeedKeyReason; notices: string[]; at?: number }) => ({
      needKeyReason: params.reason,
      notices: params.notices,
      keySource: null,
      keyFingerprint: null,
      keyHint: null,
      ...(params.at === undefined ? {} : { now: params.at }),
    })),
    notifyNeedKey: emit(({ context }) =>
      needKeyNotification(context.needKeyReason, context.settings.consoleUrl, context.notices, {
        rejectedKey: context.needKeyReason === "rejected" ? context.rejectedKey : null,
        otherKeys: context.needKeyReason === "rejected" ? context.otherKeys : [],
      }),
    ),
    recordAttempt: assign(({ context }, params: ProbeOutput) => {
      const attempt: Attempt = {
        model: context.settings.modelChain[context.modelIndex] ?? "",
        status: params.outcome.status,
        outcome:
          params.outcome.kind === "ok"
            ? "ok"
            : scrubbedLine(`${params.outcome.kind}: ${params.outcome.message}`, 200),
        requestId: params.outcome.requestId,
        latencyMs: params.outcome.latencyMs,
        at: new Date(params.at).toISOString(),
      };
      return {
        outcome: params.outcome,
        now: params.at,
        attempt: context.attempt + 1,
        attempts: [...context.attempts, attempt].slice(-MAX_ATTEMPTS_KEPT),
      };
    }),
    decide: assign(({ context }) => ({
      decision: context.outcome
        ? decide(context.settings, context.outcome, {
            attempt: context.attempt,
            modelIndex: context.modelIndex,
            now: context.now,
            startedAt: context.startedAt,
            seed: context.seed,
          })
        : null,
    })),
    scheduleRetry: assign(({ context }) => ({
      retryAt: context.decision?.next === "retry" ? context.decision.retryAt : context.now,
    })),
    fallBack: assign(({ context }) => {
      const next =
        context.decision?.next === "fallback" ? context.decision.modelIndex : context.modelIndex + 1;
      return {
        fallbacksUsed: [...context.fallbacksUsed, context.settings.modelChain[context.modelIndex] ?? ""],
        modelIndex: next,
        attempt: 0,
      };
    }),
    // The 401's record is built while the flow still knows which key it used (rejectKey forgets it).
    prepareRejection: assign(({ context }) => ({
      record: buildRecord(facts(context), {
        code: "key_rejected",
        message: `TokenHub rejected the key${context.keySource ? ` from ${describeSource(context.keySource)}` : ""}${context.keyHint ? ` (${context.keyHint})` : ""} (HTTP 401).`,
        remedy:
          "Create a new key in the TokenHub console and supply it where this runs; then run the setup again.",
      }),
      rejectedKey:
        context.keySource && context.keyHint ? { source: context.keySource, hint: context.keyHint } : null,
    })),
    rejectKey: assign(({ context }) => ({
      rejected: context.keyFingerprint
        ? [...new Set([...context.rejected, context.keyFingerprint])]
        : context.rejected,
      needKeyReason: "rejected" as const,
      notices: [],
      keySource: null,
      keyFingerprint: null,
      keyHint: null,
      attempt: 0,
    })),
    rejectionRecorded: assign((_, params: RecordRejectionOutput) => ({
      otherKeys: params.otherKeys,
      notices: params.notice ? [params.notice] : [],
      now: params.at,
    })),
    rejectionNotRecorded: assign((_, params: { error: unknown }) => ({
      record: null,
      otherKeys: [],
      notices: [
        `The failed check could not be recorded: ${(params.error as Error | null)?.message ?? "unknown error"}`,
      ],
    })),
    // Stopped mid-check: the record says so (the last success kept inside it), instead of the old one standing.
    prepareCancelled: assign(({ context, event }) => ({
      record: buildRecord(facts(context), {
        code: "cancelled",
        message: `The check was cancelled${event.type === "CANCEL" && event.reason ? ` (${event.reason})` : ""} before TokenHub's answer was validated.`,
        remedy: "Run the setup again to verify the integration.",
      }),
    })),
    cancelledRecordLost: assign({ record: null }),
    prepareSuccess: assign(({ context }) => ({ record: buildRecord(facts(context)), failure: null })),
    prepareFailure: assign(({ context }, params: { failure?: Failure }) => {
      const failure = params.failure ?? (context.decision?.next === "fail" ? context.decision.failure : null);
      if (!failure) return {};
      return { failure, record: buildRecord(facts(context), failure) };
    }),
    statusWritten: assign((_, params: WriteStatusOutput) => ({ record: params.record, now: params.at })),
    statusWriteFailed: assign(({ context }, params: { error: unknown }) => {
      const error = params.error as { message?: string; remedy?: string } | null;
      const writeFailure: Failure = {
        code: "status_write_failed",
        message: `The integration record could not be written: ${error?.message ?? "unknown error"}`,
        remedy: error?.remedy ?? "Check that the status file's folder is writable.",
      };
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
    beginMedia: assign(({ context }) => ({ mediaStartedAt: context.now })),
    mediaEnded: assign(
      (
        { context },
        params: { capability: Capability; output: MediaStepOutput | { error: MediaFailure; at: number } },
      ) => {
        const out = params.output;
        const check = mediaCheck(context, params.capability, {
          status: "saved" in out ? "ok" : "failed",
          at: out.at,
          ...("saved" in out ? { saved: out.saved } : { error: out.error }),
        });
        return {
          media: { ...context.media, [params.capability]: check },
          now: out.at,
          // The video's URL (possibly signed) is not kept past its download.
          videoTask: context.videoTask ? { ...context.videoTask, url: null } : null,
        };
      },
    ),
    mediaCrashed: assign(({ context }, params: { capability: Capability; error: unknown }) => ({
      media: {
        ...context.media,
        [params.capability]: mediaCheck(context, params.capability, {
          status: "failed",
          at: context.now,
          error: crashFailure(params.capability, params.error),
        }),
      },
      videoTask: context.videoTask ? { ...context.videoTask, url: null } : null,
    })),
    taskCreated: assign(({ context }, params: { taskId: string; rawStatus: string; at: number }) => ({
      now: params.at,
      videoTask: {
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
    })),
    taskPolled: assign(({ context }, params: PollVideoOutput) => {
      const task = context.videoTask;
      if (!task) return {};
      return { now: params.at, videoTask: polledTask(task, params, pollDecisionOf(context, params)) };
    }),
    // The poll that ended the task: counted like any other, then the failure recorded. The decision is taken
    // on the context before the poll is counted, as the transition's guard took it.
    taskEnded: assign(({ context }, params: PollVideoOutput) => {
      const decision = pollDecisionOf(context, params);
      const task = context.videoTask
        ? { ...polledTask(context.videoTask, params, decision), url: null }
        : null;
      const error: MediaFailure =
        params.error && params.status !== "miss"
          ? params.error
          : decision.next === "fail"
            ? {
                code: task?.reason?.code ? `${decision.code}: ${task.reason.code}` : decision.code,
                message: task?.reason?.message
                  ? `${decision.message} ${task.reason.message}`
                  : decision.message,
                remedy: decision.remedy,
              }
            : { code: "media_error", message: "The video task ended unexpectedly.", remedy: "Run again." };
      const polled = { ...context, now: params.at, videoTask: task };
      return {
        now: params.at,
        videoTask: task,
        media: {
          ...context.media,
          video: mediaCheck(polled, "video", { status: "failed", at: params.at, error }),
        },
      };
    }),
    cancelMedia: assign(({ context, event }) => {
      const at = event.type === "CANCEL" ? event.at : context.now;
      const media = { ...context.media };
      const error = {
        code: "media_cancelled",
        message: event.type === "CANCEL" && event.reason ? event.reason : "cancelled by the host",
        remedy: "Run the setup again with the check enabled when there is time for it.",
      };
      for (const capability of context.settings.multimodal.capabilities) {
        media[capability] ??= mediaCheck(context, capability, { status: "cancelled", at, error });
      }
      return { media, now: at, videoTask: context.videoTask ? { ...context.videoTask, url: null } : null };
    }),
    attachMultimodal: assign(({ context }) => ({
      record: context.record ? withMultimodal(context.record, context.media) : context.record,
    })),
  },
}).createMachine({
  id: "tokenhubSetup",
  initial: "idle",
  context: ({ input }) => ({
    settings: input.settings,
    startedAt: 0,
    seed: 0,
    now: 0,
    modelIndex: 0,
    attempt: 0,
    attempts: [],
    fallbacksUsed: [],
    keySource: null,
    keyFingerprint: null,
    keyHint: null,
    rejectedKey: null,
    otherKeys: [],
    rejected: [],
    remember: false,
    needKeyReason: "missing",
    notices: [],
    outcome: null,
    decision: null,
    retryAt: null,
    record: null,
    failure: null,
    cancelReason: null,
    media: {},
    mediaStartedAt: 0,
    videoTask: null,
  }),
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
        input: ({ context }) => ({ rejected: context.rejected }),
        onDone: [
          {
            guard: { type: "keyFound", params: ({ event }) => ({ found: event.output.found }) },
            target: "requesting",
            actions: {
              type: "useKey",
              params: ({ event }) => {
                const out = event.output as Extract<ResolveKeyOutput, { found: true }>;
                return {
                  source: out.source,
                  fingerprint: out.fingerprint,
                  hint: out.hint,
                  notices: out.notices,
                  at: out.at,
                };
              },
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
                    : context.rejected.length > 0
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
      on: { CANCEL: { target: "cancelling", actions: ["cancel", "prepareCancelled"] } },
      entry: {
        type: "progress",
        params: ({ context }) => ({
          step: 3 as const,
          detail: `${context.settings.modelChain[context.modelIndex]} (attempt ${context.attempt + 1})`,
        }),
      },
      invoke: {
        src: "probe",
        input: ({ context }) => ({
          model: context.settings.modelChain[context.modelIndex] ?? "",
          stream: context.settings.stream,
          keySource: context.keySource,
          keyFingerprint: context.keyFingerprint,
          deadline: context.startedAt + context.settings.totalMs,
        }),
        onDone: {
          target: "validating",
          actions: { type: "recordAttempt", params: ({ event }) => event.output },
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
              params: ({ event }) => ({
                failure: {
                  code: "fatal",
                  message: `The request could not be made: ${(event.error as Error)?.message ?? "unknown error"}`,
                  remedy: "This is a bug in tokenhub-setup or its environment; report it with the debug log.",
                },
              }),
            },
          },
        ],
      },
    },

    // Step-4: the quickstart's check has been applied (tokenhub/classify); policy decides what follows.
    validating: {
      entry: [{ type: "progress", params: { step: 4 } }, "decide"],
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
        {
          guard: { type: "decided", params: { next: "unauthorized" } },
          target: "unauthorized",
          actions: "prepareRejection",
        },
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
      entry: [
        "rejectKey",
        { type: "progress", params: { step: 5, detail: "recording that TokenHub rejected the key" } },
      ],
      invoke: {
        src: "recordRejection",
        input: ({ context }) => ({ record: context.record as CompletionRecord, rejected: context.rejected }),
        onDone: {
          target: "awaitingKey",
          actions: { type: "rejectionRecorded", params: ({ event }) => event.output },
        },
        onError: {
          target: "awaitingKey",
          actions: { type: "rejectionNotRecorded", params: ({ event }) => ({ error: event.error }) },
        },
      },
    },

    // 429/5xx/network/timeouts: wait until retryAt (absolute, so a restored snapshot keeps the schedule).
    backingOff: {
      tags: "wait",
      meta: { wait: (c: SetupContext): Wait => ({ until: c.retryAt ?? Number.NaN, for: "retry" }) },
      on: { CANCEL: { target: "cancelling", actions: ["cancel", "prepareCancelled"] } },
      entry: {
        type: "progress",
        params: ({ context }) => ({
          step: 3 as const,
          detail: `${outcomeSummary(context.outcome)}: waiting ${(Math.max(0, (context.retryAt ?? 0) - context.now) / 1000).toFixed(1)} s before attempt ${context.attempt + 1}`,
        }),
      },
      invoke: {
        src: "sleep",
        input: ({ context }) => ({ until: context.retryAt ?? 0 }),
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
            detail: `${context.settings.modelChain[context.modelIndex]} cannot be served (${outcomeSummary(context.outcome)}): trying the next model format`,
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
      on: { CANCEL: { target: "writingStatus", actions: ["cancelMedia", "attachMultimodal"] } },
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
                detail: `image check: generating with ${context.settings.multimodal.imageModel}`,
              }),
            },
          ],
          invoke: {
            src: "generateImage",
            input: ({ context }) => ({
              model: context.settings.multimodal.imageModel,
              keySource: context.keySource,
              keyFingerprint: context.keyFingerprint,
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
                detail: `video check: creating a task with ${context.settings.multimodal.videoModel}`,
              }),
            },
          ],
          invoke: {
            src: "submitVideo",
            input: ({ context }) => ({
              model: context.settings.multimodal.videoModel,
              keySource: context.keySource,
              keyFingerprint: context.keyFingerprint,
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
              until: c.videoTask?.pollAt ?? Number.NaN,
              for: "video",
              ...(c.videoTask ? { taskId: c.videoTask.id } : {}),
            }),
          },
          entry: {
            type: "mediaProgress",
            params: ({ context }) => ({
              capability: "video" as const,
              detail: `video check: task ${context.videoTask?.id} is ${context.videoTask?.rawStatus}; next poll in ${(Math.max(0, (context.videoTask?.pollAt ?? 0) - context.now) / 1000).toFixed(1)} s`,
            }),
          },
          invoke: {
            src: "sleep",
            input: ({ context }) => ({ until: context.videoTask?.pollAt ?? 0 }),
            onDone: { target: "videoPolling" },
          },
        },

        videoPolling: {
          entry: {
            type: "mediaProgress",
            params: ({ context }) => ({
              capability: "video" as const,
              detail: `video check: polling task ${context.videoTask?.id} (poll ${(context.videoTask?.polls ?? 0) + 1})`,
            }),
          },
          invoke: {
            src: "pollVideo",
            input: ({ context }) => ({
              model: context.settings.multimodal.videoModel,
              taskId: context.videoTask?.id ?? "",
              keySource: context.keySource,
              keyFingerprint: context.keyFingerprint,
              deadline: (context.videoTask?.createdAt ?? 0) + context.settings.multimodal.deadlineMs,
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
              detail: `video check: task ${context.videoTask?.id} succeeded; downloading the file`,
            }),
          },
          invoke: {
            src: "downloadVideo",
            input: ({ context }) => ({
              model: context.settings.multimodal.videoModel,
              taskId: context.videoTask?.id ?? "",
              url: context.videoTask?.url ?? "",
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
        input: ({ context }) => ({ record: context.record as CompletionRecord, remember: context.remember }),
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
      entry: { type: "progress", params: { step: 5, detail: "recording that the check was cancelled" } },
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
