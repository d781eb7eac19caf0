/**
 * The failures the chart itself records, worded once: the ones a transition names (a 401, a cancel, a request
 * or a record write that crashed, a multimodal check that stopped). TokenHub's own answers are worded where
 * they are understood (`tokenhub/classify`, `machine/policy`).
 */
import type { Capability } from "../schema/config.ts";
import type { Failure, KeySource } from "../schema/record.ts";
import { describeSource } from "../secrets/key.ts";
import type { MediaFailure } from "../tokenhub/classify-media.ts";
import type { PollDecision } from "./policy.ts";

/** Thrown by an effect when the key the flow was using can no longer be read (a restore in a fresh process). */
export const KEY_LOST = "key_lost";

const messageOf = (error: unknown) => (error as { message?: unknown } | null)?.message;
const text = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);

export function keyRejected(source: KeySource | null, hint: string | null): Failure {
  return {
    code: "key_rejected",
    message: `TokenHub rejected the key${source ? ` from ${describeSource(source)}` : ""}${hint ? ` (${hint})` : ""} (HTTP 401).`,
    remedy:
      "Create a new key in the TokenHub console and supply it where this runs; then run the setup again.",
  };
}

export function checkCancelled(reason: string | undefined): Failure {
  return {
    code: "cancelled",
    message: `The check was cancelled${reason ? ` (${reason})` : ""} before TokenHub's answer was validated.`,
    remedy: "Run the setup again to verify the integration.",
  };
}

export function requestCrashed(error: unknown): Failure {
  return {
    code: "fatal",
    message: `The request could not be made: ${text(messageOf(error), "unknown error")}`,
    remedy: "This is a bug in tokenhub-setup or its environment; report it with the debug log.",
  };
}

export function recordNotWritten(error: unknown): Failure {
  const e = error as { remedy?: unknown } | null;
  return {
    code: "status_write_failed",
    message: `The integration record could not be written: ${text(messageOf(error), "unknown error")}`,
    remedy: text(e?.remedy, "Check that the status file's folder is writable."),
  };
}

/** Why Step-1 found no key when reading the sources failed outright. */
export function sourcesUnread(error: unknown): string {
  return text(messageOf(error), "The key sources could not be read.");
}

export function rejectionNotRecorded(error: unknown): string {
  return `The failed check could not be recorded: ${text(messageOf(error), "unknown error")}`;
}

/** A multimodal effect that threw instead of answering. */
export function mediaCrashed(capability: Capability, error: unknown): MediaFailure {
  if ((error as { code?: unknown } | null)?.code === KEY_LOST) {
    // Only after a restore in another process, with a key that lived in the first one's memory: the check
    // cannot ask for it again (the text path already passed), so it says how to avoid this next time.
    return {
      code: "media_key_lost",
      message: `The ${capability} check could not go on after the restore: the key was held only in an earlier process's memory.`,
      remedy:
        "Keep the key where the skill can read it again (TOKENHUB_API_KEY, the host's secret store or the OS keychain) and run the check again.",
    };
  }
  return {
    code: "media_error",
    message: `The ${capability} check stopped: ${text(messageOf(error), "unknown error")}`,
    remedy: text(
      (error as { remedy?: unknown } | null)?.remedy,
      "Run the check again; report it if it persists.",
    ),
  };
}

export function mediaCancelled(reason: string | undefined): MediaFailure {
  return {
    code: "media_cancelled",
    message: reason ?? "cancelled by the host",
    remedy: "Run the setup again with the check enabled when there is time for it.",
  };
}

/** How a video task that will not be downloaded ended: the poll's own error, else the decision's, with TokenHub's reason. */
export function videoTaskEnded(
  pollError: MediaFailure | null,
  decision: PollDecision,
  reason: { code: string | null; message: string } | null,
): MediaFailure {
  if (pollError) return pollError;
  if (decision.next !== "fail")
    return { code: "media_error", message: "The video task ended unexpectedly.", remedy: "Run again." };
  return {
    code: reason?.code ? `${decision.code}: ${reason.code}` : decision.code,
    message: reason?.message ? `${decision.message} ${reason.message}` : decision.message,
    remedy: decision.remedy,
  };
}
