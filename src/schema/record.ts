import { z } from "zod";
import { TEMPLATE } from "./quickstart.ts";

/** Where the key came from. `file` is the plaintext file a person chose with `key set --insecure-storage`. */
export const KeySourceSchema = z.enum(["event", "env", "host", "keychain", "file"]);
export type KeySource = z.infer<typeof KeySourceSchema>;

/**
 * How the model that answered was named (tokenhub-api.md, "Base, auth, models"): a bare name lets platform routing
 * choose the provider (the quickstart template's "platform-routing"), `provider/model` pins one, and a bare name
 * after the first in the chain is a plan model.
 */
export const ProviderModeSchema = z.enum([TEMPLATE.providerMode, "provider-pinned", "plan-model"]);
export type ProviderMode = z.infer<typeof ProviderModeSchema>;

export const FailureCodeSchema = z.enum([
  "key_rejected",
  "retries_exhausted",
  "server_delay_too_long",
  "deadline_exceeded",
  "routing_exhausted",
  "insufficient_balance",
  "invalid_response",
  "fatal",
  "status_write_failed",
  // Faults on this side, not TokenHub's: no connection at all, or a base URL that is not TokenHub's API.
  "unreachable",
  "wrong_base_url",
  // The run was stopped (Ctrl-C, a host's cancel) after it had sent a request and before a verdict.
  "cancelled",
]);

/** Failures whose cause is on the user's side: a local remedy, their own exit code, and no escalation. */
export const LOCAL_FAILURE_CODES: ReadonlySet<FailureCode> = new Set([
  "unreachable",
  "wrong_base_url",
  // The record's folder is on this machine: TokenHub answered, the write here failed.
  "status_write_failed",
]);
export type FailureCode = z.infer<typeof FailureCodeSchema>;

/** One request the flow made, for the scrubbed diagnostic an escalation carries. */
export const AttemptSchema = z.object({
  model: z.string(),
  status: z.number().int().nullable(),
  outcome: z.string(),
  requestId: z.string().nullable(),
  latencyMs: z.number(),
  at: z.iso.datetime(),
});
export type Attempt = z.infer<typeof AttemptSchema>;

export const FailureSchema = z.object({
  code: FailureCodeSchema,
  message: z.string(),
  remedy: z.string(),
  /** When the server asked for a delay beyond the cap: when to try again. */
  retryAt: z.iso.datetime().optional(),
});
export type Failure = z.infer<typeof FailureSchema>;

export const ResultSummarySchema = z.object({
  /** The API base the check was sent to (the template's `endpoint` is the path alone). */
  base_url: z.string(),
  /** When the last attempt finished, success or not; `validated_at` is this time only on success. */
  attempted_at: z.iso.datetime(),
  http_status: z.number().int().nullable(),
  model_served: z.string().nullable(),
  response_id: z.string().nullable(),
  latency_ms: z.number().nullable(),
  attempts: z.number().int().min(0),
  fallbacks_used: z.array(z.string()),
  key_source: KeySourceSchema.nullable(),
  streamed: z.boolean(),
  /** The first characters of the reply, scrubbed. */
  reply_preview: z.string().max(80).nullable(),
  /** What the flow noticed on the way (a key source skipped, the keychain unavailable), one sentence each. */
  notices: z.array(z.string()),
  /** The request ids TokenHub gave the attempts, in order: what Enterprise Support asks for. */
  request_ids: z.array(z.string()).default([]),
});

/** One multimodal check as it ended. A failure here never changes `integration_status`. */
export const MediaCheckSchema = z.object({
  status: z.enum(["ok", "failed", "cancelled"]),
  model: z.string(),
  /** The video task's id (also on failure or cancel, so the task can be looked up); null for images. */
  task_id: z.string().nullable(),
  /** Where the file was saved. */
  file: z.string().nullable(),
  bytes: z.number().int().nullable(),
  mime: z.string().nullable(),
  sha256: z.string().nullable(),
  /** From the request (or task creation) to the saved file or the failure. */
  duration_ms: z.number(),
  finished_at: z.iso.datetime(),
  /** Video: how many times the task was polled. */
  polls: z.number().int().optional(),
  /** What the object-storage hook said, when one is configured. */
  transfer: z
    .object({
      status: z.enum(["ok", "failed"]),
      location: z.string().optional(),
      message: z.string().optional(),
    })
    .optional(),
  error: z.object({ code: z.string(), message: z.string(), remedy: z.string() }).optional(),
});
export type MediaCheck = z.infer<typeof MediaCheckSchema>;

