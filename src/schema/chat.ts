import { z } from "zod";

/** The agent quickstart's probe (Step-3): the smallest request that proves the key, model and route work. */
export const ChatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() })).min(1),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().optional(),
  stream: z.boolean().optional(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

// Response shapes are lenient where the quickstart is silent. Its machine check (Step-4) asks for `object`, a
// non-empty `choices` and a non-null `choices[0].message.content`, and nothing else: a gateway that sends
// `created` as a string, null usage counters or no `id` still passed the check, so none of that refuses it.
// What we keep for the record is typed here: a string where one was sent, else undefined.

/** Kept when it is a string, else undefined, absent included: never a reason to refuse an answer. */
const textIfAny = z
  .unknown()
  .optional()
  .transform((value) => (typeof value === "string" ? value : undefined));

const envelope = {
  id: textIfAny,
  object: z.string(),
  created: z.unknown().optional(),
  model: textIfAny,
  usage: z.unknown().optional(),
};

// Only the first choice is what Step-4 reads: the choices are read one by one (ChoiceSchema), so a stray null
// or odd entry after the first is no reason to refuse.
export const ChatCompletionSchema = z.looseObject({ ...envelope, choices: z.array(z.unknown()) });

/** A completion's choice as Step-4 reads it: any non-null content passes; `replyText` makes text of it. */
export const ChoiceSchema = z.looseObject({
  index: z.unknown().optional(),
  message: z.looseObject({ content: z.unknown() }),
});
export type ChatCompletion = z.infer<typeof ChatCompletionSchema>;

export const ChatCompletionChunkSchema = z.looseObject({ ...envelope, choices: z.array(z.unknown()) });

/** A stream chunk's choice; one that is not an object with a delta is skipped, not fatal. */
export const ChunkChoiceSchema = z.looseObject({
  index: z.unknown().optional(),
  finish_reason: z.unknown().optional(),
  delta: z.looseObject({ content: z.unknown().optional() }),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunkSchema>;

/** A reply's content as text: a string as it is, content parts' `text` joined, anything else as JSON. */
export function replyText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const texts = content.map((part) => (part as { text?: unknown } | null)?.text);
    if (texts.every((t) => typeof t === "string")) return texts.join("");
  }
  return JSON.stringify(content) ?? "";
}

/** OpenAI-style error body, used on TokenHub's native routes [inferred]. */
export const OpenAIErrorBodySchema = z.looseObject({
  error: z.looseObject({
    message: z.string(),
    type: z.string().nullable().optional(),
    code: z.union([z.string(), z.number()]).nullable().optional(),
  }),
});

/** DashScope-style error body, used on pass-through routes [inferred]. */
export const DashScopeErrorBodySchema = z.looseObject({
  code: z.string(),
  message: z.string(),
  request_id: z.string().optional(),
});
