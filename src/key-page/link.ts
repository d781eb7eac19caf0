/**
 * The life of one link. It is open until the first of: a key accepted (spent), its time up (expired), too many
 * keys failed (exhausted), the host closing it (closed). That first event settles the outcome; nothing after it
 * changes the outcome, and the link keeps answering for its state ("already used", "expired") until closed.
 *
 * While a key is being checked the link does not expire under it: a key TokenHub accepted a moment after the
 * deadline was still entered in time, and it is already stored by then. Expiry waits for the check to end.
 */
import type { KeptIn } from "../session/index.ts";
import type { KeyPageOutcome } from "./types.ts";

export type LinkState = "open" | "spent" | "expired" | "exhausted" | "closed";

export interface Link {
  /** The state now (expiry judged by the clock on each call, so a test's `now` decides it). */
  state(): LinkState;
  readonly expiresAt: number;
  readonly failures: number;
  readonly attemptsLeft: number;
  readonly outcome: Promise<KeyPageOutcome>;
  /** Marks a submission in progress; false when one already is (a double submit). */
  beginCheck(): boolean;
  endCheck(): void;
  accept(kept: KeptIn, hint: string): void;
  /** Counts a failed submission; the last allowed one exhausts the link. */
  fail(): void;
  close(): void;
  /** Called once with the outcome, when it settles. */
  onSettle(listener: (outcome: KeyPageOutcome) => void): void;
}

export function createLink(options: { expiresAt: number; maxAttempts: number; now: () => number }): Link {
  const { expiresAt, maxAttempts, now } = options;
  let state: LinkState = "open";
  let failures = 0;
  let checking = false;
  let resolve: (outcome: KeyPageOutcome) => void = () => {};
  const outcome = new Promise<KeyPageOutcome>((r) => {
    resolve = r;
  });
  const listeners: Array<(outcome: KeyPageOutcome) => void> = [];

  const settle = (next: Exclude<LinkState, "open">, result: KeyPageOutcome) => {
    if (state !== "open") return;
    state = next;
    resolve(result);
    for (const listener of listeners) listener(result);
  };
  const expireIfDue = () => {
    if (state === "open" && !checking && now() >= expiresAt) settle("expired", { status: "expired" });
  };

  return {
    state() {
      expireIfDue();
      return state;
    },
    expiresAt,
    get failures() {
      return failures;
    },
    get attemptsLeft() {
      return Math.max(0, maxAttempts - failures);
    },
    outcome,
    beginCheck() {
      if (checking) return false;
      checking = true;
      return true;
    },
    endCheck() {
      checking = false;
      expireIfDue();
    },
    accept(kept, hint) {
      settle("spent", { status: "accepted", kept, hint });
    },
    fail() {
      failures += 1;
      if (failures >= maxAttempts) settle("exhausted", { status: "exhausted" });
    },
    close() {
      settle("closed", { status: "closed" });
      state = "closed";
    },
    onSettle(listener) {
      listeners.push(listener);
    },
  };
}
