import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { buildReply, jsonReply, type Reply, sendReply } from "./respond.ts";
import { loadScenario, parseScenario, type Scenario } from "./scenario.ts";
import { createSequencer, type Sequencer } from "./sequence.ts";

export interface SimulatorOptions {
  /** The scenario to start with: a name under `fixtures/scenarios/`, or a scenario object. @default "happy" */
  scenario?: Scenario | string;
  /** Interface to listen on. @default "127.0.0.1" */
  host?: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /**
   * Keys the simulator accepts as `Authorization: Bearer <key>`; any other gets a 401. Without it, any
   * non-empty bearer token is accepted and only a missing or empty one gets the 401. Only SHA-256 digests of
   * these keys are kept. Paths under `/media/` need no key at all, like the signed object-storage URLs they
   * stand for; each request is still recorded with `authorization` present or absent, which is how a test
   * proves that no key reached the media host.
   */
  acceptKeys?: readonly string[];
  /**
   * What the `{{redirectTo}}` placeholder (the `redirect` scenario's `location`) stands for.
   * @default `${origin}/v1/redirected` (a route no bundled scenario defines, so following it gives a 404)
   */
  redirectTo?: string;
  /**
   * What the `{{mediaOrigin}}` placeholder (the origin of generated image and video URLs) stands for. Point it
   * at a second simulator to put media on another origin, as object storage is. A trailing `/` is dropped.
   * @default the simulator's own origin
   */
  mediaOrigin?: string;
  /** Largest request body accepted, in bytes; a larger one gets a 413. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
}

/** One request as the simulator saw it. The API key is never stored: see `keyLeaks`. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The raw query string without `?`, or "" (with the key redacted, should it be there). */
  query: string;
  /** Whether an `Authorization` header was sent; its value is never recorded. */
  authorization: "present" | "absent";
  /** Lower-cased request headers without `authorization`. */
  headers: Record<string, string>;
  /** The parsed JSON body, the raw text when it is not JSON, or undefined when empty or over the size cap. */
  body: unknown;
  /** When the request arrived (ms since the epoch). */
  at: number;
  /**
   * Where the bearer token showed up besides `Authorization` (`"header:<name>"`, `"query"`, `"body"`). Those
   * copies are replaced by `[REDACTED]` in this record; a correct client leaves this empty.
   */
  keyLeaks: string[];
  /**
   * Whether the client went away before the response was complete: a cancelled or timed-out request, or one
   * whose body the client stopped reading. Set when the connection closes, so it can turn true after the call.
   */
  abandoned: boolean;
}

export interface Simulator {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `origin + "/v1"`, the `baseURL` for OpenAI-compatible clients. */
  readonly baseUrl: string;
  readonly port: number;
  /**
   * Every request since start or the last `reset()`, in arrival order, including the keyless ones under
   * `/media/` (check their `authorization` to prove a client kept its key away from the media host).
   */
  readonly requests: RecordedRequest[];
  /** The scenario in use. */
  readonly scenario: Scenario;
  /** Switch scenario (a name or an object, validated) and start its sequences from the beginning. */
  useScenario(scenario: Scenario | string): void;
  /** Forget recorded requests; restart the scenario's sequences and the count behind `req-<n>`, `task-<n>`. */
  reset(): void;
  /** Stop listening and destroy open connections (keep-alive included). Safe to call twice. */
  close(): Promise<void>;
}

const REDACTED = "[REDACTED]";
/** Where media is served without a key; see `acceptKeys`. */
const PUBLIC_PREFIX = "/media/";
/** A video task poll, whose last segment is the id `{{taskId}}` echoes. */
const TASK_POLL = /^\/v1\/video\/tasks\/([^/]+)$/;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const ERRORS = {
  unauthorized: {
    error: { message: "Invalid API key provided", type: "authentication_error", code: "invalid_api_key" },
  },
  unknownRoute: { error: { message: "Unknown route", type: "invalid_request_error", code: "not_found" } },
  tooLarge: {
    error: { message: "Request body too large", type: "invalid_request_error", code: "request_too_large" },
  },
};

