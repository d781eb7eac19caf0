import type { Escalation, Output } from "../schema/host.ts";
import { TEMPLATE } from "../schema/quickstart.ts";
import {
  type Attempt,
  type CompletionRecord,
  type Failure,
  type FailureCode,
  type KeySource,
  LOCAL_FAILURE_CODES,
  type MultimodalSection,
} from "../schema/record.ts";
import { scrub, scrubbedLine } from "../secrets/scrubber.ts";
import type { Outcome } from "../tokenhub/classify.ts";
import type { SetupContext } from "./context.ts";
import { providerModeOf } from "./policy.ts";

/** What the flow knows when it reaches Step-5; everything in it is already free of key material. */
export interface RunFacts {
  modelChain: string[];
  modelIndex: number;
  baseUrl: string;
  outcome: Outcome | null;
  attempts: Attempt[];
  fallbacksUsed: string[];
  keySource: KeySource | null;
  notices: string[];
  startedAt: number;
  at: number;
  contactUrl: string;
}

const PREVIEW_LENGTH = 80;

/** A failed record's `notes`: the failure in one plain sentence (the details are in `failure`). */
const FAILURE_NOTES: Record<FailureCode, string> = {
  key_rejected: "Integration failed: TokenHub rejected the API key (HTTP 401).",
  retries_exhausted: "Integration failed: TokenHub kept failing for every attempt allowed.",
  server_delay_too_long: "Integration failed: TokenHub asked to wait longer than the configured limit.",
  deadline_exceeded: "Integration failed: the check ran out of time before TokenHub answered.",
  // Region, supplier or an unknown model: the failure's message says which.
  routing_exhausted: "Integration failed: TokenHub could serve none of the model formats tried.",
  insufficient_balance: "Integration failed: TokenHub refused the request for lack of balance (HTTP 402).",
  invalid_response: "Integration failed: TokenHub's answer did not pass the quickstart's response check.",
  fatal: "Integration failed: the request could not be completed, and another attempt would not help.",
  status_write_failed: "Integration failed: the integration record could not be written.",
  unreachable: "Integration failed: TokenHub could not be reached from this machine.",
  wrong_base_url: "Integration failed: the base URL did not answer like TokenHub's API.",
  cancelled: "Integration not verified: the check was cancelled before TokenHub's answer was validated.",
};

/**
 * The Step-5 record. The six template fields carry the quickstart's completion template word for word on
 * success (`notes` may gain one sentence, e.g. where the key was stored); a failure keeps the shape, with
 * `validated_at: null` since nothing was validated. Everything else is the summary under `result`.
 */
export function buildRecord(facts: RunFacts, failure?: Failure): CompletionRecord {
  const model = facts.modelChain[facts.modelIndex] ?? facts.modelChain[0] ?? "";
  const outcome = facts.outcome;
  const ok = outcome?.kind === "ok" ? outcome : null;
  const at = new Date(facts.at).toISOString();
  const record: CompletionRecord = {
    integration_status: failure ? "failed" : TEMPLATE.success,
    provider_mode: providerModeOf(model, facts.modelIndex),
    model,
    endpoint: TEMPLATE.endpoint,
    validated_at: failure ? null : at,
    notes: failure ? FAILURE_NOTES[failure.code] : TEMPLATE.readyNote,
    result: {
      base_url: facts.baseUrl,
      attempted_at: at,
      http_status: outcome?.status ?? null,
      model_served: ok ? ok.model : null,
      response_id: ok ? ok.id : null,
      latency_ms: outcome ? outcome.latencyMs : null,
      attempts: facts.attempts.length,
      fallbacks_used: [...facts.fallbacksUsed],
      key_source: facts.keySource,
      streamed: ok?.streamed ?? false,
      reply_preview: ok ? scrub(ok.content).slice(0, PREVIEW_LENGTH) : null,
      notices: facts.notices.map(scrub),
      request_ids: facts.attempts.flatMap((a) => (a.requestId ? [a.requestId] : [])),
    },
  };
  if (failure) record.failure = failure;
  return record;
}

export function buildEscalation(facts: RunFacts, failure: Failure): Escalation {
  return {
    // A local fault is the user's to fix: no Enterprise Support for it.
    topic: LOCAL_FAILURE_CODES.has(failure.code) ? "local" : "enterprise",
    contact: facts.contactUrl,
    failure,
    diagnostic: {
      attempts: facts.attempts,
      modelsTried: facts.modelChain.slice(0, facts.modelIndex + 1),
      keySource: facts.keySource,
      elapsedMs: Math.max(0, facts.at - facts.startedAt),
    },
  };
}

/**
 * The record with the multimodal section beside the text result: `integration_status` and `notes` are left as
 * they are (a failed image or video check never turns a validated text integration into a failure; each check
 * says how it ended in its own entry).
 */
export function withMultimodal(record: CompletionRecord, media: MultimodalSection): CompletionRecord {
  if (Object.keys(media).length === 0) return record;
  return { ...record, multimodal: media };
}

/**
 * A failed record keeps the last verified integration (`last_success`), so a failed or cancelled run tells the
 * truth about now without losing what was true before; a success stands on its own.
 */
export function withLastSuccess(
  record: CompletionRecord,
  previous: CompletionRecord | undefined,
): CompletionRecord {
  if (record.integration_status === TEMPLATE.success || !previous) return record;
  if (previous.integration_status === TEMPLATE.success) {
    const { last_success: _, ...success } = previous;
    return { ...record, last_success: success as NonNullable<CompletionRecord["last_success"]> };
  }
  return previous.last_success ? { ...record, last_success: previous.last_success } : record;
}

/** What the flow knows for the record, read from the chart's context. */
export function facts(context: SetupContext): RunFacts {
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

const MAX_ATTEMPTS_KEPT = 20;

/** The attempt log with one more attempt (scrubbed, the newest 20 kept): what the record's diagnostic lists. */
export function withAttempt(attempts: Attempt[], model: string, outcome: Outcome, at: number): Attempt[] {
  const attempt: Attempt = {
    model,
    status: outcome.status,
    outcome: outcome.kind === "ok" ? "ok" : scrubbedLine(`${outcome.kind}: ${outcome.message}`, 200),
    requestId: outcome.requestId,
    latencyMs: outcome.latencyMs,
    at: new Date(at).toISOString(),
  };
  return [...attempts, attempt].slice(-MAX_ATTEMPTS_KEPT);
}
