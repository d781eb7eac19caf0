// Imports nothing: the CLI reads these before (or without) loading the chart, xstate or zod.

/** The CLI's exit codes (`tokenhub-setup` and `openclaw tokenhub`); the README's table is checked against it. */
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
