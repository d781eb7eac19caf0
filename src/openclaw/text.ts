import type { CompletionRecord, Notification, TurnResult } from "../session/index.ts";
import { API_KEY_PATH, TOOL_NAME } from "./config.ts";

/**
 * What the model reads after a tool call. Written as instructions it can follow: what happened, what to tell
 * the user, what to call next. Never contains the key (everything here comes from scrubbed notifications).
 */
export function turnText(turn: TurnResult, context: { recordPath: string }): string {
  const { rest, output } = turn;
  if (output?.status === "complete") return completeText(output.record, context.recordPath);
  if (output?.status === "escalated") return escalatedText(output.escalation);
  if (output?.status === "cancelled")
    return output.record?.failure?.code === "cancelled"
      ? "TokenHub setup was cancelled mid-check. The record now says the check was cancelled (the last verified integration is kept inside it as last_success)."
      : "TokenHub setup was cancelled. The record was not changed.";
  if (rest.needKey) {
    const needKey = [...turn.notifications].reverse().find((n) => n.type === "needKey");
    return needKey?.type === "needKey" ? needKeyText(needKey) : "TokenHub setup is waiting for an API key.";
  }
  if (rest.wait) {
    const when = Number.isFinite(rest.wait.until) ? new Date(rest.wait.until).toISOString() : "a moment";
    return rest.wait.for === "video"
      ? `The text integration is verified; the test video (task ${rest.wait.taskId ?? "?"}) is still being generated, which can take minutes. Tell the user, and call ${TOOL_NAME} with {"action":"resume"} after ${when} to check on it (or {"action":"cancel"} to stop waiting; the verified integration is recorded either way).`
      : `TokenHub asked to wait before the next attempt. Call ${TOOL_NAME} with {"action":"resume"} after ${when}.`;
  }
  return `TokenHub setup is in state ${turn.state}.`;
}

function completeText(record: CompletionRecord, recordPath: string): string {
  const r = record.result;
  return [
    `TokenHub integration verified: model ${record.model} (${record.provider_mode}) answered "${r.reply_preview ?? ""}" (${record.endpoint} at ${r.base_url}), HTTP ${r.http_status} in ${r.latency_ms} ms after ${r.attempts} attempt(s)${r.fallbacks_used.length ? `, falling back from ${r.fallbacks_used.join(", ")}` : ""}.`,
    `The record (integration_status=${record.integration_status}, validated_at=${record.validated_at}) is at ${recordPath}.`,
    ...Object.entries(record.multimodal ?? {}).map(([capability, check]) =>
      check.status === "ok"
        ? `The ${capability} check passed with ${check.model}: the file is at ${check.file} (${check.bytes} bytes, ${check.mime}).`
        : `The ${capability} check ${check.status} with ${check.model}${check.task_id ? ` (task ${check.task_id})` : ""}${check.error ? `: ${check.error.message} What the user can do: ${check.error.remedy}` : "."} This does not affect the verified text integration.`,
    ),
    `Offer the user to add TokenHub to OpenClaw as model provider "tokenhub" with model ${record.model} (the API key stays a SecretRef). If they agree, call ${TOOL_NAME} with {"action":"status","wire":true} (add "setDefault":true to make it the default model).`,
  ].join("\n");
}

function needKeyText(n: Extract<Notification, { type: "needKey" }>): string {
  return [
    n.message,
    `Tell the user to create a key at ${n.instructions.consoleUrl} (API Keys; it is shown once). Do NOT ask them to paste it into this conversation.`,
    "They can store it either way:",
    `- the secrets tool's request action with the name TOKENHUB_API_KEY (a masked prompt; this plugin reads that entry), or`,
    `- set TOKENHUB_API_KEY where the OpenClaw gateway runs, then: openclaw config set ${API_KEY_PATH} --ref-source env --ref-provider default --ref-id TOKENHUB_API_KEY`,
    `When the user says the key is stored, call ${TOOL_NAME} with {"action":"resume"}.`,
  ].join("\n");
}

function escalatedText(
  escalation: Extract<TurnResult["output"], { status: "escalated" }>["escalation"],
): string {
  const { failure, contact, diagnostic, topic } = escalation;
  const ids = diagnostic.attempts.map((a) => a.requestId).filter(Boolean);
  return [
    `TokenHub setup could not be completed: ${failure.message}`,
    `What the user can do: ${failure.remedy}`,
    ...(failure.retryAt ? [`Retry after ${failure.retryAt}.`] : []),
    topic === "local"
      ? "This is a problem on the user's side (network, proxy or base URL), not TokenHub's: do not send them to Enterprise Support for it."
      : `If it persists, contact TokenHub Enterprise Support (${contact})${ids.length ? ` with the request ids ${ids.join(", ")}` : ""}.`,
    "Do not retry on your own.",
  ].join("\n");
}

export function statusText(record: CompletionRecord | undefined, recordPath: string): string {
  if (!record)
    return `No TokenHub integration is recorded yet (${recordPath}). Call ${TOOL_NAME} with {"action":"start"}.`;
  const when =
    record.validated_at === null
      ? `attempted at ${record.result.attempted_at}`
      : `validated_at ${record.validated_at}`;
  const base = `Last TokenHub check: ${record.integration_status} for model ${record.model} (${record.endpoint} at ${record.result.base_url}), ${when}.`;
  return record.failure
    ? `${base} Failure: ${record.failure.message} Remedy: ${record.failure.remedy}`
    : base;
}
