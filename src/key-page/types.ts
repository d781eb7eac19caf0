/** The key page's face types (re-exported by index.ts; here so the page's own modules can use them too). */
import type { KeptIn, KeyEntry, Logger } from "../session/index.ts";

export interface KeyPageOptions {
  /** What a submitted key is handed to: `openKeyEntry` of the session face. The page does not close it. */
  entry: KeyEntry;
  /** The TokenHub console link shown on the page, where a person creates a key (`config.consoleUrl`). */
  consoleUrl: string;
  /**
   * Where the plaintext key file is (`keys.keyFile`): named on the page when the person opts into it and when it
   * took the key. Without it the page says "the key file".
   */
  keyFile?: string;
  /** How long the link works, in milliseconds. @default 600000 (10 minutes) */
  expiresInMs?: number;
  /** Failed submissions (a key TokenHub refused or could not check) before the link is burnt. @default 5 */
  maxAttempts?: number;
  /** Where the page says what happened (refusals, acceptance, expiry); never a key or the token. @default silent */
  logger?: Logger;
  /** The clock that expiry is judged by, in epoch milliseconds (for tests). @default Date.now */
  now?: () => number;
}

export type KeyPageOutcome =
  | { status: "accepted"; kept: KeptIn; hint: string }
  | { status: "expired" | "exhausted" | "closed" };

export interface KeyPage {
  /** `http://127.0.0.1:<port>/<one-time token>`: for the person's browser only (it is the link's secret). */
  readonly url: string;
  /** When the link stops working, epoch milliseconds. */
  readonly expiresAt: number;
  /** Settles once, with the first of: a key accepted, the link expired or burnt, `close()`. Never rejects. */
  readonly outcome: Promise<KeyPageOutcome>;
  /** Closes the server (idempotent); the outcome becomes "closed" if it was still open. */
  close(): Promise<void>;
}
