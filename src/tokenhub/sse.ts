import { createParser } from "eventsource-parser";
import { ChatCompletionChunkSchema, ChunkChoiceSchema } from "../schema/chat.ts";

/** What a chat completion stream amounted to; `content` stands in for `message.content` in Step-4. */
export interface AssembledStream {
  kind: "stream";
  id: string | null;
  object: string | null;
  model: string | null;
  /** Concatenated `choices[0].delta.content`; null when no chunk carried content at all. */
  content: string | null;
  chunks: number;
  finishReason: string | null;
  sawDone: boolean;
  /** An `event: error` or a data payload with an `error` member, as the gateway reports upstream failure. */
  error: { message: string; code: string | null } | null;
  /** Data lines that were not JSON or not chunks. */
  malformed: number;
}

/**
 * Feeds decoded text in as it arrives and assembles the stream. The parser (eventsource-parser) owns the SSE
 * grammar: CR/LF variants, multi-line data, comments. `finish()` also takes a final event that lacks its blank
 * line (`data: [DONE]\n` and close is common), which the SSE spec and the parser would drop.
 */
export function createStreamAssembler(): { feed(text: string): void; finish(): AssembledStream } {
  const state: AssembledStream = {
    kind: "stream",
    id: null,
    object: null,
    model: null,
    content: null,
    chunks: 0,
    finishReason: null,
    sawDone: false,
    error: null,
    malformed: 0,
  };
  const onData = (event: string | undefined, data: string) => {
    if (data.trim() === "[DONE]") {
      state.sawDone = true;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      // An error event need not carry JSON ("event: error" + "data: upstream timed out"); it is still an error.
      if (event === "error") state.error ??= { message: data.trim() || GENERIC_ERROR, code: null };
      else state.malformed += 1;
      return;
    }
    const error = errorIn(json);
    if (event === "error" || error) {
      state.error ??= error ?? { message: typeof json === "string" ? json : GENERIC_ERROR, code: null };
      return;
    }
    const chunk = ChatCompletionChunkSchema.safeParse(json);
    if (!chunk.success) {
      state.malformed += 1;
      return;
    }
    state.chunks += 1;
    state.id ??= chunk.data.id ?? null;
    state.object ??= chunk.data.object;
    state.model ??= chunk.data.model ?? null;
    // The first choice: index 0, or the first entry where the server sends no index.
    const choices = chunk.data.choices.flatMap((c) => {
      const parsed = ChunkChoiceSchema.safeParse(c);
      return parsed.success ? [parsed.data] : [];
    });
    const choice = choices.find((c) => c.index === 0) ?? choices.find((c) => c.index === undefined);
    if (!choice) return; // a usage-only chunk
    if (typeof choice.delta.content === "string")
      state.content = (state.content ?? "") + choice.delta.content;
    if (typeof choice.finish_reason === "string" && choice.finish_reason)
      state.finishReason = choice.finish_reason;
  };
  const parser = createParser({ onEvent: (message) => onData(message.event, message.data) });
  return {
    feed: (text) => parser.feed(text),
    finish: () => {
      // A blank line ends the pending event, if any; after a complete stream it is a no-op. The second LF
      // covers a stream ending in a lone CR, which the parser holds back in case an LF follows.
      parser.feed("\n\n");
      parser.reset();
      return state;
    },
  };
}

const GENERIC_ERROR = "the stream reported an error";

/** The `error` member of a data payload; `"error": null` (some gateways send it on every chunk) is no error. */
function errorIn(json: unknown): { message: string; code: string | null } | null {
  if (!json || typeof json !== "object" || !("error" in json)) return null;
  const error = (json as { error: unknown }).error;
  if (error === null || error === undefined || error === false) return null;
  if (typeof error === "object") {
    const { message, code } = error as { message?: unknown; code?: unknown };
    return {
      message: typeof message === "string" ? message : GENERIC_ERROR,
      code: typeof code === "string" || typeof code === "number" ? String(code) : null,
    };
  }
  return { message: typeof error === "string" ? error : GENERIC_ERROR, code: null };
}
