import type { Dispatcher } from "undici";
import { DEFAULT_CONNECTIONS_PER_ORIGIN } from "../schema/config.ts";
import { publicOnlyLookup } from "./private-address.ts";

/**
 * How every request of the skill leaves this machine: the chat client, the media downloads and `doctor` all
 * load undici, build their connection pools and read transport failures here, so a proxy, a timeout or a TLS
 * failure means the same thing on every path.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * undici is loaded on the first request, not at import: its index pulls in fetch, HTTP/2, WebSocket, the mock
 * agent and more (60-130 ms of a host's start-up), none of which is needed until a request is sent (`--help`
 * and importing the library never send one).
 */
let undici: Promise<typeof import("undici")> | undefined;
export function loadUndici(): Promise<typeof import("undici")> {
  // Node gives a CommonJS module's namespace its `default` (module.exports) beside the named exports; a
  // code-split bundle (the bin, scripts/bundle-bin.ts) gives only `default`. Every export is on `default`.
  undici ??= import("undici").then((m) => (m as { default?: typeof import("undici") }).default ?? m);
  return undici;
}

/** The proxy variables honoured (upper or lower case), as undici's EnvHttpProxyAgent reads them. */
export function proxyFromEnv(env: Env): { https?: string; http?: string; noProxy?: string } {
  const pick = (name: string) => env[name] ?? env[name.toLowerCase()];
  const https = pick("HTTPS_PROXY");
  const http = pick("HTTP_PROXY");
  const noProxy = pick("NO_PROXY");
  return { ...(https ? { https } : {}), ...(http ? { http } : {}), ...(noProxy ? { noProxy } : {}) };
}

/**
 * Which hosts a dispatcher connects to, which decides whether a proxy may carry its requests:
 * - `loopback`: this machine (the simulator, a local gateway, a loopback media link). Always direct: a proxy
 *   would get a plain-http request, Authorization included, as a forward request, and would answer from its
 *   own loopback, not ours.
 * - `any`: a remote host, through the proxy from the environment when one is set. Remote bases are https, which
 *   undici's proxy agent tunnels through CONNECT, so the proxy sees only the host name and port, never the key.
 * - `public`: as `any`, for links from a remote API (generated media): a direct connection looks names up
 *   through publicOnlyLookup, so a name that resolves to a private address is refused at connect time; through
 *   a proxy, the proxy resolves the name.
 */
export type Reach = "loopback" | "any" | "public";

export interface DispatcherOptions {
  reach: Reach;
  /** TCP and TLS connect limit, milliseconds; undici sets it per dispatcher, not per request. */
  connectMs: number;
  /** Headers timeout of every request on it, milliseconds, unless the request sets its own. @default undici's */
  headersMs?: number;
  /** Body (idle) timeout of every request on it, milliseconds, unless the request sets its own. @default undici's */
  bodyMs?: number;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read, when the dispatcher is created. @default process.env */
  env?: Env;
  /** Most connections open at once to one origin; further requests queue. @default 128 */
  connections?: number;
}

/**
 * One Agent with explicit timeouts; behind a corporate proxy (HTTPS_PROXY or HTTP_PROXY set) the same through
 * undici's EnvHttpProxyAgent, which also honours NO_PROXY; `loopback` never through a proxy (see Reach).
 * The caller owns it and closes it.
 */
export async function createDispatcher(options: DispatcherOptions): Promise<Dispatcher> {
  const { Agent, EnvHttpProxyAgent } = await loadUndici();
  const common = {
    connect: { timeout: options.connectMs },
    ...(options.headersMs === undefined ? {} : { headersTimeout: options.headersMs }),
    ...(options.bodyMs === undefined ? {} : { bodyTimeout: options.bodyMs }),
    keepAliveTimeout: 4_000,
    connections: options.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
  };
  const proxy = proxyFromEnv(options.env ?? process.env);
  const direct = options.reach === "loopback" || (!proxy.https && !proxy.http);
  if (direct && options.reach === "public")
    return new Agent({ ...common, connect: { ...common.connect, lookup: publicOnlyLookup() } });
  if (direct) return new Agent(common);
  return new EnvHttpProxyAgent({
    ...common,
    ...(proxy.https ? { httpsProxy: proxy.https } : {}),
    ...(proxy.http ? { httpProxy: proxy.http } : {}),
    ...(proxy.noProxy ? { noProxy: proxy.noProxy } : {}),
  });
}

