/**
 * An agent host's tool (the OpenClaw tool, the MCP server's), its shared half: the SETUP event a call asks for,
 * and what a model reads after a call: what
 * happened, what to tell the user, what to call next. Written as instructions it can follow, from the turn's
 * facts alone (scrubbed notifications, the record), so it never contains a key. A host adds its own sentences:
 * how the user stores a key there, and what it offers after a verified integration.
 */
import type { Rest } from "../machine/face.ts";
import type { HostEvent, Notification, SetupRequest } from "../schema/host.ts";
import type { CompletionRecord } from "../schema/record.ts";
import type { TurnResult } from "./turn.ts";

export type NeedKeyNotification = Extract<Notification, { type: "needKey" }>;

export interface AgentTextOptions {
  /** The tool the model calls, named in "call X with {...}". */
  tool: string;
  /** Where the record is, for the model to tell the user. */
  recordPath: string;
  /** How the user gets a key to this host without pasting it into the chat (the host's own ways). */
  needKey(notification: NeedKeyNotification | undefined): string;
  /** Sentences after a verified integration (an offer to wire it in, say). */
  afterComplete?(record: CompletionRecord): string[];
}

/** The SETUP event for a tool call's request: its preferences, only those the call named. */
export function setupEvent(request: SetupRequest): HostEvent {
  const preferences = {
    ...(request.model ? { modelChain: [request.model] } : {}),
    ...(request.stream === undefined ? {} : { stream: request.stream }),
    ...(request.multimodal ? { multimodal: request.multimodal } : {}),
  };
  return { type: "SETUP", ...(Object.keys(preferences).length ? { preferences } : {}) };
}

/** What the flow asked for last when it needed a key (the turn's latest needKey notification). */
export function needKeyOf(turn: Pick<TurnResult, "notifications">): NeedKeyNotification | undefined {
  const found = turn.notifications.findLast((n) => n.type === "needKey");
  return found?.type === "needKey" ? found : undefined;
}

/** The sentence for a turn that could not resume the stored setup and started afresh (none otherwise). */
export function refusedSnapshotLines(turn: Pick<TurnResult, "refusedSnapshot">): string[] {
  return turn.refusedSnapshot
    ? [`(A stored setup could not be resumed: ${turn.refusedSnapshot.message} It started afresh.)`]
    : [];
}

/**
 * The exit code a status read gives for a stored flow: a flow that ended, or waits for a key, says so; none
 * stored, or one that waits for a time, is fine (0).
 */
export function statusExitCode(rest: Rest | null): number {
  return rest && (rest.final || rest.needKey) ? rest.exitCode : 0;
}

export function agentText(turn: TurnResult, options: AgentTextOptions): string {
  const { rest, output } = turn;
  const { tool } = options;
  if (output?.status === "complete")
    return [
      ...completeLines(output.record, options.recordPath),
      ...(options.afterComplete?.(output.record) ?? []),
    ].join("\n");
  if (output?.status === "escalated") return escalatedText(output.escalation);
  if (output?.status === "cancelled")
    return output.record?.failure?.code === "cancelled"
      ? "TokenHub setup was cancelled mid-check. The record now says the check was cancelled (the last verified integration is kept inside it as last_success)."
      : "TokenHub setup was cancelled. The record was not changed.";
  if (rest.needKey) return options.needKey(needKeyOf(turn));
  if (rest.wait) {
    const when = Number.isFinite(rest.wait.until) ? new Date(rest.wait.until).toISOString() : "a moment";
    return rest.wait.for === "video"
      ? `The text integration is verified; the test video (task ${rest.wait.taskId ?? "?"}) is still being generated, which can take minutes. Tell the user, and call ${tool} with {"action":"resume"} after ${when} to check on it (or {"action":"cancel"} to stop waiting; the verified integration is recorded either way).`
      : `TokenHub asked to wait before the next attempt. Call ${tool} with {"action":"resume"} after ${when}.`;
  }
  return `TokenHub setup is in state ${turn.state}.`;
}

function completeLines(record: CompletionRecord, recordPath: string): string[] {
  const r = record.result;
  return [
    `TokenHub integration verified: model ${record.model} (${record.provider_mode}) answered "${r.reply_preview ?? ""}" (${record.endpoint} at ${r.base_url}), HTTP ${r.http_status} in ${r.latency_ms} ms after ${r.attempts} attempt(s)${r.fallbacks_used.length ? `, falling back from ${r.fallbacks_used.join(", ")}` : ""}.`,
    `The record (integration_status=${record.integration_status}, validated_at=${record.validated_at}) is at ${recordPath}.`,
    ...Object.entries(record.multimodal ?? {}).map(([capability, check]) =>
      check.status === "ok"
        ? `The ${capability} check passed with ${check.model}: the file is at ${check.file} (${check.bytes} bytes, ${check.mime}).`
        : `The ${capability} check ${check.status} with ${check.model}${check.task_id ? ` (task ${check.task_id})` : ""}${check.error ? `: ${check.error.message} What the user can do: ${check.error.remedy}` : "."} This does not affect the verified text integration.`,
    ),
  ];
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

/** The recorded integration in one or two sentences, for a status call. */
export function recordText(record: CompletionRecord | undefined, recordPath: string, tool: string): string {
  if (!record)
    return `No TokenHub integration is recorded yet (${recordPath}). Call ${tool} with {"action":"start"}.`;
  const when =
    record.validated_at === null
      ? `attempted at ${record.result.attempted_at}`
      : `validated_at ${record.validated_at}`;
  const base = `Last TokenHub check: ${record.integration_status} for model ${record.model} (${record.endpoint} at ${record.result.base_url}), ${when}.`;
  return record.failure
    ? `${base} Failure: ${record.failure.message} Remedy: ${record.failure.remedy}`
    : base;
}
