import type { InspectOptions, inspect } from "node:util";
import { scrub } from "./secrets/scrubber.ts";

/**
 * The skill's error hierarchy: every error has a stable `code` that callers match on (never the message), a
 * scrubbed message and a `remedy` a person can act on. Messages are scrubbed at construction, so the stack,
 * which embeds the message, is clean too.
 */
export class TokenHubSetupError extends Error {
  readonly code: string;
  readonly remedy: string;

  constructor(code: string, message: string, options: { remedy: string; cause?: unknown }) {
    super(scrub(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.remedy = scrub(options.remedy);
    if (this.stack) this.stack = scrub(this.stack);
  }

  /**
   * `console.error(err)` prints the cause chain too, and a cause is someone else's error (a JSON.parse message
   * quoting the file, a keytar message): scrub the whole rendering, not only our own message.
   */
  // Keyed by the symbol's registered name and rendered with the inspect Node hands in, so that importing this
  // module loads no node:util (issue 15: ~6 ms of a bare package import).
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: InspectOptions,
    render: typeof inspect = process.getBuiltinModule("node:util").inspect,
  ): string {
    return scrub(render(this, { ...options, customInspect: false }));
  }

  /** One line for a person: what went wrong and what to do. */
  toLine(): string {
    return `${this.message} ${this.remedy}`.trim();
  }
}

/** Invalid configuration, including an `http:` base URL that is not loopback. */
/** A configuration value refused by the schema; `path` and `detail` let a front end name its own option. */
export class ConfigError extends TokenHubSetupError {
  readonly path: string | undefined;
  readonly detail: string | undefined;
  constructor(
    code: string,
    message: string,
    options: { remedy: string; cause?: unknown; path?: string; detail?: string },
  ) {
    super(code, message, options);
    this.path = options.path;
    this.detail = options.detail === undefined ? undefined : scrub(options.detail);
  }
}

/** A key that cannot be right whatever TokenHub says: empty, whitespace or control characters inside. */
export class KeyFormatError extends TokenHubSetupError {}

/** The OS keychain cannot be used (keytar missing, no D-Bus session, locked collection). */
export class KeychainUnavailableError extends TokenHubSetupError {}

/** A snapshot that is not ours, from another machine version, or corrupt. */
export class SnapshotError extends TokenHubSetupError {}

/** The status record could not be read or written. */
export class StatusStoreError extends TokenHubSetupError {}

/** A host event that does not match the contract. */
export class EventError extends TokenHubSetupError {}
