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
