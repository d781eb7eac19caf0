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
      return failureCode === "invalid_response" ? EXIT.invalidResponse : EXIT.escalated;
    case "cancelled":
      return EXIT.cancelled;
    default:
      return EXIT.failure;
  }
}
