import { z } from "zod";
import { CapabilitySchema } from "./config.ts";
import { AttemptSchema, CompletionRecordSchema, FailureSchema, KeySourceSchema } from "./record.ts";

// ---- events a host sends in -------------------------------------------------------------------------------

export const PreferencesSchema = z
  .object({
    /** Model formats to try instead of the configured chain. */
    modelChain: z.array(z.string().min(1).max(200)).min(1).max(10).optional(),
    stream: z.boolean().optional(),
    /** Multimodal checks to run after the text path, instead of the configured ones ([] for none). */
    multimodal: z.array(CapabilitySchema).max(2).optional(),
  })
  .strict();

/**
 * What an agent's tool call may ask of a setup, besides its action (the OpenClaw tool's and the MCP tool's
 * parameters): the JSON Schema a model sees is generated from these descriptions.
 */
export const SetupRequestShape = {
  model: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("A model to verify instead of the configured chain, bare (deepseek-v3.2) or provider/model."),
  stream: z.boolean().optional().describe("Validate over a streamed response."),
  multimodal: z
    .array(CapabilitySchema)
    .max(2)
    .optional()
    .describe(
      "Only if the user asked: after the text check, also generate a test image and/or video and save the files (video takes minutes).",
    ),
};
export type SetupRequest = z.infer<z.ZodObject<typeof SetupRequestShape>>;

export const SetupEventSchema = z
  .object({ type: z.literal("SETUP"), preferences: PreferencesSchema.optional() })
  .strict();

/**
 * The user handed over a key. The session takes the key out before the machine sees the event, so it is never
 * in machine context, a snapshot or a notification. `remember` stores it in the OS keychain once it validated.
 */
export const KeyProvidedEventSchema = z
  .object({ type: z.literal("KEY_PROVIDED"), key: z.string(), remember: z.boolean().optional() })
  .strict();

/** The user says the key is now where the skill can read it (env, host secret store, keychain). */
export const KeyReadyEventSchema = z.object({ type: z.literal("KEY_READY") }).strict();
export const CancelEventSchema = z
  .object({ type: z.literal("CANCEL"), reason: z.string().max(200).optional() })
  .strict();

export const HostEventSchema = z.discriminatedUnion("type", [
  SetupEventSchema,
  KeyProvidedEventSchema,
  KeyReadyEventSchema,
  CancelEventSchema,
]);
export type HostEvent = z.infer<typeof HostEventSchema>;

// ---- notifications the skill emits ------------------------------------------------------------------------

export const STEP_TITLES = {
  1: "Read TOKENHUB_API_KEY",
  2: "Ask for a key",
  3: "Send the minimal chat request",
  4: "Validate the response",
  5: "Write the integration record",
} as const;

export const ProgressNotificationSchema = z.object({
  type: z.literal("progress"),
  step: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]),
  title: z.string(),
  detail: z.string().optional(),
  /** Set while a multimodal check runs (step 4 of the flow, section 5 of the quickstart). */
  capability: CapabilitySchema.optional(),
});

/** A key as a person may see it: where it came from and a masked hint (`sk-…9f2c`), never the key. */
export const KeyHintSchema = z.object({ source: KeySourceSchema, hint: z.string().max(16) });
/** A key as people may see it: its source and a masked hint, never the key. */
export type KeyHint = z.infer<typeof KeyHintSchema>;

export const NeedKeyNotificationSchema = z.object({
  type: z.literal("needKey"),
  reason: z.enum(["missing", "rejected", "lost"]),
  message: z.string(),
  /** The facts behind the message, for a host or the CLI to word in its own voice. */
  rejectedKey: KeyHintSchema.nullable().optional(),
  /** Keys the other sources hold (after a 401): which one a person could switch to. */
  otherKeys: z.array(KeyHintSchema).optional(),
  /** What the key sources said on the way (a source skipped, the keychain unavailable), one sentence each. */
  notices: z.array(z.string()).optional(),
  instructions: z.object({
    consoleUrl: z.string(),
    envVar: z.literal("TOKENHUB_API_KEY"),
    steps: z.array(z.string()).min(1),
    /** Always true: a host must never ask the user to paste the key into the conversation. */
    neverPasteInChat: z.literal(true),
  }),
});

export const EscalationSchema = z.object({
  /** Who can fix it: TokenHub's Enterprise Support, or the user on their side (network, base URL). */
  topic: z.enum(["enterprise", "local"]),
  contact: z.string(),
  failure: FailureSchema,
  diagnostic: z.object({
    attempts: z.array(AttemptSchema),
    modelsTried: z.array(z.string()),
    keySource: KeySourceSchema.nullable(),
    elapsedMs: z.number(),
  }),
});
export type Escalation = z.infer<typeof EscalationSchema>;

export const CompletedNotificationSchema = z.object({
  type: z.literal("completed"),
  record: CompletionRecordSchema,
});
export const EscalatedNotificationSchema = z.object({
  type: z.literal("escalated"),
  escalation: EscalationSchema,
  record: CompletionRecordSchema.optional(),
});
export const CancelledNotificationSchema = z.object({
  type: z.literal("cancelled"),
  reason: z.string().optional(),
  /** The record the run wrote before it was cancelled, if it wrote one. */
  record: CompletionRecordSchema.optional(),
});

export const NotificationSchema = z.discriminatedUnion("type", [
  ProgressNotificationSchema,
  NeedKeyNotificationSchema,
  CompletedNotificationSchema,
  EscalatedNotificationSchema,
  CancelledNotificationSchema,
]);
export type Notification = z.infer<typeof NotificationSchema>;
export type NeedKeyNotification = z.infer<typeof NeedKeyNotificationSchema>;
export type ProgressNotification = z.infer<typeof ProgressNotificationSchema>;

/** What the flow ends with: the record on success, the escalation (and failure record) otherwise. */
export const OutputSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("complete"), record: CompletionRecordSchema }),
  z.object({
    status: z.literal("escalated"),
    escalation: EscalationSchema,
    record: CompletionRecordSchema.optional(),
  }),
  z.object({
    status: z.literal("cancelled"),
    reason: z.string().optional(),
    record: CompletionRecordSchema.optional(),
  }),
]);
export type Output = z.infer<typeof OutputSchema>;
