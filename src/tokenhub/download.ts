import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { scrub, scrubbedLine } from "../secrets/scrubber.ts";
import { inflated, inflaterFor } from "./content-encoding.ts";
import { createTemp, MediaError, type TempFile } from "./media-file.ts";
import {
  contentTypeAllowed,
  describeUnknownBytes,
  type MediaKind,
  mediaTypeOf,
  type SniffedMedia,
  sniffMediaType,
} from "./media-type.ts";
import { isPrivateAddress } from "./private-address.ts";
import { createDispatcher, loadUndici, type Reach, readTransportError } from "./transport.ts";
import { isLoopbackHost } from "./url.ts";

/**
 * Generated images and videos come back as links to object storage. The link is untrusted input: any scheme,
 * any host, a redirect chain, a body of any size or type. This module fetches it without credentials, under a
 * size cap, and keeps a file only once the bytes are known to be the requested kind of media.
 */

export const DEFAULT_MAX_MEDIA_BYTES = 200 * 1024 * 1024;

export interface DownloadRequest {
  /** From a TokenHub response: untrusted. */
  url: string;
  kind: MediaKind;
  /** Output folder, created 0700 when missing. */
  dir: string;
  /** The saved file's name before its extension, e.g. "image-2026-11-24T22-50-00Z"; sanitised. */
  baseName: string;
  /** Counted on the decoded bytes. */
  maxBytes: number;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number; requestMs: number };
  signal?: AbortSignal;
  /** At most once per 256 KiB or 250 ms, plus one final call once the file is saved. */
  onProgress?: (p: { bytes: number; total: number | null }) => void;
  /** A shared dispatcher; otherwise a module-level Agent (see closeMediaDispatchers). */
  dispatcher?: Dispatcher;
  /** @default 3 */
  maxRedirects?: number;
  /**
   * Whether links may point at loopback, private or link-local hosts, and use plain http: there. Only when the
   * API itself is on loopback (the simulator, a local gateway); a remote API's links must be public https.
   * @default false
   */
  allowPrivateHosts?: boolean;
}

export interface SavedMedia {
  path: string;
  bytes: number;
  mime: string;
  sha256: string;
}

/**
 * How a URL may appear in a message or a log: origin and path only. Signed storage links carry their token in
 * the query string, and a userinfo part would be a password; neither belongs in output.
 */
export function describeUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return "an unparsable URL";
  }
  // data:, file:, blob: have no origin; their "path" is the payload or a local path, not worth echoing.
  const shown = parsed.origin === "null" ? parsed.protocol : `${parsed.origin}${parsed.pathname}`;
  // A link is server text: scrubbed whole before the cut.
  return scrubbedLine(shown, 200);
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const PROGRESS_BYTES = 256 * 1024;
const PROGRESS_MS = 250;
/** Enough for every signature sniffMediaType knows, and for it to tell Matroska from WebM. */
const HEAD_BYTES = 64;