export const MultimodalSectionSchema = z.object({
  image: MediaCheckSchema.optional(),
  video: MediaCheckSchema.optional(),
});
export type MultimodalSection = z.infer<typeof MultimodalSectionSchema>;

/**
 * The Step-5 record: the agent quickstart's completion template fields, then our summary. On success the six
 * fields carry the template's values; a failed check writes the same shape with `integration_status: "failed"`,
 * `validated_at: null` (nothing was validated; `result.attempted_at` says when it was tried) and `notes` naming
 * the failure in one sentence.
 */
const RecordFields = {
  integration_status: z.enum([TEMPLATE.success, "failed"]),
  provider_mode: ProviderModeSchema,
  model: z.string(),
  endpoint: z.literal(TEMPLATE.endpoint),
  validated_at: z.iso.datetime().nullable(),
  notes: z.string(),
  result: ResultSummarySchema,
  failure: FailureSchema.optional(),
  /** The optional image and video checks, reported beside the text integration. */
  multimodal: MultimodalSectionSchema.optional(),
};

/** The last verified integration, kept inside a later failed record so a failed run loses nothing. */
export const LastSuccessSchema = z.object({
  ...RecordFields,
  integration_status: z.literal(TEMPLATE.success),
  validated_at: z.iso.datetime(),
  // never, not undefined: the same for a parse, and JSON Schema can say it (an MCP output schema is one).
  failure: z.never().optional(),
});

export const CompletionRecordSchema = z
  .object({
    ...RecordFields,
    /** On a failed record: the success it replaced (or the one the record before it kept). */
    last_success: LastSuccessSchema.optional(),
  })
  .refine((r) => (r.integration_status === TEMPLATE.success) === (r.validated_at !== null), {
    message: "validated_at is set exactly when integration_status is success",
    path: ["validated_at"],
  })
  .refine((r) => (r.integration_status === TEMPLATE.success) === (r.failure === undefined), {
    message: "a failed record carries its failure, a successful one none",
    path: ["failure"],
  })
  .refine((r) => r.integration_status !== TEMPLATE.success || r.last_success === undefined, {
    message: "only a failed record keeps the last success",
    path: ["last_success"],
  });
export type CompletionRecord = z.infer<typeof CompletionRecordSchema>;

/** The completion template fields in the quickstart's order (the manifest and tests use this list). */
export const COMPLETION_TEMPLATE_FIELDS = [
  "integration_status",
  "provider_mode",
  "model",
  "endpoint",
  "validated_at",
  "notes",
] as const;

/**
 * Records written before the template was followed word for word (0.1.0: `integration_status: "complete"`,
 * `provider_mode` `bare`/`plan`, `endpoint` the full URL, `validated_at` also on failure), upgraded on read so
 * `status` keeps showing them. Anything else is passed through untouched for the schema to judge.
 */
export function upgradeLegacyRecord(value: unknown): unknown {
  if (!isPlainObject(value) || !isPlainObject(value.result)) return value;
  // 0.1.0 wrote the full URL of the chat endpoint; that is what tells its records apart. Anything else
  // (a half-new record, an endpoint that is no URL) is left for the schema to judge.
  const url = typeof value.endpoint === "string" ? value.endpoint : "";
  if (!LEGACY_ENDPOINT.test(url)) return value;
  const success = value.integration_status === "complete" || value.integration_status === TEMPLATE.success;
  return {
    ...value,
    integration_status: success ? TEMPLATE.success : value.integration_status,
    provider_mode: LEGACY_PROVIDER_MODE[String(value.provider_mode)] ?? value.provider_mode,
    endpoint: TEMPLATE.endpoint,
    validated_at: success ? value.validated_at : null,
    result: {
      base_url: url.replace(/\/chat\/completions$/, ""),
      attempted_at: value.validated_at,
      notices: [],
      ...value.result,
    },
  };
}

const LEGACY_ENDPOINT = /^https?:\/\/[^/\s]+\/\S*chat\/completions$/;
const LEGACY_PROVIDER_MODE: Record<string, ProviderMode> = {
  bare: TEMPLATE.providerMode,
  plan: "plan-model",
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What a stored record file is read with: today's record, or an older one upgraded. */
export const StoredRecordSchema = z.preprocess(upgradeLegacyRecord, CompletionRecordSchema);
