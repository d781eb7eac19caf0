/**
 * The agent quickstart as a statechart: Step-1 `resolvingKey`, Step-2 `awaitingKey`, Step-3 `requesting`,
 * Step-4 `validating`, Step-5 `writingStatus`, with every error path an explicit state.
 *
 * The machine is pure: time arrives in events and actor outputs (`at`), jitter from a seed, and every effect
 * (key sources, HTTP, sleeping, the record store) is an actor injected with `machine.provide(...)`. The key
 * itself never enters context, events or emitted notifications: the session keeps it and the actors use it.
 *
 * Rest states (where a snapshot may be taken): idle, awaitingKey, backingOff and the finals. A backoff is an
 * absolute `retryAt` plus a `sleep` actor, not an `after` delay, so it survives persist/restore (xstate #5331).
 */
import { assign, emit, fromPromise, setup } from "xstate";
import type { Escalation, Notification, Output } from "../schema/host.ts";
import type { Attempt, CompletionRecord, Failure, KeySource } from "../schema/record.ts";
import type { Outcome } from "../tokenhub/classify.ts";
import { type NeedKeyReason, needKeyNotification, progressTitle } from "./notifications.ts";
import { type Decision, decide, type Policy } from "./policy.ts";
import { buildEscalation, buildRecord, type RunFacts } from "./record.ts";

/** Bump when states, context or events change shape: snapshots from another version are refused. */
export const MACHINE_VERSION = "tokenhub-setup/1";

export interface Settings extends Policy {
  stream: boolean;
  endpoint: string;
  consoleUrl: string;
  contactUrl: string;
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
}

export type SetupEvent =
  | { type: "SETUP"; at: number; seed: number; preferences?: { modelChain?: string[]; stream?: boolean } }
  | { type: "KEY_PROVIDED"; at: number; seed: number; remember: boolean }
  | { type: "KEY_READY"; at: number; seed: number }
  | { type: "CANCEL"; at: number; reason?: string };

export type ResolveKeyOutput =
  | { found: true; source: KeySource; fingerprint: string; notices: string[]; at: number }
  | { found: false; sawRejected: boolean; notices: string[]; at: number };
export interface ResolveKeyInput {
  rejected: string[];
}
export interface ProbeInput {
  model: string;
  stream: boolean;
  keySource: KeySource | null;
  keyFingerprint: string | null;
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
    endpoint: context.settings.endpoint,
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

export function escalationOf(context: SetupContext): Escalation | null {
  return context.failure ? buildEscalation(facts(context), context.failure) : null;
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
  },
  guards: {
    keyFound: (_, params: { found: boolean }) => params.found,
    keyLost: (_, params: { error: unknown }) =>
      (params.error as { code?: unknown } | null)?.code === KEY_LOST,
    decided: ({ context }, params: { next: Decision["next"] }) => context.decision?.next === params.next,
    recordComplete: ({ context }) => context.record?.integration_status === "complete",
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
      (_, params: { source: KeySource; fingerprint: string; notices: string[]; at: number }) => ({
        keySource: params.source,
        keyFingerprint: params.fingerprint,
        notices: params.notices,
        now: params.at,
      }),
    ),
    needKey: assign((_, params: { reason: NeedKeyReason; notices: string[]; at?: number }) => ({
      needKeyReason: params.reason,
      notices: params.notices,
      keySource: null,
      keyFingerprint: null,
      ...(params.at === undefined ? {} : { now: params.at }),
    })),
    notifyNeedKey: emit(({ context }) =>
      needKeyNotification(context.needKeyReason, context.settings.consoleUrl, context.notices),
    ),
    recordAttempt: assign(({ context }, params: ProbeOutput) => {
      const attempt: Attempt = {
        model: context.settings.modelChain[context.modelIndex] ?? "",
        status: params.outcome.status,
        outcome:
          params.outcome.kind === "ok"
            ? "ok"
            : `${params.outcome.kind}: ${params.outcome.message}`.slice(0, 200),
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
    rejectKey: assign(({ context }) => ({
      rejected: context.keyFingerprint
        ? [...new Set([...context.rejected, context.keyFingerprint])]
        : context.rejected,
      needKeyReason: "rejected" as const,
      notices: [],
      keySource: null,
      keyFingerprint: null,
      attempt: 0,
    })),
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
  }),
  output: ({ context }): Output => {
    if (context.cancelReason !== null) return { status: "cancelled", reason: context.cancelReason };
    const escalation = escalationOf(context);
    if (escalation)
      return { status: "escalated", escalation, ...(context.record ? { record: context.record } : {}) };
    return { status: "complete", record: context.record as CompletionRecord };
  },
  on: {
    CANCEL: { target: ".cancelled", actions: "cancel" },
  },
  states: {
    idle: {
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
                return { source: out.source, fingerprint: out.fingerprint, notices: out.notices, at: out.at };
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
      entry: [{ type: "progress", params: { step: 2 } }, "notifyNeedKey"],
      on: {
        KEY_PROVIDED: { target: "resolvingKey", actions: "keyHandedOver" },
        KEY_READY: { target: "resolvingKey", actions: "keyHandedOver" },
      },
    },

    // Step-3: one attempt with the current model format. Leaving the state (CANCEL) aborts the request.
    requesting: {
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
                  remedy:
                    "This is a bug in tokenhub-setup or its environment; run with --verbose and report it.",
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

    // 401: the quickstart stops and asks for a new key. The rejected key is remembered by fingerprint only.
    unauthorized: {
      entry: "rejectKey",
      always: { target: "awaitingKey" },
    },

    // 429/5xx/network/timeouts: wait until retryAt (absolute, so a restored snapshot keeps the schedule).
    backingOff: {
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

    complete: { type: "final", entry: "notifyCompleted" },
    escalated: { type: "final", entry: "notifyEscalated" },
    cancelled: { type: "final", entry: "notifyCancelled" },
  },
});

export type SetupMachine = typeof setupMachine;
export const STATE_NAMES = Object.keys(setupMachine.config.states ?? {});
export const FINAL_STATES: ReadonlySet<string> = new Set(["complete", "escalated", "cancelled"]);
export const REST_STATES = new Set([
  "idle",
  "awaitingKey",
  "backingOff",
  "complete",
  "escalated",
  "cancelled",
]);
