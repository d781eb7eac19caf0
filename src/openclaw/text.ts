import {
  agentText,
  type CompletionRecord,
  type NeedKeyNotification,
  recordText,
  type TurnResult,
} from "../session/index.ts";
import { API_KEY_PATH, TOOL_NAME } from "./config.ts";

/**
 * Who reads the text: the model after a tool call ("agent"), a person at `openclaw tokenhub ...` ("terminal") or
 * one who typed `/tokenhub` in a chat ("chat"). People are told the commands to run, not the tool calls to make.
 */
export type Audience = "agent" | "terminal" | "chat";

/** The commands a person runs, named once; wiring is the terminal's (the slash command has no --wire). */
export function personCommands(audience: Exclude<Audience, "agent">) {
  const slash = audience === "chat";
  return {
    setup: slash ? "/tokenhub setup" : "openclaw tokenhub setup",
    resume: slash ? "/tokenhub resume" : "openclaw tokenhub resume",
    wire: "openclaw tokenhub setup --wire",
    unwire: "openclaw tokenhub unwire",
  };
}

/**
 * What the reader sees after a turn: the session's agent text, with OpenClaw's own sentences (how the user stores a
 * key in OpenClaw, the offer to wire TokenHub in as a model provider), in the reader's voice.
 */
export function turnText(turn: TurnResult, context: { recordPath: string; audience?: Audience }): string {
  const audience = context.audience ?? "agent";
  const commands = audience === "agent" ? undefined : personCommands(audience);
  return agentText(turn, {
    tool: TOOL_NAME,
    recordPath: context.recordPath,
    needKey: commands ? (n) => needKeyPersonText(n, commands.resume) : needKeyText,
    afterComplete: (record) => [
      commands
        ? `To use it in OpenClaw as model tokenhub/${record.model} (the key stays a SecretRef or in OpenClaw's auth store): ${commands.wire} (add --set-default to make it the default model).`
        : `Offer the user to use TokenHub in OpenClaw as model tokenhub/${record.model} (the key stays a SecretRef or in OpenClaw's auth store), and to make it their default model. If they agree, call ${TOOL_NAME} with {"action":"status","wire":true} (add "setDefault":true for the default model).`,
    ],
  });
}

function needKeyPersonText(n: NeedKeyNotification | undefined, resume: string): string {
  if (!n) return `TokenHub setup is waiting for an API key; store one, then run ${resume}.`;
  return [
    n.message,
    `Create a key at ${n.instructions.consoleUrl} (API Keys; it is shown once), then store it either way:`,
    `- set TOKENHUB_API_KEY where OpenClaw runs (read it in without echo, e.g. read -rs TOKENHUB_API_KEY && export TOKENHUB_API_KEY), or`,
    `- keep it as a SecretRef: openclaw config set ${API_KEY_PATH} --ref-source env --ref-provider default --ref-id TOKENHUB_API_KEY`,
    `Then run ${resume}.`,
  ].join("\n");
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

export function statusText(
  record: CompletionRecord | undefined,
  recordPath: string,
  audience: Audience = "agent",
): string {
  if (!record && audience !== "agent")
    return `No TokenHub integration is recorded yet (${recordPath}). Run ${personCommands(audience).setup}.`;
  return recordText(record, recordPath, TOOL_NAME);
}
