import type { Escalation } from "../schema/host.ts";
import type {
  Attempt,
  CompletionRecord,
  Failure,
  KeySource,
  MediaCheck,
  MultimodalSection,
} from "../schema/record.ts";
import { scrub } from "../secrets/scrubber.ts";
import type { Outcome } from "../tokenhub/classify.ts";
import { providerModeOf } from "./policy.ts";

/** What the flow knows when it reaches Step-5; everything in it is already free of key material. */
export interface RunFacts {
  modelChain: string[];
  modelIndex: number;
  endpoint: string;
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

/** The Step-5 record: the quickstart's completion template, then the summary and, on failure, the failure. */
export function buildRecord(facts: RunFacts, failure?: Failure): CompletionRecord {
  const model = facts.modelChain[facts.modelIndex] ?? facts.modelChain[0] ?? "";
  const outcome = facts.outcome;
  const ok = outcome?.kind === "ok" ? outcome : null;
  const notes = [
    failure
      ? `Integration check failed: ${failure.code}.`
      : `Minimal chat completion validated${ok?.streamed ? " over SSE" : ""}.`,
    facts.fallbacksUsed.length > 0 ? `Fell back from ${facts.fallbacksUsed.join(", ")} to ${model}.` : "",
    ...facts.notices,
  ]
    .filter(Boolean)
    .join(" ");
  const record: CompletionRecord = {
    integration_status: failure ? "failed" : "complete",
    provider_mode: providerModeOf(model, facts.modelIndex),
    model,
    endpoint: facts.endpoint,
    validated_at: new Date(facts.at).toISOString(),
    notes: scrub(notes),
    result: {
      http_status: outcome?.status ?? null,
      model_served: ok ? ok.model : null,
      response_id: ok ? ok.id : null,
      latency_ms: outcome ? outcome.latencyMs : null,
      attempts: facts.attempts.length,
      fallbacks_used: [...facts.fallbacksUsed],
      key_source: facts.keySource,
      streamed: ok?.streamed ?? false,
      reply_preview: ok ? scrub(ok.content).slice(0, PREVIEW_LENGTH) : null,
    },
  };
  if (failure) record.failure = failure;
  return record;
}

export function buildEscalation(facts: RunFacts, failure: Failure): Escalation {
  return {
    topic: "enterprise",
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
 * The record with the multimodal section beside the text result: `integration_status` is left as it is (a
 * failed image or video check never turns a validated text integration into a failure), and the notes say
 * how each check ended.
 */
export function withMultimodal(record: CompletionRecord, media: MultimodalSection): CompletionRecord {
  const entries = Object.entries(media) as [string, MediaCheck][];
  if (entries.length === 0) return record;
  const said = entries.map(([capability, check]) =>
    check.status === "ok"
      ? `${capability} check passed (${check.model}).`
      : `${capability} check ${check.status}${check.error ? `: ${check.error.code}` : ""} (${check.model}).`,
  );
  return { ...record, notes: scrub([record.notes, ...said].join(" ")), multimodal: media };
}