/** A dispatcher shared by every client built with the same options; `release` when done with it. */
export interface DispatcherLease {
  readonly dispatcher: Promise<Dispatcher>;
  /** Gives the lease back; the last one closes the dispatcher (in-flight requests finish first). Idempotent. */
  release(): Promise<void>;
}

const shared = new Map<string, { dispatcher: Promise<Dispatcher>; users: number }>();

/**
 * One dispatcher per process for each set of options (reach, timeouts, cap, the proxy the environment names),
 * shared by every client that asks for it: thousands of concurrent flows to one origin share one pool and its
 * connection cap, instead of each opening connections of its own. Counted: the last release closes it, so a
 * process that closed all its clients holds no socket, as when each client owned its Agent.
 */
export function leaseDispatcher(options: DispatcherOptions): DispatcherLease {
  const env = options.env ?? process.env;
  const key = JSON.stringify([
    options.reach,
    options.connectMs,
    options.headersMs ?? null,
    options.bodyMs ?? null,
    options.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
    proxyFromEnv(env),
  ]);
  let entry = shared.get(key);
  if (!entry) {
    entry = { dispatcher: createDispatcher({ ...options, env }), users: 0 };
    shared.set(key, entry);
  }
  entry.users += 1;
  const held = entry;
  let released = false;
  return {
    dispatcher: held.dispatcher,
    async release() {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users > 0) return;
      if (shared.get(key) === held) shared.delete(key);
      await (await held.dispatcher).close();
    },
  };
}

/** What a failed request says about the connection, read the same way on every path. */
export interface TransportFailure {
  /** undici's or the system's code (`UND_ERR_CONNECT_TIMEOUT`, `ECONNREFUSED`, `CERT_HAS_EXPIRED`), or `unknown`. */
  code: string;
  /** Someone else's text, neither scrubbed nor cut: the caller does both before it shows it. */
  message: string;
  /** No connection was made (DNS, refused, unreachable, connect timeout or tunnel, TLS handshake). */
  connect: boolean;
  /** The TLS handshake or the certificate failed. */
  tls: boolean;
}

/**
 * TLS failures: Node's own codes (ERR_TLS_*, ERR_SSL_*, ERR_OSSL_*) and OpenSSL's verify codes, not all of which
 * say CERT (UNABLE_TO_VERIFY_LEAF_SIGNATURE, the usual "corporate proxy CA missing" failure, does not).
 */
const TLS_CODE =
  /CERT|TLS|SSL|OSSL|^UNABLE_TO_|^INVALID_CA$|^PATH_LENGTH_EXCEEDED$|^INVALID_PURPOSE$|^HOSTNAME_MISMATCH$|^CRL_/i;

/** Codes of a connection that was never made (TLS aside): `CONNECT` covers undici's connect timeout. */
const CONNECT_CODE = /CONNECT|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/;

export function isTlsErrorCode(code: string): boolean {
  return TLS_CODE.test(code);
}

/**
 * undici puts the code on the error itself (`UND_ERR_*`, and the system's for a refused connection) or on its
 * cause (a socket error wrapped by undici); a failed connect to a name with several addresses is an
 * AggregateError whose own message may be empty, so the first inner message stands in.
 */
export function readTransportError(err: unknown): TransportFailure {
  const e = (typeof err === "object" && err !== null ? err : {}) as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
    errors?: { message?: unknown }[];
  };
  const code =
    (typeof e.code === "string" && e.code) ||
    (typeof e.cause?.code === "string" && e.cause.code) ||
    "unknown";
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const message =
    text(e.message) ?? text(e.cause?.message) ?? text(e.errors?.[0]?.message) ?? String(err ?? "unknown");
  const tls = isTlsErrorCode(code);
  return { code, message, connect: tls || CONNECT_CODE.test(code), tls };
}