export async function downloadMedia(req: DownloadRequest): Promise<SavedMedia> {
  assertCap(req.maxBytes);
  req.signal?.throwIfAborted();
  const allowPrivate = req.allowPrivateHosts === true;
  let url = checkMediaUrl(req.url, req.kind, allowPrivate);
  const maxRedirects = req.maxRedirects ?? 3;
  const { request } = await loadUndici();
  const timeout = AbortSignal.timeout(req.timeouts.requestMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const safeBase = safeBaseName(req.baseName, req.kind);
  let response: Dispatcher.ResponseData | undefined;
  let temp: TempFile | undefined;

  try {
    for (let hops = 0; ; hops++) {
      const dispatcher =
        req.dispatcher ??
        (await sharedDispatcher(
          req.timeouts.connectMs,
          isLoopbackHost(url.hostname) ? "loopback" : allowPrivate ? "any" : "public",
        ));
      response = await request(url, {
        method: "GET",
        dispatcher,
        signal,
        headersTimeout: req.timeouts.headersMs,
        bodyTimeout: req.timeouts.bodyMs,
        // Deliberately only these: the request can carry nothing of TokenHub's (the key never reaches this
        // module), and identity asks the server not to compress what is already compressed media.
        headers: {
          accept: `${req.kind}/*, */*;q=0.5`,
          "accept-encoding": "identity",
          "user-agent": USER_AGENT,
        },
      });
      // Errors surface through reading; a body destroyed unread emits one that nobody would otherwise hear.
      response.body.on("error", () => {});
      if (!REDIRECT_STATUSES.has(response.statusCode)) break;
      const location = header(response.headers, "location");
      if (!location) break;
      response.body.destroy();
      if (hops >= maxRedirects) {
        throw new MediaError(
          "media_redirects",
          `The ${req.kind} download from ${describeUrl(req.url)} was redirected more than ${maxRedirects} times.`,
          {
            remedy: `Run the check again; if the ${req.kind} link keeps redirecting, report it to TokenHub.`,
          },
        );
      }
      // Each hop is as untrusted as the first: an https link must not lead to plain http elsewhere.
      url = checkMediaUrl(resolveLocation(location, url), req.kind, allowPrivate);
    }

    const { statusCode, headers } = response;
    if (statusCode < 200 || statusCode > 299) {
      throw new MediaError(
        "media_http_error",
        `The ${req.kind} download from ${describeUrl(url)} failed with HTTP ${statusCode}.`,
        {
          remedy: `Generated ${req.kind} links expire after about 24 hours: run the check again for a fresh link.`,
        },
      );
    }
    const contentType = header(headers, "content-type");
    if (!contentTypeAllowed(contentType, req.kind)) {
      throw wrongType(req.kind, url, mediaTypeOf(contentType));
    }
    const encoding = header(headers, "content-encoding")?.trim().toLowerCase() || "identity";
    // Only an identity length is the file's size; a compressed one says nothing about what it inflates to.
    const declared = encoding === "identity" ? declaredLength(header(headers, "content-length")) : null;
    if (declared !== null && declared > req.maxBytes) throw tooLarge(req.kind, req.maxBytes, declared);
    if (declared === 0) throw empty(req.kind, url);

    const progress = throttledProgress(req.onProgress, declared);
    const hash = createHash("sha256");
    const head: Buffer[] = [];
    let headLength = 0;
    let media: SniffedMedia | undefined;
    let bytes = 0;
    // Awaiting each write before pulling the next chunk is the backpressure: memory holds one chunk, not the file.
    for await (const chunk of decoded(response.body, encoding, req.kind, url)) {
      bytes += chunk.byteLength;
      if (bytes > req.maxBytes) throw tooLarge(req.kind, req.maxBytes, null);
      hash.update(chunk);
      if (media && temp) {
        await temp.write(chunk);
      } else {
        head.push(chunk);
        headLength += chunk.byteLength;
        if (headLength >= HEAD_BYTES) {
          const first = Buffer.concat(head);
          head.length = 0;
          // Sniffed before any file exists: an HTML error page never touches the disk.
          media = expectKind(first, req.kind, url);
          temp = await createTemp(req.dir, safeBase);
          await temp.write(first);
        }
      }
      progress.update(bytes);
    }
    if (bytes === 0) throw empty(req.kind, url);
    if (!media || !temp) {
      const first = Buffer.concat(head);
      media = expectKind(first, req.kind, url);
      temp = await createTemp(req.dir, safeBase);
      await temp.write(first);
    }
    req.signal?.throwIfAborted();
    const path = await temp.commit(media.ext);
    temp = undefined;
    progress.finish(bytes);
    return { path, bytes, mime: media.mime, sha256: hash.digest("hex") };
  } catch (err) {
    response?.body.destroy();
    await temp?.discard();
    if (req.signal?.aborted) throw req.signal.reason ?? err;
    if (err instanceof MediaError) throw err;
    throw networkError(err, timeout.aborted, req, url);
  }
}

/** For media that arrived inline (a base64 image): the same checks and the same temp-then-rename as a download. */
export async function saveMediaBytes(
  data: Uint8Array,
  opts: { kind: MediaKind; dir: string; baseName: string; maxBytes: number },
): Promise<SavedMedia> {
  assertCap(opts.maxBytes);
  if (data.byteLength === 0) {
    throw new MediaError("media_empty", `The ${opts.kind} TokenHub returned inline is empty.`, {
      remedy: `Run the check again; if the ${opts.kind} stays empty, report it to TokenHub.`,
    });
  }
  if (data.byteLength > opts.maxBytes) throw tooLarge(opts.kind, opts.maxBytes, data.byteLength);
  const media = expectKind(data.subarray(0, HEAD_BYTES), opts.kind, undefined);
  const temp = await createTemp(opts.dir, safeBaseName(opts.baseName, opts.kind));
  try {
    await temp.write(data);
    const path = await temp.commit(media.ext);
    return {
      path,
      bytes: data.byteLength,
      mime: media.mime,
      sha256: createHash("sha256").update(data).digest("hex"),
    };
  } catch (err) {
    await temp.discard();
    throw err;
  }
}

/** Every comparison with NaN is false: a cap computed from a missing setting would silently be no cap. */
function assertCap(maxBytes: number): void {
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be a positive number, not ${maxBytes}`);
}

/**
 * A media link as it may be fetched: https (plain http only on loopback, and only when private hosts are
 * allowed), no credentials, nothing that is not http at all (file:, data:, ftp:), and, unless the API itself
 * is on loopback, no loopback, private or link-local host written as an address or as localhost. (A name that
 * resolves to such an address is refused when it is looked up: see publicOnlyLookup.)
 */
function checkMediaUrl(raw: string, kind: MediaKind, allowPrivate: boolean): URL {
  const remedy = `The ${kind} link in TokenHub's response is not a safe https: URL; report it to TokenHub.`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MediaError("media_url_refused", `The ${kind} link is not a valid URL.`, { remedy });
  }
  if (url.username || url.password) {
    throw new MediaError(
      "media_url_refused",
      `Refusing the ${kind} link ${describeUrl(url)}: it contains a user name or password.`,
      { remedy },
    );
  }
  const local = isLoopbackHost(url.hostname) || isPrivateAddress(url.hostname);
  if (local && !allowPrivate) {
    throw new MediaError(
      "media_url_refused",
      `Refusing to download the ${kind} from ${describeUrl(url)}: a remote API's media link must not point at this machine or a private network.`,
      { remedy },
    );
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))) return url;
  throw new MediaError(
    "media_url_refused",
    `Refusing to download the ${kind} from ${describeUrl(url)}: only https: is allowed (plain http: only on loopback).`,
    { remedy },
  );
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location; // checkMediaUrl reports it as invalid
  }
}

