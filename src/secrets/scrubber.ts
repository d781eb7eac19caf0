/**
 * The process-wide scrubber. Every key value the process loads is registered here, and every line, message,
 * record, notification and snapshot that leaves the process goes through `scrub`. Good intentions are not a
 * control: pino's `redact` misses message strings, `err.message`, stacks and capitalised header names, so the
 * final text is scrubbed as well.
 *
 * Invariant: once `registerSecret(v)` returned, no output of `scrub` contains `v` or one of its common encodings
 * (base64, base64url, URL-encoding, JSON-escaping), in any letter case (URL parsing lower-cases a host name that
 * carries a key). Text must reach `scrub` whole: a copy cut or changed before it (one character escaped) is
 * not recognised, hence scrubbedLine, which scrubs before it cuts.
 */

export const REDACTED = "[redacted]";

/**
 * Shorter keys are refused (secrets/key.ts): the scrubber keeps a key out of every output by redacting it wherever
 * it appears, so a short key that is also an ordinary word or a name we print ("complete", "Integration",
 * "deepseek-v3.2") would redact the flow's own words, break its record and notifications, and still not be a key.
 * Sixteen characters rules those out (an outside review pasted each of them). No TokenHub key is anywhere near
 * this short. Here, not in key.ts, so that what registers a key early (the CLI) can follow the same rule.
 */
export const MIN_KEY_LENGTH = 16;

const MIN_SECRET_LENGTH = 4; // shorter values would scrub ordinary words; keys are never this short

const patterns = new Map<string, string[]>();

/**
 * Every variant of every secret is matched by regular-expression alternations, longest first, so a secret
 * that contains another is replaced whole. V8 matches a literal alternation far faster than one `includes` per
 * variant (at 1,000 keys, about 0.5 µs instead of 280 µs per log line), but building one costs time per
 * variant. So there are two tiers: `bulk`, rebuilt in full now and then, and `recent`, the variants registered
 * since, rebuilt on each registration (it stays small). Bulk is applied first, which is the same as one
 * longest-first pass unless a recent variant contains a bulk one (it would be cut in two): registration checks
 * that and asks for a full rebuild then (rare: keys do not contain each other). A recent variant inside a bulk
 * one is fine: the bulk one goes first, as longest-first wants.
 */
let bulk: RegExp[] = [];
let recent: string[] = [];
let recentMatcher: RegExp | undefined;
const known = new Set<string>();
/**
 * The length of the shortest variant known: a match covers exactly as many UTF-16 code units as its variant (the
 * `i` flag without `u` folds one code unit to one), so shorter text cannot hold one and skips the patterns.
 */
let shortest = Number.POSITIVE_INFINITY;
let rebuildNeeded = false;
/** Variants per compiled pattern, and how many may wait in `recent` before a full rebuild. */
const CHUNK_VARIANTS = 4096;
const MAX_RECENT = 256;

/** The forms of `secret` that are scrubbed (exported for the scrubber benchmark's side-by-side baseline). */
export function secretVariants(secret: string): string[] {
  return encodingsOf(secret);
}

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

/**
 * Registers a value that may be a key, by the rule parseKey applies: trimmed, and only when at least
 * MIN_KEY_LENGTH long, so that an ordinary word set where a key belongs is never redacted from the output.
 */
export function registerKey(raw: string): void {
  const value = raw.trim();
  if (value.length >= MIN_KEY_LENGTH) registerSecret(value);
}

export function registerSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH || patterns.has(secret)) return;
  const variants = encodingsOf(secret);
  patterns.set(secret, variants);
  const fresh = variants.filter((v) => !known.has(v));
  for (const v of fresh) {
    known.add(v);
    if (v.length < shortest) shortest = v.length;
  }
  if (fresh.length === 0 || rebuildNeeded) return;
  if (recent.length + fresh.length > MAX_RECENT || containsBulk(fresh)) {
    rebuildNeeded = true;
    return;
  }
  recent = [...recent, ...fresh].sort(longestFirst);
  recentMatcher = alternation(recent);
}

/** For tests and for hosts that rotate keys; a forgotten secret is no longer scrubbed. */
export function forgetSecret(secret: string): void {
  if (!patterns.delete(secret)) return;
  known.clear();
  shortest = Number.POSITIVE_INFINITY;
  for (const variants of patterns.values())
    for (const v of variants) {
      known.add(v);
      if (v.length < shortest) shortest = v.length;
    }
  rebuildNeeded = true;
}

/** Whether a new variant contains a bulk one: applying bulk first would cut it, so rebuild in full instead. */
function containsBulk(fresh: string[]): boolean {
  for (const matcher of bulk) {
    for (const v of fresh) {
      matcher.lastIndex = 0;
      const hit = matcher.test(v);
      matcher.lastIndex = 0;
      if (hit) return true;
    }
  }
  return false;
}

function rebuild(): void {
  const ordered = [...known].sort(longestFirst);
  bulk = [];
  for (let i = 0; i < ordered.length; i += CHUNK_VARIANTS) {
    bulk.push(alternation(ordered.slice(i, i + CHUNK_VARIANTS)));
  }
  recent = [];
  recentMatcher = undefined;
  rebuildNeeded = false;
}

function longestFirst(a: string, b: string): number {
  return b.length - a.length;
}

/** One pattern matching any of `variants` (already longest first), every pattern character escaped. */
function alternation(variants: string[]): RegExp {
  // No `u` flag: a lone surrogate in a key stays a literal code unit. `i`: a copy in another letter case (a
  // lower-cased host name) is the key all the same.
  return new RegExp(variants.map((v) => v.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")).join("|"), "gi");
}

const redacted = () => REDACTED;

export function scrub(text: string): string {
  if (text.length < shortest) return text;
  if (rebuildNeeded) rebuild();
  let out = text;
  for (const matcher of bulk) out = out.replace(matcher, redacted);
  if (recentMatcher) out = out.replace(recentMatcher, redacted);
  return out;
}

/** Text for a message or a record field: scrubbed, whitespace collapsed, cut to `max` characters with "…". */
export function scrubbedLine(text: string, max = 300): string {
  const clean = scrub(text).replace(/\s+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Scrubs every string inside a JSON-like value; returns a new value, never mutating the input. */
export function scrubDeep<T>(value: T): T {
  if (patterns.size === 0) return value;
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
  for (const k of Object.keys(value)) {
    const key = scrub(k);
    const v = walk((value as Record<string, unknown>)[k], seen);
    // A "__proto__" key (JSON.parse makes those) must stay data: defineProperty, not assignment, for it alone.
    if (key === "__proto__")
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
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
