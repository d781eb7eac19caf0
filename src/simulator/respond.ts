import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { NamedSseEvent, SseEvent, Step } from "./scenario.ts";

/** What a step's placeholders and the `chat` template are filled from. */
export interface ReplyContext {
  /** The requested model (JSON body `model`, or the `model` query parameter), if any. */
  model: string | undefined;
  /** The parsed request body (or raw text when it was not JSON). */
  requestBody: unknown;
  origin: string;
  requestId: string;
  redirectTo: string;
}

/** A response ready to send: a whole body, or SSE frames sent one by one. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: { kind: "bytes"; data: Buffer } | { kind: "sse"; frames: string[] };
}

/** A complete JSON response (the simulator's own 401, 404, 413 answers). */
export function jsonReply(status: number, body: unknown, requestId: string): Reply {
  return bytesReply(status, { "x-request-id": requestId }, JSON.stringify(body), "application/json");
}

/** Turn a scenario step into a reply for this request. */
export function buildReply(step: Step, ctx: ReplyContext): Reply {
  const status = step.status ?? 200;
  const headers = { "x-request-id": ctx.requestId, ...substituteHeaders(step.headers ?? {}, ctx) };
  const pad = step.padBytes ?? 0;

  if (step.template === "chat") return chatReply(status, headers, ctx, pad);
  if (step.sse !== undefined) {
    const events = step.sse.map((event) => fillPlaceholders(event, ctx) as SseEvent);
    return sseReply(
      status,
      headers,
      [...events.map(sseFrame), ...(step.done === false ? [] : ["data: [DONE]\n\n"])],
      pad,
    );
  }
  if (step.text !== undefined) {
    return bytesReply(status, headers, padEnd(fillString(step.text, ctx), pad), "text/plain; charset=utf-8");
  }
  if (step.body !== undefined) {
    // Trailing spaces keep the JSON valid while making it as large as asked.
    return bytesReply(
      status,
      headers,
      padEnd(JSON.stringify(fillPlaceholders(step.body, ctx)), pad),
      "application/json",
    );
  }
  return bytesReply(status, headers, padEnd("", pad), undefined);
}

function bytesReply(
  status: number,
  headers: Record<string, string>,
  text: string,
  contentType: string | undefined,
): Reply {
  const data = Buffer.from(text, "utf8");
  const typed: Record<string, string> =
    contentType === undefined || "content-type" in headers ? {} : { "content-type": contentType };
  // The real length always wins: a "mid-body" drop relies on it to leave the client short of bytes.
  return {
    status,
    headers: { ...typed, ...headers, "content-length": String(data.length) },
    body: { kind: "bytes", data },
  };
}

function sseReply(status: number, headers: Record<string, string>, frames: string[], pad: number): Reply {
  const streamHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers };
  return {
    status,
    headers: streamHeaders,
    body: { kind: "sse", frames: [...paddingComments(frames, pad), ...frames] },
  };
}

function padEnd(text: string, pad: number): string {
  const missing = pad - Buffer.byteLength(text, "utf8");
  return missing > 0 ? text + " ".repeat(missing) : text;
}

/** SSE comment lines (ignored by parsers) sent first, so a stream can be made as large as asked. */
function paddingComments(frames: string[], pad: number): string[] {
  let missing = pad - frames.reduce((sum, frame) => sum + Buffer.byteLength(frame, "utf8"), 0);
  const comments: string[] = [];
  while (missing > 0) {
    const size = Math.min(missing, 64 * 1024);
    comments.push(`:${" ".repeat(Math.max(size - 2, 0))}\n\n`);
    missing -= size;
  }
  return comments;
}

function sseFrame(event: SseEvent): string {
  if (typeof event === "string") return `data: ${event}\n\n`;
  if (isNamedEvent(event)) {
    const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data);
    return `event: ${event.event}\ndata: ${data}\n\n`;
  }
  return `data: ${JSON.stringify(event)}\n\n`;
}

function isNamedEvent(event: object): event is NamedSseEvent {
  const keys = Object.keys(event);
  return keys.length === 2 && "event" in event && "data" in event && typeof event.event === "string";
}

// ---- the `chat` template ----------------------------------------------------------------------------------

const CHAT_CONTENT = "OK";

/** A completion as TokenHub (OpenAI-compatible) sends it, for the model the request asked for. */
function chatReply(status: number, headers: Record<string, string>, ctx: ReplyContext, pad: number): Reply {
  const request = ctx.requestBody;
  const invalid = invalidChatRequest(request);
  if (invalid !== undefined) return jsonReply(400, invalid, ctx.requestId);
  const { model, messages, stream } = request as { model: string; messages: unknown[]; stream?: unknown };
  const promptTokens = estimatePromptTokens(messages);
  const common = { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model };
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: 1,
    total_tokens: promptTokens + 1,
    prompt_tokens_details: { cached_tokens: 0 },
  };
  if (stream === true) return sseReply(status, headers, chatStreamFrames(common, usage), pad);

  const completion = (content: string) => ({
    id: common.id,
    object: "chat.completion",
    created: common.created,
    model: common.model,
    system_fingerprint: null,
    choices: [{ index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content } }],
    usage,
  });
  // Padding goes inside the content, so an oversized body is still a well-formed completion.
  const missing = pad - Buffer.byteLength(JSON.stringify(completion(CHAT_CONTENT)), "utf8");
  const content = missing > 0 ? CHAT_CONTENT + "x".repeat(missing) : CHAT_CONTENT;
  return bytesReply(status, headers, JSON.stringify(completion(content)), "application/json");
}

