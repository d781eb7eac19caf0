import { z } from "zod";
import { CapabilitySchema, RetrySchema } from "./config.ts";
import { KeyHintSchema, NeedKeyNotificationSchema } from "./host.ts";
import { TASK_ID_PATTERN } from "./media.ts";
import {
  AttemptSchema,
  CompletionRecordSchema,
  FailureSchema,
  KeySourceSchema,
  MultimodalSectionSchema,
} from "./record.ts";

/**
 * The statechart's context: the one definition of its shape. The machine's TypeScript type is inferred from it,
 * and a stored snapshot is checked against it before a restore (a snapshot is untrusted input).
 *
 * Grouped in a few named parts (the multimodal checks are a machine of their own, with their own context): what the chart reads is easier to find, and xstate copies the context on every
 * `assign`, which V8 does quickly for objects of up to 16 properties (past that it falls back to a slow
 * dictionary copy, 8-10 us instead of well under one).
 */

const finite = z.number().finite();

/** The part of the config the chart carries (and so every snapshot): rebuilt from the config on restore. */
export const FlowSettingsSchema = z.object({
  modelChain: z.array(z.string()).min(1),
  retry: RetrySchema,
  totalMs: z.number(),
  stream: z.boolean(),
  /** The API base the flow's requests go to, for the record (`result.base_url`). */
  baseUrl: z.string(),
  consoleUrl: z.string(),
  contactUrl: z.string(),
  multimodal: z.object({
    capabilities: z.array(CapabilitySchema),
    imageModel: z.string(),
    videoModel: z.string(),
    pollIntervalMs: z.number(),
    deadlineMs: z.number(),
  }),
});
export type FlowSettings = z.infer<typeof FlowSettingsSchema>;
export type MediaSettings = FlowSettings["multimodal"];

/** Step-1/Step-2: the key in use (never its value), and what the flow learned about keys so far. */
export const KeyPartSchema = z.object({
  source: KeySourceSchema.nullable(),
  fingerprint: z.string().max(64).nullable(),
  /** The key in use, masked (`sk-…9f2c`): enough for a person to tell keys apart, nothing to use. */
  hint: KeyHintSchema.shape.hint.nullable(),
  /** Store a handed-over key in the OS keychain once TokenHub accepted it. */
  remember: z.boolean(),
  /** Why the flow asks (or last asked) for a key. */
  needReason: NeedKeyNotificationSchema.shape.reason,
  /** Fingerprints of keys TokenHub rejected in this flow, so re-reading the sources does not loop on them. */
  rejected: z.array(z.string()).max(64),
  /** The key TokenHub rejected last (where it came from, masked), for the messages that follow. */
  rejectedKey: KeyHintSchema.nullable(),
  /** Other keys the sources hold besides the rejected one, seen right after a 401 (masked). */
  otherKeys: z.array(KeyHintSchema).max(4),
});

/** Step-3/Step-4: the attempts, the model format in use, and when the next attempt is due. */
export const RunPartSchema = z.object({
  startedAt: finite,
  modelIndex: z.number().int().min(0),
  /** Attempts on the current model format. */
  attempt: z.number().int().min(0),
  attempts: z.array(AttemptSchema).max(64),
  fallbacksUsed: z.array(z.string()).max(16),
  /** When the next attempt is due (absolute, so a restored backoff keeps its schedule). */
  retryAt: finite.nullable(),
});

/** The video task being waited on: everything a restored snapshot needs to poll the same task again. */
export const VideoTaskSchema = z.object({
  // Its id goes into the poll's URL path: a tampered one must not steer the request.
  id: z.string().regex(TASK_ID_PATTERN),
  createdAt: finite,
  /** When the next poll is due (absolute, like `retryAt`). */
  pollAt: finite,
  polls: z.number().int().min(0),
  /** Transient poll failures in a row. */
  misses: z.number().int().min(0),
  rawStatus: z.string(),
  /** The finished video's URL: only between the last poll and the download, then dropped. */
  url: z.string().nullable(),
  reason: z.object({ code: z.string().nullable(), message: z.string() }).nullable(),
});
export type VideoTask = z.infer<typeof VideoTaskSchema>;

/**
 * Section 5 of the quickstart, the multimodal checks' own machine: its settings (from the chart's), the key it
 * uses (never its value), the checks that have ended, the one running, the video task.
 */
export const MediaChecksContextSchema = z.object({
  settings: FlowSettingsSchema.shape.multimodal,
  key: KeyPartSchema.pick({ source: true, fingerprint: true }),
  now: finite,
  checks: MultimodalSectionSchema,
  /** When the current check started. */
  startedAt: finite,
  task: VideoTaskSchema.nullable(),
});
export type MediaChecksContext = z.infer<typeof MediaChecksContextSchema>;

/** A stored checks' context: settings and key are the chart's (checked there), so only their shape is kept. */
export const StoredMediaChecksContextSchema = MediaChecksContextSchema.extend({
  settings: z.looseObject({}),
});

export const FlowContextSchema = z.object({
  settings: FlowSettingsSchema,
  /** The latest time the machine has heard of (from an event or an actor's output). */
  now: finite,
  /** Jitter comes from this seed, so a flow (and its restore) is reproducible. */
  seed: finite,
  key: KeyPartSchema,
  run: RunPartSchema,
  notices: z.array(z.string()).max(64),
  record: CompletionRecordSchema.nullable(),
  failure: FailureSchema.nullable(),
  cancelReason: z.string().nullable(),
});
export type FlowContext = z.infer<typeof FlowContextSchema>;

/**
 * A stored context: the same shape, except settings, which the restore takes from the current config (only
 * what SETUP may choose per conversation is kept, and checked again there), so a snapshot that lacks some is
 * not corrupt. Unknown keys are dropped.
 */
export const StoredFlowContextSchema = FlowContextSchema.extend({
  settings: z.looseObject({
    modelChain: z.array(z.string()).min(1),
    stream: z.boolean(),
    totalMs: z.number(),
    baseUrl: z.string(),
    retry: z.looseObject({ maxAttempts: z.number(), serverDelayCapMs: z.number() }),
  }),
});
