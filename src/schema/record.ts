import { z } from "zod";

export const KeySourceSchema = z.enum(["event", "env", "host", "keychain"]);
export type KeySource = z.infer<typeof KeySourceSchema>;

/** How the model that answered was named: tokenhub-api.md, "Base, auth, models". */
export const ProviderModeSchema = z.enum(["bare", "provider-pinned", "plan"]);
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
 * The Step-5 record: the agent quickstart's completion template fields, then our summary.
 * `integration_status` is "complete" only after Step-4 passed.
 */
export const CompletionRecordSchema = z.object({
  integration_status: z.enum(["complete", "failed"]),
  provider_mode: ProviderModeSchema,
  model: z.string(),
  endpoint: z.string(),
  validated_at: z.iso.datetime(),
  notes: z.string(),
  result: ResultSummarySchema,
  failure: FailureSchema.optional(),
  /** The optional image and video checks, reported beside the text integration. */
  multimodal: MultimodalSectionSchema.optional(),
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