/** The saved file's name: `[A-Za-z0-9._-]`, no leading dot, at most 100 characters, never a path. */
export function safeBaseName(raw: string, fallback: string): string {
  // The name may come from server text (a video task id): scrubbed whole before it is cut or rewritten.
  const cleaned = scrub(raw)
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[.-]+/, "")
    .slice(0, 100)
    .replace(/[.-]+$/, "");
  return cleaned || fallback;
}

// ---- transport ----------------------------------------------------------------------------------------------

const USER_AGENT = "tokenhub-setup";

/**
 * undici sets the connect timeout per Agent, not per request, so there is one Agent per connect timeout
 * (in practice one) and reach (see Reach in transport.ts: loopback links direct, a remote API's links checked
 * for private addresses). The environment's proxy is read when an Agent is created.
 */
const dispatchers = new Map<string, Promise<Dispatcher>>();

function sharedDispatcher(connectMs: number, reach: Reach): Promise<Dispatcher> {
  const key = `${connectMs}:${reach}`;
  let dispatcher = dispatchers.get(key);
  if (!dispatcher) {
    dispatcher = createDispatcher({ reach, connectMs, env: process.env });
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}

/** Closes the module's own Agents (not a caller's dispatcher); the next download creates a new one. */
export async function closeMediaDispatchers(): Promise<void> {
  const open = [...dispatchers.values()];
  dispatchers.clear();
  await Promise.all(open.map(async (d) => (await d).close()));
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function declaredLength(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** The body per content-encoding (content-encoding.ts); an encoding we cannot read is not the media asked for. */
function decoded(body: Readable, encoding: string, kind: MediaKind, url: URL): AsyncIterable<Buffer> {
  if (encoding === "identity") return body as AsyncIterable<Buffer>;
  const inflater = inflaterFor(encoding);
  if (!inflater) throw wrongType(kind, url, `content-encoding ${encoding.slice(0, 40)}`);
  return inflated(body, inflater);
}

function throttledProgress(
  onProgress: DownloadRequest["onProgress"],
  total: number | null,
): { update(bytes: number): void; finish(bytes: number): void } {
  let lastBytes = 0;
  let lastAt = performance.now();
  // A progress display that throws must not cost the download (nor pass for a network error).
  const report = (bytes: number) => {
    try {
      onProgress?.({ bytes, total });
    } catch {}
  };
  return {
    update(bytes) {
      if (!onProgress) return;
      const now = performance.now();
      if (bytes - lastBytes < PROGRESS_BYTES && now - lastAt < PROGRESS_MS) return;
      lastBytes = bytes;
      lastAt = now;
      report(bytes);
    },
    finish: report,
  };
}

// ---- errors -------------------------------------------------------------------------------------------------

function expectKind(first: Uint8Array, kind: MediaKind, url: URL | undefined): SniffedMedia {
  const media = sniffMediaType(first);
  if (media?.kind === kind) return media;
  throw wrongType(
    kind,
    url,
    media ? `${article(media.kind)} ${media.kind} (${media.mime})` : describeUnknownBytes(first),
  );
}

function wrongType(kind: MediaKind, url: URL | undefined, found: string): MediaError {
  const from = url ? ` from ${describeUrl(url)}` : "";
  return new MediaError("media_wrong_type", `Expected ${article(kind)} ${kind}${from} but got ${found}.`, {
    remedy: url
      ? `The link did not return the generated ${kind} (an expired link often answers with an error page): run the check again.`
      : `TokenHub's response did not carry a usable ${kind}: run the check again.`,
  });
}

function tooLarge(kind: MediaKind, limit: number, declared: number | null): MediaError {
  const size = declared === null ? "" : ` (${formatBytes(declared)})`;
  return new MediaError(
    "media_too_large",
    `The ${kind} is larger than the ${formatBytes(limit)} limit${size}.`,
    {
      remedy: `Raise the media size limit if ${kind}s this large are expected.`,
    },
  );
}

function empty(kind: MediaKind, url: URL): MediaError {
  return new MediaError("media_empty", `The ${kind} download from ${describeUrl(url)} was empty.`, {
    remedy: `Run the check again; if the ${kind} stays empty, report it to TokenHub.`,
  });
}

/**
 * The error's code and a short message, without the cause attached: a transport error is someone else's text,
 * and this one must not be the place a signed URL's query string ends up.
 */
function networkError(err: unknown, timedOut: boolean, req: DownloadRequest, url: URL): MediaError {
  const where = describeUrl(url);
  const remedy = "Check the network connection and proxy settings (HTTPS_PROXY), then run the check again.";
  if (timedOut) {
    return new MediaError(
      "media_network",
      `The ${req.kind} download from ${where} took longer than ${formatMs(req.timeouts.requestMs)}.`,
      { remedy },
    );
  }
  const { code, message } = readTransportError(err);
  if (code === "ERR_MEDIA_PRIVATE_ADDRESS") {
    return new MediaError(
      "media_url_refused",
      `Refusing to download the ${req.kind} from ${where}: its host resolves to a private or local address.`,
      {
        remedy: `The ${req.kind} link in TokenHub's response is not a safe https: URL; report it to TokenHub.`,
      },
    );
  }
  let detail = message;
  for (const secret of [url.search, new URL(req.url).search]) {
    if (secret.length > 1) detail = detail.split(secret).join("?…");
  }
  return new MediaError(
    "media_network",
    `The ${req.kind} download from ${where} failed: ${code} (${detail.slice(0, 200)}).`,
    { remedy },
  );
}

function article(kind: MediaKind): string {
  return kind === "image" ? "an" : "a";
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${n} bytes`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
