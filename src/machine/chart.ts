/**
 * The agent quickstart as a statechart, Steps 1-5 and their error states: Step-1 `resolvingKey`, Step-2
 * `awaitingKey`, Step-3 `requesting`, Step-4 `validating`, Step-5 `writingStatus`; `unauthorized` (401),
 * `backingOff` (429/5xx), `fallingBack` (region, supplier), `cancelling`, and the finals. The optional image and
 * video checks are a machine of their own (media-checks.ts), invoked by `multimodal`.
 *
 * The machine is pure: time arrives in events and actor outputs (`at`), jitter from a seed, and every effect
 * (key sources, HTTP, sleeping, the record store) is an actor injected with `machine.provide(...)`. The key
 * itself never enters context, events or emitted notifications: the session keeps it and the actors use it.
 * States are tagged `rest` (a host event moves the flow on) or `wait` (a time does); machine/face.ts derives
 * all a host may know from those tags. A wait is an absolute time in context plus a `sleep` actor, not an
 * `after` delay, so it survives persist/restore (xstate #5331).
 */
import { assign, emit, sendTo, setup } from "xstate";
import type { Notification, Output } from "../schema/host.ts";
import type { CompletionRecord, Failure } from "../schema/record.ts";
import {
  initialContext,
  type Settings,
  type SetupContext,
  type SetupEvent,
  type Wait,
  withPreferences,
} from "./context.ts";
import {
  KEY_LOST,
  notProvided,
  type ProbeInput,
  type ProbeOutput,
  type RecordRejectionInput,
  type RecordRejectionOutput,
  type ResolveKeyInput,
  type ResolveKeyOutput,
  type WriteStatusInput,
  type WriteStatusOutput,
} from "./effects.ts";
import {
  checkCancelled,
  keyRejected,
  recordNotWritten,
  rejectionNotRecorded,
  requestCrashed,
  sourcesUnread,
} from "./failures.ts";
import { type MediaChecksOutput, mediaChecksMachine } from "./media-checks.ts";
import {
  endNotification,
  type NeedKeyReason,
  needKeyNotification,
  outcomeSummary,
  PROGRESS,
  progressTitle,
} from "./notifications.ts";
import { type Decision, decide } from "./policy.ts";
import { buildRecord, facts, outputOf, withAttempt, withMultimodal } from "./record.ts";

export { MACHINE_VERSION } from "./version.ts";

/** The id the multimodal checks run under while the chart is in `multimodal` (snapshots store them by it). */
export const MEDIA_CHECKS_ID = "media";

const currentModel = (context: SetupContext) => context.settings.modelChain[context.run.modelIndex] ?? "";

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
    mediaChecks: mediaChecksMachine,
  },
  guards: {
    keyFound: (_, params: { found: boolean }) => params.found,
    keyLost: (_, params: { error: unknown }) =>
      (params.error as { code?: unknown } | null)?.code === KEY_LOST,
    decided: ({ context }, params: { next: Decision["next"] }) => context.decision?.next === params.next,
    recordComplete: ({ context }) => context.record?.integration_status === "success",
    completeWithMedia: ({ context }) =>
      context.decision?.next === "complete" && context.settings.multimodal.capabilities.length > 0,
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
        settings: withPreferences(context.settings, preferences),
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
    // Rejected when TokenHub rejected a key in this flow (or the one found was such a key), else missing.
    needKey: assign(({ context }, params: { reason?: NeedKeyReason; notices: string[]; at?: number }) => ({
      key: {
        ...context.key,
        needReason: params.reason ?? (context.key.rejected.length > 0 ? "rejected" : "missing"),
        source: null,
        fingerprint: null,
        hint: null,
      },
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
      const run = {
        ...context.run,
        attempt: context.run.attempt + 1,
        attempts: withAttempt(context.run.attempts, currentModel(context), params.outcome, params.at),
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
    cancel: assign(({ event }) => ({
      cancelReason: event.type === "CANCEL" ? (event.reason ?? "cancelled by the host") : "cancelled",
      ...(event.type === "CANCEL" ? { now: event.at } : {}),
    })),
    // A final state tells the host how the flow ended: what its output says, as a notification.
    notifyEnded: emit(({ context }) => endNotification(outputOf(context))),
    attachMultimodal: assign(({ context }, params: MediaChecksOutput) => ({
      now: params.at,
      record: context.record ? withMultimodal(context.record, params.checks) : context.record,
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
              params: ({ event }) => ({
                reason: event.output.found === false && event.output.sawRejected ? "rejected" : undefined,
                notices: event.output.notices,
                at: event.output.at,
              }),
            },
          },
        ],
        onError: {
          target: "awaitingKey",
          actions: { type: "needKey", params: ({ event }) => ({ notices: [sourcesUnread(event.error)] }) },
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

    // Section 5 of the quickstart, opt-in, after the text path passed: the checks' own machine
    // (media-checks.ts). CANCEL here ends the checks, not the integration: the checks mark the unfinished ones
    // cancelled and end, and the record of the validated text path is written with them.
    multimodal: {
      invoke: {
        id: MEDIA_CHECKS_ID,
        src: "mediaChecks",
        input: ({ context }) => ({
          settings: context.settings.multimodal,
          key: { source: context.key.source, fingerprint: context.key.fingerprint },
          now: context.now,
        }),
        onDone: {
          target: "writingStatus",
          actions: { type: "attachMultimodal", params: ({ event }) => event.output },
        },
      },
      on: {
        CANCEL: { actions: sendTo(MEDIA_CHECKS_ID, ({ event }) => event) },
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

    complete: { type: "final", entry: "notifyEnded" },
    escalated: { type: "final", entry: "notifyEnded" },
    cancelled: { type: "final", entry: "notifyEnded" },
  },
});

export type SetupMachine = typeof setupMachine;
