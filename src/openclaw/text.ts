import {
  agentText,
  type CompletionRecord,
  type NeedKeyNotification,
  recordText,
  type TurnResult,
} from "../session/index.ts";
import { API_KEY_PATH, TOOL_NAME } from "./config.ts";

/**
 * What the model reads after a tool call: the session's agent text, with OpenClaw's own sentences (how the
 * user stores a key in OpenClaw, the offer to wire TokenHub in as a model provider).
 */
export function turnText(turn: TurnResult, context: { recordPath: string }): string {
  return agentText(turn, {
    tool: TOOL_NAME,
    recordPath: context.recordPath,
    needKey: needKeyText,
    afterComplete: (record) => [
      `Offer the user to use TokenHub in OpenClaw as model tokenhub/${record.model} (the key stays a SecretRef or in OpenClaw's auth store), and to make it their default model. If they agree, call ${TOOL_NAME} with {"action":"status","wire":true} (add "setDefault":true for the default model).`,
    ],
  });
}

function needKeyText(n: NeedKeyNotification | undefined): string {
  if (!n) return "TokenHub setup is waiting for an API key.";
  return [
    n.message,
    `Tell the user to create a key at ${n.instructions.consoleUrl} (API Keys; it is shown once). Do NOT ask them to paste it into this conversation.`,
    "They can store it either way:",
    `- the secrets tool's request action with the name TOKENHUB_API_KEY (a masked prompt; this plugin reads that entry), or`,
    `- set TOKENHUB_API_KEY where the OpenClaw gateway runs, then: openclaw config set ${API_KEY_PATH} --ref-source env --ref-provider default --ref-id TOKENHUB_API_KEY`,
    `When the user says the key is stored, call ${TOOL_NAME} with {"action":"resume"}.`,
  ].join("\n");
}

export function statusText(record: CompletionRecord | undefined, recordPath: string): string {
  return recordText(record, recordPath, TOOL_NAME);
}
