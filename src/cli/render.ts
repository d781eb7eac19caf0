import type { Notification } from "../schema/host.ts";
import type { CompletionRecord } from "../schema/record.ts";
import { terminalSafe } from "./terminal-text.ts";

/**
 * Human text for each notification, for stderr. One notification, a few lines at most; whatever a server
 * wrote in it is made safe for a terminal.
 */
export function renderNotification(n: Notification): string {
  return terminalSafe(render(n));
}

function render(n: Notification): string {
  switch (n.type) {
    case "progress":
      return `[${n.step}/5] ${n.title}${n.detail ? `: ${n.detail}` : ""}`;
    case "needKey":
      return [`! ${n.message}`, ...n.instructions.steps.map((s, i) => `  ${i + 1}. ${s}`)].join("\n");
    case "completed":
      return [`✔ ${summary(n.record)}`, ...mediaLines(n.record)].join("\n");
    case "escalated": {
      const { failure, contact, diagnostic, topic } = n.escalation;
      const ids = diagnostic.attempts.map((a) => a.requestId).filter(Boolean);
      return [
        `✖ ${failure.message}`,
        `  What to do: ${failure.remedy}`,
        ...(failure.retryAt ? [`  Retry after: ${failure.retryAt}`] : []),
        // A local fault (network, base URL) is fixed on this side: no support contact to send people to.
        ...(topic === "local"
          ? []
          : [`  Enterprise Support: ${contact}${ids.length ? ` (request ids: ${ids.join(", ")})` : ""}`]),
      ].join("\n");
    }
    case "cancelled":
      return `Cancelled${n.reason ? `: ${n.reason}` : ""}. Nothing was written.`;
  }
}

function summary(record: CompletionRecord): string {
  const r = record.result;
  const attempts = `${r.attempts} attempt${r.attempts === 1 ? "" : "s"}`;
  const fallback = r.fallbacks_used.length ? `, fell back from ${r.fallbacks_used.join(", ")}` : "";
  return `Integration complete: ${record.model} (${record.provider_mode}) answered "${r.reply_preview ?? ""}" via ${record.endpoint} at ${r.base_url} (HTTP ${r.http_status}, ${r.latency_ms} ms, ${attempts}${fallback}).`;
}

/** One line per multimodal check, beside the text result; a failure says what to do. */
function mediaLines(record: CompletionRecord): string[] {
  return Object.entries(record.multimodal ?? {}).map(([capability, check]) => {
    if (check.status === "ok") {
      const moved = check.transfer
        ? check.transfer.status === "ok"
          ? `; handed over${check.transfer.location ? ` to ${check.transfer.location}` : ""}`
          : `; the transfer hook failed: ${check.transfer.message ?? "no reason given"}`
        : "";
      return `  ${capability}: ok with ${check.model}, saved ${check.file} (${check.bytes} bytes, ${check.mime})${moved}`;
    }
    const task = check.task_id ? ` (task ${check.task_id})` : "";
    const why = check.error ? `: ${check.error.message} What to do: ${check.error.remedy}` : "";
    return `  ${capability}: ${check.status} with ${check.model}${task}${why}`;
  });
}
