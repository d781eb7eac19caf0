/**
 * The process-wide scrubber. Every key value the process loads is registered here, and every line, message,
 * record, notification and snapshot that leaves the process goes through `scrub`. Good intentions are not a
 * control: pino's `redact` misses message strings, `err.message`, stacks and capitalised header names, so the
 * final text is scrubbed as well.
 *
 * Invariant: once `registerSecret(v)` returned, no output of `scrub` contains `v` or one of its common encodings
 * (base64, base64url, URL-encoding, JSON-escaping).
 */

export const REDACTED = "[redacted]";

const MIN_SECRET_LENGTH = 4; // shorter values would scrub ordinary words; keys are never this short

const patterns = new Map<string, string[]>();
let ordered: string[] = [];

function encodingsOf(secret: string): string[] {
  const variants = new Set<string>([secret]);
  const json = JSON.stringify(secret).slice(1, -1);
  variants.add(json);
  // A JSON body logged as a string field is escaped twice.
  variants.add(JSON.stringify(json).slice(1, -1));
  for (const url of urlEncodingsOf(secret)) {
    variants.add(url);
    variants.add(url.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  }
  variants.add(Buffer.from(secret, "utf8").toString("base64"));
  variants.add(Buffer.from(secret, "utf8").toString("base64url"));
  // Inside a longer base64 run (a Basic auth header, a dumped buffer) the key's encoding depends on its byte
  // offset modulo 3; cover all three alignments, minus the edge characters that mix in neighbouring bytes.
  for (const prefix of ["", "x", "xx"]) {
    const b64 = Buffer.from(prefix + secret, "utf8").toString("base64");
    const core = b64.slice(prefix ? 4 : 0, -4);
    if (core.length >= 8) {
      variants.add(core);
      variants.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...variants].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/**
 * encodeURIComponent (and its `+`-for-space variant) and the WHATWG form encoding that URLSearchParams uses;
 * they differ on `!'()*~`. encodeURIComponent throws on a lone surrogate: registering must never throw, since
 * parseKey registers a value before it checks it.
 */
function urlEncodingsOf(secret: string): string[] {
  const out = [new URLSearchParams({ k: secret }).toString().slice(2)];
  try {
    const component = encodeURIComponent(secret);
    out.push(component, component.replace(/%20/g, "+"));
  } catch {
    // A lone surrogate: no URL library sends it as is; the form encoding above covers its U+FFFD form.
  }
  return out;
}

export function registerSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH || patterns.has(secret)) return;
  patterns.set(secret, encodingsOf(secret));
  // Longest first, so a secret that contains another is replaced whole.
  ordered = [...new Set([...patterns.values()].flat())].sort((a, b) => b.length - a.length);
}

/** For tests and for hosts that rotate keys; a forgotten secret is no longer scrubbed. */
export function forgetSecret(secret: string): void {
  if (!patterns.delete(secret)) return;
  ordered = [...new Set([...patterns.values()].flat())].sort((a, b) => b.length - a.length);
}

export function scrub(text: string): string {
  if (ordered.length === 0) return text;
  let out = text;
  for (const variant of ordered) {
    if (out.includes(variant)) out = out.split(variant).join(REDACTED);
  }
  return out;
}

/** Scrubs every string inside a JSON-like value; returns a new value, never mutating the input. */
export function scrubDeep<T>(value: T): T {
  if (ordered.length === 0) return value;
  return walk(value, new WeakMap()) as T;
}

function walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === "string") return scrub(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(walk(item, seen));
    return out;
  }
  if (value instanceof Error) return scrubError(value);
  // A Date holds no text; other objects with toJSON (SecretKey, URL) are scrubbed as JSON would show them.
  if (value instanceof Date) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    const shown = toJSON.call(value);
    if (shown !== value) {
      const out = walk(shown, seen);
      seen.set(value, out);
      return out;
    }
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) {
    // defineProperty, not assignment: a "__proto__" key (JSON.parse makes those) must stay data.
    Object.defineProperty(out, scrub(k), {
      value: walk(v, seen),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

interface ErrorDescription {
  name: string;
  message: string;
  code?: string;
  /** What to do about it, for our own typed errors. */
  remedy?: string;
  stack?: string;
  cause?: unknown;
  /** The errors inside an AggregateError (undici reports connection failures this way). */
  errors?: ErrorDescription[];
}

const MAX_CAUSE_DEPTH = 4;
const MAX_AGGREGATED = 8;

/** A plain, scrubbed description of an error and its causes, for logs and diagnostics. */
export function scrubError(err: unknown, depth = 0): ErrorDescription {
  if (!(err instanceof Error)) return { name: "NonError", message: scrub(String(err)) };
  const { code, remedy } = err as { code?: unknown; remedy?: unknown };
  const out: ErrorDescription = { name: err.name, message: scrub(err.message) };
  if (typeof code === "string") out.code = scrub(code);
  if (typeof remedy === "string") out.remedy = scrub(remedy);
  if (err.stack) out.stack = scrub(err.stack);
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = scrubError(err.cause, depth + 1);
  if (err instanceof AggregateError && Array.isArray(err.errors) && depth < MAX_CAUSE_DEPTH) {
    out.errors = err.errors.slice(0, MAX_AGGREGATED).map((inner: unknown) => scrubError(inner, depth + 1));
  }
  return out;
}
