import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Config } from "../schema/config.ts";
import { PROBE } from "../schema/quickstart.ts";
import type { SecretKey } from "../secrets/key.ts";
import { scrubbedLine } from "../secrets/scrubber.ts";
import { inflated, inflaterFor, isDecodeError } from "./content-encoding.ts";
import type { ProbeResponse, ResponseBody } from "./response.ts";
import { createStreamAssembler } from "./sse.ts";
import {
  type DispatcherLease,
  type Env,
  leaseDispatcher,
  loadUndici,
  readTransportError,
} from "./transport.ts";
import { endpointUrl, isLoopbackHost, parseBaseUrl } from "./url.ts";

/** The quickstart's Step-3 message. */
export const PROBE_PROMPT = PROBE.prompt;

/** The client's result, as its callers know it; defined with what reads it, in response.ts. */
export type { ProbeResponse, ResponseBody } from "./response.ts";

/** Headers kept from a response: enough to classify and diagnose; nothing else is carried around. */
export const KEPT_HEADERS = [
  "content-type",
  "content-encoding",
  "retry-after",
  "retry-after-ms",
  "x-request-id",
  "request-id",
  "x-dashscope-request-id",
  "location",
  "date",
] as const;

export interface ProbeRequest {
  model: string;
  stream: boolean;
  key: SecretKey;
  /** Aborts the request when the caller goes away (xstate aborts it when `requesting` is left). */
  signal?: AbortSignal;
  /** Whole-call limit, instead of `timeouts.requestMs` (the flow clips it to what is left of its deadline). */
  timeoutMs?: number;
}

/** Any other call to the configured origin (images, video tasks): same rules, same raw result. */
export interface ApiRequest {
  method: "GET" | "POST";
  /** Relative to the base URL, e.g. `images/generations`. Segments built from server data must be encoded. */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Extra request headers (e.g. `X-DashScope-Async`); never an authorization header. */
  headers?: Record<string, string>;
  key: SecretKey;
  signal?: AbortSignal;
  /** Whole-call limit, instead of `timeouts.requestMs`. */
  timeoutMs?: number;
  /** Largest body read for this call, bytes, instead of `maxResponseBytes` (an inline image is megabytes). */
  maxBytes?: number;
}

export interface TokenHubClient {
  /** The API base as parsed, without a trailing slash (`https://tokenhub.link/v1`). */
  readonly baseUrl: string;
  readonly endpoint: URL;
  chat(request: ProbeRequest): Promise<ProbeResponse>;
  call(request: ApiRequest): Promise<ProbeResponse>;
  close(): Promise<void>;
}

export interface ClientOptions {
  baseUrl: string;
  timeouts: Config["timeouts"];
  maxResponseBytes: number;
  /**
   * A dispatcher of the caller's; otherwise the process's shared one for these options (see leaseDispatcher),
   * given back in `close()`.
   */
  dispatcher?: Dispatcher;
  /** Most connections open at once to the origin, shared by the clients of the process. @default 128 */
  maxConnectionsPerOrigin?: number;
  userAgent?: string;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read. @default process.env */
  env?: Env;
}

/**
 * One attempt per call, never a retry: only the statechart decides whether to try again. Redirects are not
 * followed (undici's `request` does not follow them, and no redirect interceptor is installed), so the key
 * reaches no origin but the configured one.
 *
 * Timing: `requestMs` is an AbortSignal timer and precise. `headersMs` and `bodyMs` are undici's own timeouts,
 * which run on its low-resolution "fast timers" (about 1 s): a value under a second may fire up to ~1 s late.
 */