function chatStreamFrames(common: { id: string; created: number; model: string }, usage: object): string[] {
  const chunk = (choices: unknown[], extra: object = {}) => ({
    id: common.id,
    object: "chat.completion.chunk",
    created: common.created,
    model: common.model,
    system_fingerprint: null,
    choices,
    ...extra,
  });
  const choice = (delta: object, finishReason: string | null) => ({
    index: 0,
    delta,
    finish_reason: finishReason,
    logprobs: null,
  });
  const first = { role: "assistant", content: "", function_call: null, refusal: null, tool_calls: null };
  const chunks = [
    chunk([choice(first, null)]),
    ...[...CHAT_CONTENT].map((piece) => chunk([choice({ content: piece }, null)])),
    chunk([choice({}, "stop")]),
    chunk([], { usage }),
  ];
  return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"];
}

/** The 400 body TokenHub would send for a request the template cannot answer, or undefined when it is fine. */
function invalidChatRequest(request: unknown): object | undefined {
  const error = (message: string, param: string | null, code: string | null) => ({
    error: { message, type: "invalid_request_error", param, code },
  });
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    return error("We could not parse the JSON body of your request.", null, null);
  }
  const { model, messages } = request as { model?: unknown; messages?: unknown };
  if (typeof model !== "string" || model === "") {
    return error("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    return error("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  }
  return undefined;
}

/** A stable, rough count (about four characters a token), enough for usage to look plausible. */
function estimatePromptTokens(messages: unknown[]): number {
  const chars = messages.reduce<number>((sum, message) => sum + JSON.stringify(message ?? "").length, 0);
  return Math.max(1, Math.ceil(chars / 4));
}

// ---- placeholders -----------------------------------------------------------------------------------------

function substituteHeaders(headers: Record<string, string>, ctx: ReplyContext): Record<string, string> {
  // Lower-cased so a step's header replaces a default one instead of being sent twice.
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), fillString(value, ctx)]),
  );
}

/** Fill placeholders in every string value of a JSON-like tree. */
export function fillPlaceholders(value: unknown, ctx: ReplyContext): unknown {
  if (typeof value === "string") return fillString(value, ctx);
  if (Array.isArray(value)) return value.map((item) => fillPlaceholders(item, ctx));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillPlaceholders(item, ctx)]));
  }
  return value;
}

function fillString(text: string, ctx: ReplyContext): string {
  return text.replace(/\{\{([^}]*)\}\}/g, (whole, name: string) => {
    if (name === "model") return ctx.model ?? "";
    if (name === "origin") return ctx.origin;
    if (name === "requestId") return ctx.requestId;
    if (name === "redirectTo") return ctx.redirectTo;
    const date = /^httpDate(?:([+-]\d+)s)?$/.exec(name);
    if (date !== null) return new Date(Date.now() + Number(date[1] ?? 0) * 1000).toUTCString();
    return whole;
  });
}

// ---- sending ----------------------------------------------------------------------------------------------

/**
 * Send a reply with the step's timing and failure mode.
 * `signal` aborts when the simulator closes or the client goes away: pending waits end and nothing more is
 * written, so `close()` never waits for a `delayMs`.
 */
export async function sendReply(
  res: ServerResponse,
  reply: Reply,
  step: Step,
  signal: AbortSignal,
): Promise<void> {
  if (!(await wait(step.delayMs, signal))) return;
  if (step.drop === "before-headers") {
    res.socket?.destroy();
    return;
  }
  res.writeHead(reply.status, reply.headers);
  if (step.drop === "mid-body") return sendHalfThenDrop(res, reply);
  if (reply.body.kind === "bytes") {
    res.end(reply.body.data);
    return;
  }
  res.flushHeaders();
  for (const [index, frame] of reply.body.frames.entries()) {
    if (index > 0 && !(await wait(step.chunkDelayMs, signal))) return;
    res.write(frame);
  }
  res.end();
}

/** Headers, then the first half of the body bytes, then a destroyed socket: the client is left mid-body. */
function sendHalfThenDrop(res: ServerResponse, reply: Reply): void {
  const whole =
    reply.body.kind === "bytes" ? reply.body.data : Buffer.from(reply.body.frames.join(""), "utf8");
  const half = whole.subarray(0, Math.max(1, Math.floor(whole.length / 2)));
  res.write(half, () => res.destroy());
}

/** Resolve true after `ms`, or false as soon as `signal` aborts. */
async function wait(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms === undefined || ms === 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
