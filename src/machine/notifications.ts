import { type NeedKeyNotification, STEP_TITLES } from "../schema/host.ts";
import { ENV_VAR } from "../secrets/sources.ts";

export type NeedKeyReason = NeedKeyNotification["reason"];

const REASON_TEXT: Record<NeedKeyReason, string> = {
  missing: `No TokenHub API key was found: ${ENV_VAR} is not set and no stored key is available.`,
  rejected: "TokenHub rejected the key (401): it may be revoked, mistyped, or from another account.",
  lost: "The key supplied earlier is no longer available: it was held only in the memory of an earlier process.",
};

/** Step-2's message: where to create a key and how to hand it over without it ever entering the chat. */
export function needKeyNotification(
  reason: NeedKeyReason,
  consoleUrl: string,
  notices: string[],
): NeedKeyNotification {
  return {
    type: "needKey",
    reason,
    message: [REASON_TEXT[reason], ...notices].join(" "),
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
