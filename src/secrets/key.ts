import { createHash } from "node:crypto";
import { inspect } from "node:util";
import { KeyFormatError } from "../errors.ts";
import type { KeySource } from "../schema/record.ts";
import { MIN_KEY_LENGTH, REDACTED, registerKey, registerSecret } from "./scrubber.ts";

const MAX_KEY_LENGTH = 4096;

/** Shorter keys are refused: scrubber.ts says why (its one home, which the CLI's small face may load). */
export { MIN_KEY_LENGTH };

/**
 * An API key in memory. The value sits in a private field; JSON, `util.inspect`, string conversion and
 * structured logging all print `[redacted]`. Only the TokenHub client calls `reveal()`, to build the header.
 */
export class SecretKey {
  readonly #value: string;
  readonly source: KeySource;
  /** Truncated SHA-256: lets the flow recognise a key it saw rejected without keeping the key. */
  readonly fingerprint: string;

  constructor(value: string, source: KeySource) {
    this.#value = value;
    this.source = source;
    this.fingerprint = fingerprintOf(value);
    registerSecret(value);
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `SecretKey(${this.source}, ${REDACTED})`;
  }
}

export function fingerprintOf(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 12);
}

/**
 * Sanity checks only: TokenHub documents no key prefix or length, so nothing is refused for its shape beyond
 * what cannot be a key, cannot be kept out of the output (too short), or cannot travel in an HTTP header.
 * Messages never include the value.
 */
export function parseKey(raw: string, source: KeySource, options: { subject?: string } = {}): SecretKey {
  const value = raw.trim();
  // How the messages name the key: "The key from TOKENHUB_API_KEY", or the caller's words ("The key you typed").
  const subject = options.subject ?? `The key from ${describeSource(source)}`;
  // A host that fills `${VAR}` in its config passes the text on when VAR is not set (OpenClaw does, for an MCP
  // server's env): that is the name of a key, not one (so not registered as a secret), and sending it would only
  // earn a 401.
  // Shell-style defaults too (`${VAR:-x}`): a host that does not know them passes the whole text on.
  const reference = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=?+][^}]*)?\}$/.exec(value)?.[1];
  if (reference) {
    throw new KeyFormatError(
      "key_unresolved_reference",
      `${subject} is the reference \${${reference}}, not a key: ${reference} was not set where it was to be filled in.`,
      {
        remedy: `Set ${reference} in the environment of the program that starts this one (the MCP client or gateway), then restart it.`,
      },
    );
  }
  // Register before any other check, so that even a refused key cannot reach a log line through a later message;
  // but not one too short to be a key, which would only redact ordinary words ("Open") everywhere.
  registerKey(value);
  if (value.length === 0) {
    throw new KeyFormatError("key_empty", `${subject} is empty.`, {
      remedy: "Copy the whole key from the TokenHub console (API Keys) and supply it again.",
    });
  }
  if (value.length > MAX_KEY_LENGTH) {
    throw new KeyFormatError("key_too_long", `${subject} is longer than ${MAX_KEY_LENGTH} characters.`, {
      remedy: "Check that only the key was copied, not a whole file or page.",
    });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw new KeyFormatError("key_control_chars", `${subject} contains control characters.`, {
      remedy:
        "Copy the key again from the TokenHub console; it may have picked up a terminal escape or a newline.",
    });
  }
  if (/\s/.test(value)) {
    throw new KeyFormatError("key_whitespace", `${subject} has whitespace inside it.`, {
      remedy: "Copy the key again as one unbroken token.",
    });
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new KeyFormatError("key_not_ascii", `${subject} has characters an HTTP header cannot carry.`, {
      remedy: "Copy the key again from the TokenHub console; look for smart quotes or look-alike letters.",
    });
  }
  // Last: a short value with a stray space or a smart quote is better told what is wrong with it.
  if (value.length < MIN_KEY_LENGTH) {
    throw new KeyFormatError(
      "key_too_short",
      `${subject} is shorter than ${MIN_KEY_LENGTH} characters: only part of a key, or not a key.`,
      { remedy: "Copy the whole key from the TokenHub console (API Keys) and supply it again." },
    );
  }
  return new SecretKey(value, source);
}

/**
 * A form a person can recognise their key by, for `key where --show-masked` only: the first three and the last
 * four characters, and never more than a third of a short key.
 */
export function maskKey(value: string): string {
  if (value.length < 12) return `…${value.slice(-Math.floor(value.length / 3))}`;
  return `${value.slice(0, 3)}…${value.slice(-4)}`;
}

export function describeSource(source: KeySource): string {
  switch (source) {
    case "event":
      return "the host";
    case "env":
      return "TOKENHUB_API_KEY";
    case "host":
      return "the host's secret store";
    case "keychain":
      return "the OS keychain";
    case "file":
      return "the key file (stored with --insecure-storage)";
  }
}
