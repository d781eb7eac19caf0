/**
 * What the model reads after a `tokenhub_setup` call: the session's agent text, with this server's own
 * sentences (the key page, or where else the user can put the key), and the same facts as structured content.
 */
import {
  agentText,
  type CompletionRecord,
  type NeedKeyNotification,
  needKeyOf,
  recordText,
  type TurnResult,
} from "../session/index.ts";
import { type Action, TOOL_NAME, type ToolOutput } from "./tool.ts";

/** How the text names the tool: clients prefix it with the server's name, so "this tool" says which. */
export const TOOL_CALL = `this tool (${TOOL_NAME})`;

export interface KeyPageLink {
  url: string;
  expiresAt: number;
}

export function turnText(
  turn: TurnResult,
  context: { recordPath: string; keyPage?: KeyPageLink; elicited?: boolean },
): string {
  return agentText(turn, {
    // A client may name it with a prefix of its own (OpenClaw: tokenhub__tokenhub_setup).
    tool: TOOL_CALL,
    recordPath: context.recordPath,
    needKey: (n) => needKeyText(n, context.keyPage, context.elicited === true),
  });
}

function needKeyText(n: NeedKeyNotification | undefined, page: KeyPageLink | undefined, elicited: boolean) {
  const lines = [n?.message ?? "TokenHub setup is waiting for an API key."];
  if (n) lines.push(`The user creates a key at ${n.instructions.consoleUrl} (API Keys; it is shown once).`);
  if (page) {
    lines.push(
      elicited
        ? `The key page was offered to the user: ${page.url} (it works until ${new Date(page.expiresAt).toISOString()}).`
        : `Give the user this link to open in their browser, on this machine: ${page.url} (it works until ${new Date(page.expiresAt).toISOString()}). They type the key there; the page checks it with TokenHub and stores it.`,
      `Do NOT ask the user to paste the key into this conversation. When they say the page showed that the key was stored, call ${TOOL_CALL} with {"action":"resume"}.`,
    );
  } else {
    lines.push(
      "Do NOT ask the user to paste the key into this conversation. They can store it in a terminal with `npx tokenhub-setup key set` (hidden input, OS keychain), or set TOKENHUB_API_KEY in this MCP server's environment (the client's server config) and restart it.",
      `When they say it is stored, call ${TOOL_CALL} with {"action":"resume"}.`,
    );
  }
  return lines.join("\n");
}

/**
 * The last record in words, and a setup waiting for its key, if one is: with no record, resuming that setup is
 * the one thing to do (not "start", which the record's words say).
 */
export function statusText(
  record: CompletionRecord | undefined,
  recordPath: string,
  waitingForKey: boolean,
): string {
  const waiting = `A setup is waiting for the API key: call ${TOOL_CALL} with {"action":"resume"} for a key page link.`;
  if (!waitingForKey) return recordText(record, recordPath, TOOL_CALL);
  return record ? `${recordText(record, recordPath, TOOL_CALL)}\n${waiting}` : waiting;
}

/** The turn's facts for `structuredContent` (the tool's output schema): the record as written, never a key. */
export function turnOutput(action: Action, turn: TurnResult, keyPage?: KeyPageLink): ToolOutput {
  const { rest, output } = turn;
  const needKey = needKeyOf(turn);
  const record = output?.record;
  return {
    action,
    state: turn.state,
    exitCode: rest.exitCode,
    ...(record ? { record } : {}),
    ...(rest.needKey && needKey
      ? {
          needKey: {
            reason: needKey.reason,
            message: needKey.message,
            ...(keyPage
              ? { keyPage: { url: keyPage.url, expiresAt: new Date(keyPage.expiresAt).toISOString() } }
              : {}),
          },
        }
      : {}),
    ...(rest.wait
      ? {
          wait: {
            until: Number.isFinite(rest.wait.until) ? new Date(rest.wait.until).toISOString() : "",
            for: rest.wait.for,
            ...(rest.wait.taskId ? { taskId: rest.wait.taskId } : {}),
          },
        }
      : {}),
    ...(output?.status === "escalated" ? { escalation: output.escalation } : {}),
  };
}
