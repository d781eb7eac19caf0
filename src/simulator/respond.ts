import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { createGzip } from "node:zlib";
import { IMAGE_B64, MEDIA_CONTENT_TYPES, mediaBytes } from "./media.ts";
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
  mediaOrigin: string;
  /** The polled task's id, or one made up for this request (a create). */
  taskId: string;
}

/**
 * A response ready to send: a whole body (then `padding` spaces, generated while sending), or SSE frames sent
 * one by one.
 */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: { kind: "bytes"; data: Buffer; padding: number } | { kind: "sse"; frames: string[] };
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
    return bytesReply(status, headers, fillString(step.text, ctx), "text/plain; charset=utf-8", pad);
  }
  if (step.body !== undefined) {
    // Trailing spaces keep the JSON valid while making it as large as asked.
    const json = JSON.stringify(fillPlaceholders(step.body, ctx));
    return bytesReply(status, headers, json, "application/json", pad);
  }
  if (step.media !== undefined) {
    return bytesReply(status, headers, mediaBytes(step.media), MEDIA_CONTENT_TYPES[step.media], pad);
  }
  return bytesReply(status, headers, "", undefined, pad);
}

function bytesReply(
  status: number,
  headers: Record<string, string>,
  content: string | Buffer,
  contentType: string | undefined,
  pad = 0,
): Reply {
  const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const padding = Math.max(0, pad - data.length);
  const typed: Record<string, string> =
    contentType === undefined || "content-type" in headers ? {} : { "content-type": contentType };
  // The real length always wins: a "mid-body" drop relies on it to leave the client short of bytes.
  return {
    status,
    headers: { ...typed, ...headers, "content-length": String(data.length + padding) },
    body: { kind: "bytes", data, padding },
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
    if (name === "mediaOrigin") return ctx.mediaOrigin;
    if (name === "imageB64") return IMAGE_B64;
    if (name === "taskId") return ctx.taskId;
    const date = /^httpDate(?:([+-]\d+)s)?$/.exec(name);
    if (date !== null) return new Date(Date.now() + Number(date[1] ?? 0) * 1000).toUTCString();
    return whole;
  });
}

// ---- sending ----------------------------------------------------------------------------------------------

/** Padding is written in pieces of this size, each only when the socket has room for it. */
const PAD_CHUNK = Buffer.alloc(64 * 1024, " ");

/**
 * Send a reply with the step's timing, encoding and failure mode.
 * `signal` aborts when the simulator closes or the client goes away: pending waits end and nothing more is
 * written, so `close()` never waits for a `delayMs`, and a client that stops reading a 50 MB body stops the
 * simulator from generating the rest.
 */
export async function sendReply(
  res: ServerResponse,
  reply: Reply,
  step: Step,
  signal: AbortSignal,
): Promise<void> {
  if (step.never === true) {
    await untilAborted(signal);
    return;
  }
  if (!(await wait(step.delayMs, signal))) return;
  if (step.drop === "before-headers") {
    res.socket?.destroy();
    return;
  }
  res.writeHead(reply.status, wireHeaders(reply.headers, step));
  const out = step.gzip === true ? gzipTo(res) : plainTo(res);
  const pieces = bodyPieces(reply);
  const total = pieces.reduce((sum, piece) => sum + piece.size, 0);
  const cut = cutPoint(reply, step, pieces, total);
  if (reply.body.kind === "sse") res.flushHeaders();

  let sent = 0;
  for (const [index, piece] of pieces.entries()) {
    if (index > 0 && reply.body.kind === "sse" && !(await wait(step.chunkDelayMs, signal))) return;
    for (const chunk of piece.chunks()) {
      const end = sent + chunk.length;
      if (cut !== undefined && sent < cut && end >= cut) {
        // The cut falls inside this chunk: its first part reaches the socket, then the drop or the stall.
        await out.writeThrough(chunk.subarray(0, cut - sent));
        if (step.drop !== undefined) {
          res.destroy();
          return;
        }
        if (!(await wait(step.stallBodyMs, signal))) return;
        if (end > cut && !(await out.write(chunk.subarray(cut - sent), signal))) return;
      } else if (chunk.length > 0 && !(await out.write(chunk, signal))) {
        return;
      }
      sent = end;
    }
    if (reply.body.kind === "sse") await out.flush();
  }
  if (step.drop !== undefined) {
    // Only an empty body gets here: there was nothing to cut, but the connection still breaks.
    res.destroy();
    return;
  }
  await out.end();
}

