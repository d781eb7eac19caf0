import {
  type KeyHint,
  type NeedKeyNotification,
  type Notification,
  type Output,
  STEP_TITLES,
} from "../schema/host.ts";
import { describeSource } from "../secrets/key.ts";
import { ENV_VAR } from "../secrets/sources.ts";
import type { Outcome } from "../tokenhub/classify.ts";

export type NeedKeyReason = NeedKeyNotification["reason"];

const REASON_TEXT: Record<NeedKeyReason, string> = {
  missing: `No TokenHub API key was found: ${ENV_VAR} is not set and no stored key is available.`,
  rejected: "TokenHub rejected the key (401): it may be revoked, mistyped, or from another account.",
  lost: "The key supplied earlier is no longer available: it was held only in the memory of an earlier process.",
};

/** Which key was rejected, and which other key a person could switch to (masked), in one or two sentences. */
function rejectionText(rejected: KeyHint | null, others: KeyHint[]): string {
  if (!rejected) return REASON_TEXT.rejected;
  const first = `TokenHub rejected the key from ${describeSource(rejected.source)} (${rejected.hint}) (401): it may be revoked, mistyped, or from another account.`;
  const other = others[0];
  if (!other) return first;
  // The variable is read before the keychain: while it is set, the other key is never reached.
  const switchTo =
    rejected.source === "env"
      ? `unset ${ENV_VAR} to use it, or set ${ENV_VAR} to a new key`
      : "it is used once the rejected one is replaced";
  return `${first} ${capitalised(describeSource(other.source))} holds another key (${other.hint}): ${switchTo}.`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Step-2's message: where to create a key and how to hand it over without it ever entering the chat. */
export function needKeyNotification(
  reason: NeedKeyReason,
  consoleUrl: string,
  notices: string[],
  keys: { rejectedKey: KeyHint | null; otherKeys: KeyHint[] } = { rejectedKey: null, otherKeys: [] },
): NeedKeyNotification {
  const head = reason === "rejected" ? rejectionText(keys.rejectedKey, keys.otherKeys) : REASON_TEXT[reason];
  return {
    type: "needKey",
    reason,
    message: [head, ...notices].join(" "),
    notices,
    ...(reason === "rejected" ? { rejectedKey: keys.rejectedKey, otherKeys: keys.otherKeys } : {}),
    instructions: {
      consoleUrl,
      envVar: ENV_VAR,
      steps: [
        `Open ${consoleUrl}, create a key under "API Keys" and copy it (it is shown only once).`,
        `Hand it over without pasting it into the conversation: set ${ENV_VAR} where the agent runs, store it through the host's masked secret prompt, or run \`tokenhub-setup key set\` to keep it in the OS keychain.`,
        "Then say the key is ready, and the setup continues from here.",
      ],
      neverPasteInChat: true,
    },
  };
}

export function progressTitle(step: keyof typeof STEP_TITLES): string {
  return STEP_TITLES[step];
}

/** The progress lines' details, worded once (the CLI and hosts show them as they are). */
export const PROGRESS = {
  attempt: (model: string, attempt: number) => `${model} (attempt ${attempt})`,
  backoff: (what: string, waitMs: number, attempt: number) =>
    `${what}: waiting ${(Math.max(0, waitMs) / 1000).toFixed(1)} s before attempt ${attempt}`,
  fallback: (model: string, what: string) =>
    `${model} cannot be served (${what}): trying the next model format`,
  recordingRejection: "recording that TokenHub rejected the key",
  recordingCancel: "recording that the check was cancelled",
  image: (model: string) => `image check: generating with ${model}`,
  videoSubmit: (model: string) => `video check: creating a task with ${model}`,
  videoWait: (taskId: string | undefined, status: string | undefined, waitMs: number) =>
    `video check: task ${taskId} is ${status}; next poll in ${(Math.max(0, waitMs) / 1000).toFixed(1)} s`,
  videoPoll: (taskId: string | undefined, poll: number) =>
    `video check: polling task ${taskId} (poll ${poll})`,
  videoDownload: (taskId: string | undefined) =>
    `video check: task ${taskId} succeeded; downloading the file`,
} as const;

/** An attempt's outcome in a few words, for the progress lines (`HTTP 503 server_error`). */
export function outcomeSummary(outcome: Outcome | null): string {
  if (!outcome) return "no response";
  const reason = "reason" in outcome ? outcome.reason : outcome.kind;
  return outcome.status === null ? `${reason}` : `HTTP ${outcome.status} ${reason}`;
}

/** The notification a final state sends: the flow's output, as the host hears it. */
export function endNotification(output: Output): Notification {
  switch (output.status) {
    case "complete":
      return { type: "completed", record: output.record };
    case "escalated":
      return {
        type: "escalated",
        escalation: output.escalation,
        ...(output.record ? { record: output.record } : {}),
      };
    case "cancelled":
      return {
        type: "cancelled",
        reason: output.reason,
        ...(output.record ? { record: output.record } : {}),
      };
  }
}