/** Start a TokenHub simulator: a real HTTP server on loopback answering as the scenario scripts. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const keyDigests = options.acceptKeys?.map(digest);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  let scenario = resolveScenario(options.scenario ?? "happy");
  let sequencer: Sequencer = createSequencer(scenario);
  let counter = 0;
  let origin = "";

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => failSafely(res, error));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const requestNumber = ++counter;
    const requestId = `req-${requestNumber}`;
    // origin + path, not new URL(path, origin): a path like "//elsewhere/x" must stay a path, as a real server sees it.
    const url = new URL(`${origin}${req.url ?? "/"}`);
    const { text, tooLarge } = await readBody(req, maxBodyBytes);
    const token = bearerToken(req.headers.authorization);
    const record = recordRequest(req, url, tooLarge ? undefined : text, token, at);
    requests.push(record);
    res.once("close", () => {
      // The simulator closing on its own is not the client going away.
      if (!res.writableFinished && !closing.signal.aborted) record.abandoned = true;
    });

    if (tooLarge) {
      // The connection is not reused after an oversized upload, as most servers do.
      const reply = jsonReply(413, ERRORS.tooLarge, requestId);
      reply.headers.connection = "close";
      return sendReply(res, reply, {}, closing.signal);
    }
    if (!url.pathname.startsWith(PUBLIC_PREFIX) && !isAuthorized(token, keyDigests)) {
      return sendReply(res, jsonReply(401, ERRORS.unauthorized, requestId), {}, closing.signal);
    }
    const model = requestedModel(record.body, url);
    const step = sequencer.next(req.method ?? "GET", url.pathname, model);
    if (step === undefined) {
      return sendReply(res, jsonReply(404, ERRORS.unknownRoute, requestId), {}, closing.signal);
    }
    const reply: Reply = buildReply(step, {
      model,
      requestBody: record.body,
      origin,
      requestId,
      redirectTo: options.redirectTo ?? `${origin}/v1/redirected`,
      mediaOrigin: options.mediaOrigin?.replace(/\/+$/, "") ?? origin,
      // The request number keeps a created task's id unique until reset(), and ties it to its x-request-id.
      taskId: TASK_POLL.exec(url.pathname)?.[1] ?? `task-${requestNumber}`,
    });
    await sendReply(res, reply, step, requestSignal(res, closing.signal));
  }

  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;

  return {
    origin,
    baseUrl: `${origin}/v1`,
    port,
    requests,
    get scenario() {
      return scenario;
    },
    useScenario(next) {
      scenario = resolveScenario(next);
      sequencer = createSequencer(scenario);
    },
    reset() {
      requests.length = 0;
      counter = 0;
      sequencer = createSequencer(scenario);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

function resolveScenario(scenario: Scenario | string): Scenario {
  return typeof scenario === "string" ? loadScenario(scenario) : parseScenario(scenario);
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Aborts when the simulator closes or the client disconnects before the response is finished. */
function requestSignal(res: ServerResponse, closing: AbortSignal): AbortSignal {
  const gone = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  return AbortSignal.any([closing, gone.signal]);
}

/** Read the whole body; past `limit` bytes keep draining (so the client can finish sending) but keep nothing. */
async function readBody(req: IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  const tooLarge = size > limit;
  return { text: tooLarge ? "" : Buffer.concat(chunks).toString("utf8"), tooLarge };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return match?.[1];
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

function isAuthorized(token: string | undefined, keyDigests: readonly Buffer[] | undefined): boolean {
  if (token === undefined) return false;
  if (keyDigests === undefined) return true;
  // Digests have equal length, so timingSafeEqual applies and no key is kept in clear.
  const candidate = digest(token);
  return keyDigests.some((known) => timingSafeEqual(candidate, known));
}

/**
 * Build the record with the bearer token redacted wherever else it appears. The token itself is never
 * stored: it lives only in this call's arguments.
 */
function recordRequest(
  req: IncomingMessage,
  url: URL,
  text: string | undefined,
  token: string | undefined,
  at: number,
): RecordedRequest {
  const keyLeaks: string[] = [];
  const scrub = (value: string, where: string): string => {
    if (token === undefined || !value.includes(token)) return value;
    keyLeaks.push(where);
    return value.replaceAll(token, REDACTED);
  };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === "authorization" || value === undefined) continue;
    headers[name] = scrub(Array.isArray(value) ? value.join(", ") : value, `header:${name}`);
  }
  return {
    method: req.method ?? "GET",
    path: url.pathname,
    query: scrub(url.search.slice(1), "query"),
    authorization: req.headers.authorization === undefined ? "absent" : "present",
    headers,
    body: parseBody(text === undefined ? "" : scrub(text, "body")),
    at,
    keyLeaks,
    abandoned: false,
  };
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The model a request asks for: JSON body `model`, else the `model` query parameter (video polling). */
function requestedModel(body: unknown, url: URL): string | undefined {
  if (body !== null && typeof body === "object" && "model" in body && typeof body.model === "string") {
    return body.model;
  }
  return url.searchParams.get("model") ?? undefined;
}

/** A bug in the simulator must not hang the client: answer 500 if possible, else cut the connection. */
function failSafely(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = `Simulator error: ${error instanceof Error ? error.message : String(error)}`;
  res.writeHead(500, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message, type: "simulator_error", code: "simulator_error" } }));
}
