// The schema folder's plain values: constants the package exports beside its schemas, in a module without zod,
// so the package entry (src/index.ts) exports them without loading zod (issue 15: a bare import loads no zod).
// Each schema module re-exports its own, as before.

/**
 * The longest duration any option takes, milliseconds: one day. Far beyond any sensible wait, and well inside
 * what Node's timers hold (2^31-1 ms): past that, a timer fires at once, so 3e9 ms would time out immediately.
 */
export const MAX_DURATION_MS = 86_400_000;

export const CAPABILITIES = ["image", "video"] as const;

/**
 * The default cap on connections to one origin, per process: enough to keep a gateway busy, few enough that
 * thousands of concurrent flows queue for a connection instead of running out of file descriptors (EMFILE).
 */
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 128;

/** Why a flow failed, as the record and an escalation name it (FailureCodeSchema). */
export const FAILURE_CODES = [
  "key_rejected",
  "retries_exhausted",
  "server_delay_too_long",
  "deadline_exceeded",
  "routing_exhausted",
  "insufficient_balance",
  "invalid_response",
  "fatal",
  "status_write_failed",
  // Faults on this side, not TokenHub's: no connection at all, or a base URL that is not TokenHub's API.
  "unreachable",
  "wrong_base_url",
  // The run was stopped (Ctrl-C, a host's cancel) after it had sent a request and before a verdict.
  "cancelled",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** Failures whose cause is on the user's side: a local remedy, their own exit code, and no escalation. */
export const LOCAL_FAILURE_CODES: ReadonlySet<FailureCode> = new Set([
  "unreachable",
  "wrong_base_url",
  // The record's folder is on this machine: TokenHub answered, the write here failed.
  "status_write_failed",
]);

export const STEP_TITLES = {
  1: "Read TOKENHUB_API_KEY",
  2: "Ask for a key",
  3: "Send the minimal chat request",
  4: "Validate the response",
  5: "Write the integration record",
} as const;

/** The completion template fields in the quickstart's order (the manifest and tests use this list). */
export const COMPLETION_TEMPLATE_FIELDS = [
  "integration_status",
  "provider_mode",
  "model",
  "endpoint",
  "validated_at",
  "notes",
] as const;

export const SNAPSHOT_FORMAT = "tokenhub-setup.snapshot";
export const SNAPSHOT_FORMAT_VERSION = 1;