export function createTokenHubClient(options: ClientOptions): TokenHubClient {
  const base = parseBaseUrl(options.baseUrl);
  const endpoint = endpointUrl(base, "chat/completions");
  // Leased on the first request (see loadUndici); the environment is read now, as before.
  const env = options.env ?? process.env;
  const given = options.dispatcher && Promise.resolve(options.dispatcher);
  let lease: DispatcherLease | undefined;
  let closed = false;
  const ensureDispatcher = (): Promise<Dispatcher> => {
    if (given) return given;
    // The key never reaches a proxy in clear: a loopback base (the only plain-http one allowed) is always
    // reached directly, any other is https, tunnelled through CONNECT (see Reach in transport.ts).
    lease ??= leaseDispatcher({
      reach: isLoopbackHost(base.hostname) ? "loopback" : "any",
      connectMs: options.timeouts.connectMs,
      headersMs: options.timeouts.headersMs,
      bodyMs: options.timeouts.bodyMs,
      env,
      ...(options.maxConnectionsPerOrigin === undefined
        ? {}
        : { connections: options.maxConnectionsPerOrigin }),
    });
    return lease.dispatcher;
  };
  const userAgent = options.userAgent ?? "tokenhub-setup";

  return {
    baseUrl: `${base.origin}${base.pathname.replace(/\/+$/, "")}`,
    endpoint,
    close: async () => {
      closed = true;
      await lease?.release();
    },
    chat(probe) {
      return exchange({
        url: endpoint,
        method: "POST",
        key: probe.key,
        signal: probe.signal,
        timeoutMs: probe.timeoutMs,
        accept: probe.stream ? "text/event-stream, application/json" : "application/json",
        body: {
          model: probe.model,
          messages: [{ role: "user", content: PROBE_PROMPT }],
          max_tokens: PROBE.maxTokens,
          temperature: PROBE.temperature,
          ...(probe.stream ? { stream: true } : {}),
        },
      });
    },
    call(api) {
      const url = endpointUrl(base, api.path);
      for (const [name, value] of Object.entries(api.query ?? {})) url.searchParams.set(name, value);
      return exchange({
        url,
        method: api.method,
        key: api.key,
        signal: api.signal,
        accept: "application/json",
        body: api.body,
        headers: api.headers,
        timeoutMs: api.timeoutMs,
        maxBytes: api.maxBytes,
      });
    },
  };

  async function exchange(init: {
    url: URL;
    method: "GET" | "POST";
    key: SecretKey;
    signal: AbortSignal | undefined;
    accept: string;
    body?: unknown;
    headers?: Record<string, string> | undefined;
    timeoutMs?: number | undefined;
    maxBytes?: number | undefined;
  }): Promise<ProbeResponse> {
    const limit = init.maxBytes ?? options.maxResponseBytes;
    // The whole-call limit runs from the call, the first one's undici import included (on a loaded machine that
    // import took ~200 ms and the flow overran its deadline by as much); the latency is the request's alone.
    const endsAt = performance.now() + (init.timeoutMs ?? options.timeouts.requestMs);
    const [{ request }, dispatcher] = await Promise.all([loadUndici(), ensureDispatcher()]);
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) {
      // The key goes in one header only, set below; a caller cannot add or replace credentials.
      if (!/^(authorization|proxy-authorization|cookie)$/i.test(name)) extra[name.toLowerCase()] = value;
    }
    // One controller and one timer per request: the whole-call limit, or the caller going away.
    const deadline = abortAfter(Math.max(0, Math.round(endsAt - started)), init.signal);
    try {
      return await send(deadline.signal);
    } finally {
      deadline.dispose();
    }

    async function send(signal: AbortSignal): Promise<ProbeResponse> {
      let response: Dispatcher.ResponseData;
      try {
        // A closed client stays closed, as when it owned its Agent: the request fails as undici fails it.
        if (closed) throw new ClientClosedError();
        response = await request(init.url, {
          method: init.method,
          dispatcher,
          signal,
          headersTimeout: options.timeouts.headersMs,
          bodyTimeout: options.timeouts.bodyMs,
          headers: {
            ...extra,
            authorization: `Bearer ${init.key.reveal()}`,
            ...(init.body === undefined ? {} : { "content-type": "application/json" }),
            accept: init.accept,
            "user-agent": userAgent,
          },
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        });
      } catch (err) {
        rethrowIfCancelled(init.signal, err);
        return transport(err, deadline.timedOut, "headers", elapsed());
      }

      // Errors surface through reading the body. Destroying it unread (below) makes undici emit an AbortError
      // 'error' event; without a listener that event would be an uncaught exception and end the host process.
      response.body.on("error", () => {});
      const headers = keptHeaders(response.headers);
      const declared = Number(response.headers["content-length"]);
      const overflow = (): ProbeResponse => {
        response.body.destroy();
        return {
          type: "overflow",
          status: response.statusCode,
          headers,
          limitBytes: limit,
          latencyMs: elapsed(),
        };
      };
      if (Number.isFinite(declared) && declared > limit && !headers["content-encoding"]) {
        return overflow();
      }

      try {
        const read = await readBody(response, headers, limit, declared);
        if (read === "overflow") return overflow();
        return { type: "response", status: response.statusCode, headers, body: read, latencyMs: elapsed() };
      } catch (err) {
        response.body.destroy();
        rethrowIfCancelled(init.signal, err);
        if (err instanceof DecodeError) {
          return {
            type: "response",
            status: response.statusCode,
            headers,
            body: { kind: "malformed", reason: err.message, text: "" },
            latencyMs: elapsed(),
          };
        }
        return transport(err, deadline.timedOut, "body", elapsed());
      }
    }
  }
}

class DecodeError extends Error {}

