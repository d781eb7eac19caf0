/**
 * The `tokenhub_setup` tool as MCP clients see it: its name, words, input and output schemas. The output
 * schema is built from the contract's own record schema, so `structuredContent` is the record as written.
 */
import { z } from "zod";
import { CompletionRecordSchema, EscalationSchema, SetupRequestShape } from "../session/index.ts";

export const TOOL_NAME = "tokenhub_setup";

export const ACTIONS = ["start", "resume", "status", "cancel"] as const;
export type Action = (typeof ACTIONS)[number];

export const ToolInputSchema = z
  .object({
    action: z
      .enum(ACTIONS)
      .describe(
        "start: verify the TokenHub integration (TokenHub's agent quickstart, Steps 1-5); resume: continue after the user entered the key on the key page or a wait ended; status: the last recorded integration; cancel: stop a setup in progress.",
      ),
    ...SetupRequestShape,
  })
  .strict();
export type ToolInput = z.infer<typeof ToolInputSchema>;

/** The key page as the client and the model see it: the link to open, and until when it works. */
export const KeyPageLinkSchema = z.object({
  url: z.string().describe("The key-entry page on this machine (127.0.0.1): the user types the key there."),
  expiresAt: z.string().describe("ISO 8601; after it, call the tool again for a new link."),
});

export const ToolOutputSchema = z.object({
  action: z.enum(ACTIONS),
  state: z.string().describe("Where the setup stands (the flow's state, or none)."),
  exitCode: z
    .number()
    .int()
    .describe(
      "The CLI's exit code for this outcome: 0 complete, 3 key missing, 4 key rejected, 5 escalated.",
    ),
  record: CompletionRecordSchema.optional().describe("The Step-5 record, as written."),
  needKey: z
    .object({
      reason: z.string(),
      message: z.string(),
      keyPage: KeyPageLinkSchema.optional(),
    })
    .optional()
    .describe("The setup waits for an API key: the user enters it on the key page, never in the chat."),
  wait: z
    .object({ until: z.string(), for: z.string(), taskId: z.string().optional() })
    .optional()
    .describe("The setup waits (a retry or a video being generated): call resume after `until`."),
  escalation: EscalationSchema.optional(),
});
export type ToolOutput = z.infer<typeof ToolOutputSchema>;

export const TOOL_DESCRIPTION = [
  "Set up and verify the TokenHub LLM gateway (TokenHub's agent quickstart): finds the API key, sends one minimal chat completion, validates it and writes an integration record with model, timestamp and summary.",
  "When no key is found the user enters it on a local page that this server opens (a URL elicitation, or a link in the result): never ask the user to paste a key into the chat.",
  "Retries, model fallbacks and escalation to TokenHub Enterprise Support are handled inside; call it once with start and follow what the result says.",
].join(" ");

export const TOOL_ANNOTATIONS = {
  title: "Set up TokenHub",
  // It writes the record and may store a key: not read-only; it sends requests to TokenHub: open world.
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
} as const;