/** The step's encoding on top of the reply's headers: gzip and chunked bodies carry no content-length. */
function wireHeaders(headers: Record<string, string>, step: Step): Record<string, string> {
  const wire = { ...headers };
  if (step.gzip !== undefined) wire["content-encoding"] = "gzip";
  if (step.gzip === true || step.chunked === true) delete wire["content-length"];
  return wire;
}

/** One part of a body, whose bytes are produced only when it is sent. */
interface Piece {
  size: number;
  chunks(): Iterable<Buffer>;
}

function bodyPieces(reply: Reply): Piece[] {
  if (reply.body.kind === "sse") {
    return reply.body.frames.map((frame) => {
      const data = Buffer.from(frame, "utf8");
      return { size: data.length, chunks: () => [data] };
    });
  }
  const { data, padding } = reply.body;
  const pieces: Piece[] = [{ size: data.length, chunks: () => [data] }];
  if (padding > 0) pieces.push({ size: padding, chunks: () => paddingChunks(padding) });
  return pieces;
}

function* paddingChunks(size: number): Generator<Buffer> {
  for (let left = size; left > 0; left -= PAD_CHUNK.length) {
    yield left >= PAD_CHUNK.length ? PAD_CHUNK : PAD_CHUNK.subarray(0, left);
  }
}

/**
 * Where a drop or a stall happens, as a byte offset into the body: half the bytes (at least one), or for
 * `mid-stream` and SSE stalls the end of the first half of the events (at least one), so they arrive whole.
 */
function cutPoint(reply: Reply, step: Step, pieces: Piece[], total: number): number | undefined {
  const midBody = step.drop === "mid-body" || step.drop === "mid-stream" || step.stallBodyMs !== undefined;
  if (!midBody || total === 0) return undefined;
  if (reply.body.kind === "sse" && step.drop !== "mid-body") {
    const events = Math.max(1, Math.ceil(pieces.length / 2));
    return pieces.slice(0, events).reduce((sum, piece) => sum + piece.size, 0);
  }
  return Math.max(1, Math.floor(total / 2));
}

/** Where body bytes go: straight to the response, or through gzip. Writes wait for room (backpressure). */
interface BodySink {
  /** Resolves false when the client went away or `signal` aborted: stop sending. */
  write(chunk: Buffer, signal: AbortSignal): Promise<boolean>;
  /** Write and resolve once the bytes are on the socket, so a drop right after cannot discard them. */
  writeThrough(chunk: Buffer): Promise<void>;
  /** Push what gzip holds onto the wire (a no-op without gzip). */
  flush(): Promise<void>;
  /** End the body; resolves when the response is finished or gone. */
  end(): Promise<void>;
}

function plainTo(res: ServerResponse): BodySink {
  return {
    write: (chunk, signal) => writeWithRoom(res, res, chunk, signal),
    writeThrough: (chunk) => new Promise((resolve) => res.write(chunk, () => resolve())),
    flush: async () => {},
    end: () => finished(res, () => res.end()),
  };
}

function gzipTo(res: ServerResponse): BodySink {
  const gzip = createGzip();
  gzip.on("error", () => {});
  gzip.pipe(res);
  // A client that leaves mid-body destroys the response; the compressor is of no further use.
  res.once("close", () => gzip.destroy());
  const flush = () => new Promise<void>((resolve) => gzip.flush(() => resolve()));
  return {
    write: (chunk, signal) => writeWithRoom(gzip, res, chunk, signal),
    writeThrough: async (chunk) => {
      gzip.write(chunk);
      await flush();
    },
    flush,
    end: () => finished(res, () => gzip.end()),
  };
}

/** Run `end` and resolve when the response has finished sending, or closed early. */
function finished(res: ServerResponse, end: () => void): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.once("finish", () => resolve());
    res.once("close", () => resolve());
    end();
  });
}

async function writeWithRoom(
  stream: Writable,
  res: ServerResponse,
  chunk: Buffer,
  signal: AbortSignal,
): Promise<boolean> {
  if (signal.aborted || res.destroyed) return false;
  if (stream.write(chunk)) return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      stream.off("drain", onDrain);
      res.off("close", onGone);
      signal.removeEventListener("abort", onGone);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onGone = () => done(false);
    stream.on("drain", onDrain);
    res.on("close", onGone);
    signal.addEventListener("abort", onGone, { once: true });
  });
}

/** Resolve once `signal` aborts (the client went away or the simulator is closing). */
function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
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