/**
 * A signal that aborts after `ms` or when `outer` aborts, whichever comes first: one AbortController and one
 * timer (unref'd, as AbortSignal.timeout's), where AbortSignal.timeout plus AbortSignal.any cost a signal per
 * layer and a listener on each. `dispose` clears the timer and lets go of `outer`.
 */
function abortAfter(ms: number, outer: AbortSignal | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
  }, ms);
  timer.unref();
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}

/** A request on a client after its `close()`: a transport failure with undici's code for a closed client. */
class ClientClosedError extends Error {
  readonly code = "UND_ERR_CLOSED";
  constructor() {
    super("The client is closed");
  }
}

function rethrowIfCancelled(signal: AbortSignal | undefined, err: unknown): void {
  if (signal?.aborted) throw signal.reason ?? err;
}

function keptHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = raw[name];
    if (value !== undefined) out[name] = scrubbedLine(Array.isArray(value) ? value.join(", ") : value, 512);
  }
  return out;
}

/**
 * Reads the body under the size cap (counted after decompression: a small gzip can inflate to gigabytes),
 * assembling an SSE stream as it arrives or collecting JSON/text.
 */
async function readBody(
  response: Dispatcher.ResponseData,
  headers: Record<string, string>,
  limit: number,
  declared: number,
): Promise<ResponseBody | "overflow"> {
  const isStream = /^text\/event-stream/i.test(headers["content-type"] ?? "");
  const encoding = headers["content-encoding"]?.trim().toLowerCase();
  // A plain body whose declared length is within the cap is read whole: undici fails a body that runs past its
  // Content-Length, so the cap holds without counting chunks (and the bytes are decoded once, not per chunk).
  if (!isStream && (!encoding || encoding === "identity") && Number.isInteger(declared) && declared <= limit)
    return interpret(await response.body.text(), headers);
  const assembler = isStream ? createStreamAssembler() : undefined;
  const decoder = new TextDecoder("utf-8");
  const parts: string[] = [];
  let total = 0;

  for await (const chunk of decoded(response.body, headers["content-encoding"])) {
    total += chunk.byteLength;
    if (total > limit) return "overflow";
    const text = decoder.decode(chunk, { stream: true });
    if (assembler) assembler.feed(text);
    else parts.push(text);
  }
  const tail = decoder.decode();
  if (assembler) {
    assembler.feed(tail);
    return assembler.finish();
  }
  return interpret(parts.join("") + tail, headers);
}

/** A whole non-stream body as the flow reads it: empty, JSON (or JSON that does not parse), or text. */
function interpret(text: string, headers: Record<string, string>): ResponseBody {
  if (text.trim() === "") return { kind: "empty" };
  if (/json/i.test(headers["content-type"] ?? "") || /^\s*[[{]/.test(text)) {
    try {
      return { kind: "json", value: JSON.parse(text) };
    } catch (err) {
      // Not JSON.parse's message: it quotes a stretch of the body around the fault, already cut, where a
      // key could survive in part. The position says as much; the excerpt is ours, scrubbed before the cut.
      const at = /at position (\d+)/.exec((err as Error).message)?.[1];
      return {
        kind: "malformed",
        reason: `body is not valid JSON${at === undefined ? "" : ` (at position ${at})`}`,
        text: scrubbedLine(text, 200),
      };
    }
  }
  return { kind: "text", text: scrubbedLine(text, 2000) };
}

/** The body's bytes, decoded per content-encoding; a body that does not decode is a DecodeError. */
async function* decoded(body: Readable, encoding: string | undefined): AsyncIterable<Buffer> {
  const kind = encoding?.trim().toLowerCase();
  if (!kind || kind === "identity") {
    yield* body;
    return;
  }
  const inflater = inflaterFor(kind);
  if (!inflater) throw new DecodeError(`unsupported content-encoding "${kind.slice(0, 40)}"`);
  try {
    yield* inflated(body, inflater);
  } catch (err) {
    // A network failure while feeding surfaces here too; only zlib's own errors mean "the encoding lied".
    if (isDecodeError(err))
      throw new DecodeError(`body does not decode as ${kind} (${(err as Error).message})`);
    throw err;
  }
}

function transport(
  err: unknown,
  timedOut: boolean,
  phase: "headers" | "body",
  latencyMs: number,
): ProbeResponse {
  if (timedOut) {
    return {
      type: "transport",
      code: "request_timeout",
      message: "the request took longer than allowed",
      phase,
      latencyMs,
    };
  }
  const failure = readTransportError(err);
  return {
    type: "transport",
    code: failure.code,
    message: scrubbedLine(failure.message, 300),
    phase: failure.connect ? "connect" : phase,
    latencyMs,
  };
}
