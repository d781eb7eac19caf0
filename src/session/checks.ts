/**
 * Checks outside a flow, for a person asking "does it work now?": one probe with a key (`status --check`), and
 * whether a base URL answers at all, without a key (`doctor`). Each returns facts; the words are the caller's.
 */
import { EXIT } from "../machine/face.ts";
import type { Config } from "../schema/config.ts";
import { CONTRACT } from "../schema/quickstart.ts";
import { parseKey, type SecretKey } from "../secrets/key.ts";
import { classify, type OutcomeKind } from "../tokenhub/classify.ts";
import { probeReachability, type Reachability } from "../tokenhub/reachability.ts";
import { type Env, proxyFromEnv } from "../tokenhub/transport.ts";
import { parseBaseUrl } from "../tokenhub/url.ts";
import { clientFor, resolveConfig } from "./config.ts";

export type { Reachability } from "../tokenhub/reachability.ts";
export type { TransportFailure } from "../tokenhub/transport.ts";

/** TokenHub's answer to one probe: what it means (classify's kind) and the exit code a command gives for it. */
export interface KeyCheckAnswer {
  ok: boolean;
  kind: OutcomeKind;
  status: number | null;
  requestId: string | null;
  /** Whole milliseconds. */
  latencyMs: number;
  /** What went wrong, one scrubbed sentence (classify's message). */
  message: string;
  exitCode: number;
}

export interface KeyCheck {
  /** The API base as parsed, without a trailing slash. */
  readonly baseUrl: string;
  /**
   * Sends the quickstart's minimal request once with `key` (Step-3 and Step-4: no retry, no fallback, no record
   * written). Resolves undefined when `signal` aborted it. A key given as text (a host's auth prompt hands one
   * over) is checked for its shape first: a typed error (code `key_*`) when it cannot be a key.
   * @default model: the quickstart's first model format
   */
  ask(options: {
    key: SecretKey | string;
    model?: string;
    signal?: AbortSignal;
  }): Promise<KeyCheckAnswer | undefined>;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

/**
 * A probe against `baseUrl` (default: the config's), with the flow's timeouts and the proxy from `env`. Throws
 * a typed error (code and remedy) when the base URL cannot be used (not a URL, `http:` off loopback).
 */
export function openKeyCheck(options: { baseUrl?: string; env: Env; config?: Config }): KeyCheck {
  const config = options.config ?? resolveConfig({});
  const client = clientFor(config, {
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    env: options.env,
  });
  return {
    baseUrl: client.baseUrl,
    async ask({ key: given, model = CONTRACT.modelFormats[0], signal }) {
      const key = typeof given === "string" ? parseKey(given, "host", { subject: "The key" }) : given;
      const response = await client
        .chat({ model, stream: false, key, ...(signal ? { signal } : {}) })
        .catch((err: unknown) => {
          if (signal?.aborted) return undefined;
          throw err;
        });
      if (!response || signal?.aborted) return undefined;
      const outcome = classify(response);
      return {
        ok: outcome.kind === "ok",
        kind: outcome.kind,
        status: outcome.status,
        requestId: outcome.requestId,
        latencyMs: Math.round(outcome.latencyMs),
        message: outcome.message,
        exitCode:
          outcome.kind === "ok"
            ? EXIT.complete
            : outcome.kind === "unauthorized"
              ? EXIT.keyRejected
              : // Faults on this side: nothing to escalate, something to fix here.
                outcome.kind === "fatal" || (outcome.kind === "retryable" && outcome.reason === "unreachable")
                ? EXIT.localFault
                : EXIT.failure,
      };
    },
    close: () => client.close(),
  };
}

/**
 * The base URL as the flow would use it, or a typed error saying why it cannot be (code `invalid_base_url` or
 * `insecure_base_url`, with a remedy).
 */
export function readBaseUrl(raw: string): URL {
  return parseBaseUrl(raw);
}

/** The proxy settings the flow's connections follow, read from `env` as they are (credentials included). */
export function proxySettings(env: Env): { https?: string; http?: string; noProxy?: string } {
  return proxyFromEnv(env);
}

/**
 * Whether `base` answers: an unauthenticated GET of `models` through the flow's own connection setup (proxy
 * included) and its connect timeout, answered in seconds. No key is sent.
 */
export function probeReach(base: URL, options: { env: Env; config?: Config }): Promise<Reachability> {
  const config = options.config ?? resolveConfig({});
  return probeReachability(base, { timeouts: config.timeouts, env: options.env });
}
