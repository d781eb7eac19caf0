// Looking for a key in output: the forms it can take on the way out, and the texts a thrown error shows.
import { inspect } from "node:util";

export type Channel = readonly [name: string, text: string];

const DEEP = { depth: Number.POSITIVE_INFINITY, showHidden: true } as const;

function lowerHex(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
}

/** The key as raw text, JSON-escaped (once and twice), URL-encoded (both forms), base64 and base64url. */
export function keyForms(key: string): Array<{ form: string; text: string }> {
  const forms: Array<{ form: string; text: string }> = [];
  const add = (form: string, text: string) => {
    if (!forms.some((f) => f.text === text)) forms.push({ form, text });
  };
  add("raw", key);
  const json = JSON.stringify(key).slice(1, -1);
  add("JSON-escaped", json);
  add("JSON-escaped twice", JSON.stringify(json).slice(1, -1));
  try {
    add("encodeURIComponent", encodeURIComponent(key));
    add("encodeURIComponent (lower-case hex)", lowerHex(encodeURIComponent(key)));
  } catch {
    // A lone surrogate cannot be percent-encoded this way; the form encoding below still can.
  }
  const form = new URLSearchParams({ k: key }).toString().slice(2);
  add("URLSearchParams", form);
  add("URLSearchParams (lower-case hex)", lowerHex(form));
  const bytes = Buffer.from(key, "utf8");
  add("base64", bytes.toString("base64"));
  add("base64url", bytes.toString("base64url"));
  // Inside a longer base64 run the key's encoding depends on its offset; the middle part is stable.
  for (const prefix of ["x", "xx"]) {
    const core = Buffer.from(prefix + key, "utf8")
      .toString("base64")
      .slice(4, -4);
    if (core.length >= 12) {
      add(`base64 at offset ${prefix.length}`, core);
      add(`base64url at offset ${prefix.length}`, core.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return forms;
}

/** Every (channel, form) where the key shows; empty is the only pass. */
export function findLeaks(keys: readonly string[], channels: readonly Channel[]): string[] {
  const hits: string[] = [];
  for (const key of new Set(keys)) {
    const forms = keyForms(key);
    for (const [name, text] of channels) {
      for (const { form, text: needle } of forms) {
        if (text.includes(needle)) hits.push(`${name}: ${form}`);
      }
    }
  }
  return hits;
}

/**
 * What a thrown error shows: message, stack, util.inspect, and the same for each cause (pino's standard `err`
 * serializer, which a host's own logger uses, appends every cause's message and stack).
 */
export function errorChannels(label: string, err: unknown, options: { causes?: boolean } = {}): Channel[] {
  const out: Channel[] = [[`${label} inspect`, inspect(err, DEEP)]];
  const depthLimit = options.causes === false ? 1 : 5;
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < depthLimit; depth++) {
    const e = current as { message?: unknown; stack?: unknown; cause?: unknown };
    const where = depth === 0 ? label : `${label} cause ${depth}`;
    out.push([`${where} message`, String(e.message ?? current)], [`${where} stack`, String(e.stack ?? "")]);
    current = e.cause;
  }
  return out;
}

/** Runs `fn` and returns what it throws as channels (and fails when it does not throw). */
export async function thrownBy(
  label: string,
  fn: () => unknown,
  options: { causes?: boolean } = {},
): Promise<Channel[]> {
  try {
    await fn();
  } catch (err) {
    return errorChannels(label, err, options);
  }
  throw new Error(`${label}: expected an error`);
}

export function inspected(value: unknown): string {
  return inspect(value, DEEP);
}
