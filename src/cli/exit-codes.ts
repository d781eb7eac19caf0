import { type FailureCode, LOCAL_FAILURE_CODES } from "../schema/record.ts";

/** The CLI's exit codes; the README's table is checked against this object. */
export const EXIT = {
  complete: 0,
  /** Escalated for a reason other than the ones below (also: an unexpected internal error). */
  failure: 1,
  usage: 2,
  keyMissing: 3,
  keyRejected: 4,
  escalated: 5,
  invalidResponse: 6,
  /** TokenHub could not be reached, or the base URL is not its API: a fault on this side, not escalated. */
  localFault: 7,
  cancelled: 130,
} as const;

/**
 * How a flow ended, as an exit code: the one mapping behind `tokenhub-setup` and `openclaw tokenhub`.
 * `needKeyReason` matters at awaitingKey, `failureCode` when escalated.
 */
export function exitCodeFor(state: string, needKeyReason?: string, failureCode?: string): number {
  switch (state) {
    case "complete":
      return EXIT.complete;
    case "awaitingKey":
      return needKeyReason === "rejected" ? EXIT.keyRejected : EXIT.keyMissing;
    case "escalated":
      if (failureCode === "invalid_response") return EXIT.invalidResponse;
      return failureCode && LOCAL_FAILURE_CODES.has(failureCode as FailureCode)
        ? EXIT.localFault
        : EXIT.escalated;
    case "cancelled":
      return EXIT.cancelled;
    default:
      return EXIT.failure;
  }
}
