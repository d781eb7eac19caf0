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

// Response shapes are loose: TokenHub may add fields, and the quickstart's check (Step-4) is applied on top.
// A completion and a stream chunk share their envelope; `object` is checked by Step-4, not here.
const envelope = {
  id: z.string(),
  object: z.string(),
  created: z.number().optional(),
  model: z.string(),
};

export const ChatCompletionSchema = z.looseObject({
  ...envelope,
  choices: z.array(
    z.looseObject({
      index: z.number().int(),
      finish_reason: z.string().nullable().optional(),
      message: z.looseObject({ role: z.string(), content: z.string().nullable() }),
    }),
  ),
  usage: z
    .looseObject({
      prompt_tokens: z.number(),
      completion_tokens: z.number(),
      total_tokens: z.number(),
    })
    .nullable()
    .optional(),
});
export type ChatCompletion = z.infer<typeof ChatCompletionSchema>;

export const ChatCompletionChunkSchema = z.looseObject({
  ...envelope,
  choices: z.array(
    z.looseObject({
      index: z.number().int(),
      finish_reason: z.string().nullable().optional(),
      delta: z.looseObject({ role: z.string().optional(), content: z.string().nullable().optional() }),
    }),
  ),
  usage: z.unknown().optional(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunkSchema>;

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
