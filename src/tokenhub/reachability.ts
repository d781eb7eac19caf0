import { performance } from "node:perf_hooks";
import type { Config } from "../schema/config.ts";
import { scrubbedLine } from "../secrets/scrubber.ts";
import {
  createDispatcher,
  type Env,
  loadUndici,
  readTransportError,
  type TransportFailure,
} from "./transport.ts";
import { endpointUrl, isLoopbackHost } from "./url.ts";

/**
 * Whether a base URL answers, and how: an unauthenticated `GET <base>/models` through the same connection setup
 * as the flow (proxy from the environment, loopback direct, the configured connect timeout). No key is sent.
 * It returns plain facts; what they mean for the user is the caller's to say (`doctor`).
 */
export type Reachability =
  | {
      reached: true;
      status: number;
      /** The content-type header as sent, or "" when there is none. */
      contentType: string;
      /** The body as UTF-8 text, at most the first `maxBodyBytes`. */
      body: string;
      /** The Date header as sent, or null: the server's clock, for the skew. */
      date: string | null;
      /** From sending the request to the end of the body, whole milliseconds. */
      latencyMs: number;
    }
  | {
      reached: false;
      /** Read by transport.ts's one reader; the message scrubbed and cut. */
      failure: TransportFailure;
      latencyMs: number;
    };

export interface ReachabilityOptions {
  /** The flow's timeouts: the dispatcher is built as the flow's chat client builds its own. */
  timeouts: Pick<Config["timeouts"], "connectMs" | "headersMs" | "bodyMs">;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read. @default process.env */
  env?: Env;
  /** Limit for the headers, and for each silence in the body, milliseconds. @default 5000 */
  readMs?: number;
  /** Whole-request limit, milliseconds. @default 8000 */
  timeoutMs?: number;
  /** Body kept, bytes; the rest is not read. @default 65536 */
  maxBodyBytes?: number;
}

/** A diagnosis should answer in seconds, not wait out the flow's own (longer) limits. */
const READ_MS = 5_000;
const TIMEOUT_MS = 8_000;
const MAX_BODY_BYTES = 64 * 1024;

export async function probeReachability(base: URL, options: ReachabilityOptions): Promise<Reachability> {
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  const readMs = options.readMs ?? READ_MS;
  const [{ request }, dispatcher] = await Promise.all([
    loadUndici(),
    createDispatcher({
      reach: isLoopbackHost(base.hostname) ? "loopback" : "any",
      connectMs: options.timeouts.connectMs,
      headersMs: options.timeouts.headersMs,
      bodyMs: options.timeouts.bodyMs,
      env: options.env ?? process.env,
    }),
  ]);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(endpointUrl(base, "models"), {
      method: "GET",
      dispatcher,
      headersTimeout: readMs,
      bodyTimeout: readMs,
      signal: timeout,
    });
    // Leaving the body unread past the cap destroys it, and undici reports that as an 'error' event.
    res.body.on("error", () => {});
    const body = await boundedText(res.body, options.maxBodyBytes ?? MAX_BODY_BYTES);
    return {
      reached: true,
      status: res.statusCode,
      contentType: header(res.headers["content-type"]) ?? "",
      body,
      date: header(res.headers.date) ?? null,
      latencyMs: elapsed(),
    };
  } catch (err) {
    const failure: TransportFailure = timeout.aborted
      ? { code: "request_timeout", message: `no answer within ${timeoutMs} ms`, connect: false, tls: false }
      : readTransportError(err);
    return {
      reached: false,
      failure: { ...failure, message: scrubbedLine(failure.message, 300) },
      latencyMs: elapsed(),
    };
  } finally {
    await dispatcher.close();
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The first `limit` bytes as text; reading stops there (leaving the loop destroys the body). */
async function boundedText(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk.subarray(0, limit - size));
    size += chunk.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString("utf8");
}
