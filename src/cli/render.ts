import type { CompletionRecord, Notification } from "../session/index.ts";
import { keySourceWords } from "./key-words.ts";
import { terminalSafe } from "./terminal-text.ts";

/** What the CLI knows about this machine that changes what a person should be told to do. */
export interface RenderFacts {
  /** The OS keychain answers, so `key set` can store a key. */
  keychain: boolean;
  /** A --simulate run: the key is the simulator's demo key, not one of the person's. */
  simulated?: boolean;
  /** --key-page: the key is entered on the page whose link follows. */
  keyPage?: boolean;
}

/**
 * Human text for each notification, for stderr. One notification, a few lines at most; whatever a server
 * wrote in it is made safe for a terminal. Written for a person at a terminal, from the notification's facts:
 * the host-facing wording (hand the key to the agent, say it is ready) is the OpenClaw tool's, not ours.
 */
export function renderNotification(n: Notification, facts: RenderFacts = { keychain: true }): string {
  return terminalSafe(render(n, facts));
}

type NeedKey = Extract<Notification, { type: "needKey" }>;

/** Why a key is needed and what to do next, for a person who will run the command again. */
export function needKeyLines(n: NeedKey, facts: RenderFacts): { headline: string; steps: string[] } {
  const rejected = n.reason === "rejected" ? n.rejectedKey : null;
  const other = n.reason === "rejected" ? n.otherKeys?.[0] : undefined;
  const headline =
    n.reason === "missing"
      ? `No TokenHub API key found: TOKENHUB_API_KEY is not set, and ${facts.keychain ? "the OS keychain holds none" : "no OS keychain answers here"}.`
      : n.reason === "rejected"
        ? `TokenHub rejected ${rejected ? `${keySourceWords(rejected.source).key} (${rejected.hint})` : "the key"} (HTTP 401): it may be revoked, mistyped, or from another account.`
        : "The key is no longer available.";
  // The steps below already say what a skipped source means here: no need to repeat the source's own words.
  const notices = (n.notices ?? []).filter(
    (notice) =>
      !/already rejected by TokenHub/.test(notice) &&
      (facts.keychain || !/^OS keychain (unavailable|error)/.test(notice)),
  );
  const envRejected = rejected?.source === "env";
  const store = envRejected
    ? "Put the new key in TOKENHUB_API_KEY (`export TOKENHUB_API_KEY=...` in your shell or CI secrets); a key stored with `key set` is not read while TOKENHUB_API_KEY is set."
    : facts.keychain
      ? "Store it with `npx tokenhub-setup key set` (OS keychain, hidden input), or `export TOKENHUB_API_KEY=...` in your shell or CI secrets."
      : "Put it in TOKENHUB_API_KEY (`export TOKENHUB_API_KEY=...` in your shell or CI secrets), or in a plaintext file only you can read with `npx tokenhub-setup key set --insecure-storage`: no OS keychain answers here (`npx tokenhub-setup doctor` says why).";
  const steps = [
    ...(other
      ? [
          `${capitalised(keySourceWords(other.source).key)} (${other.hint}) is a different key: ${envRejected ? "unset TOKENHUB_API_KEY to use it" : "it is used once the rejected one is gone"}.`,
        ]
      : []),
    `Create a key at ${n.instructions.consoleUrl} (API Keys; it is shown only once).`,
    ...(facts.keyPage
      ? ["Enter it on the key page below: it is checked with TokenHub and kept, and this run goes on."]
      : [store, "Run tokenhub-setup again."]),
  ];
  return { headline: [headline, ...notices].join(" "), steps };
}

/** The same for the multimodal checks' failures. */
const MEDIA_CLI_HINTS: Partial<Record<string, string>> = {
  media_too_large: "--max-media-bytes N raises the limit.",
  media_task_failed: "--video-model picks another model.",
  media_model_unavailable: "--image-model and --video-model pick other models.",
};

/** How to act on a failure's remedy from this command line (the shared remedy names no flags). */
const CLI_HINTS: Partial<Record<string, string>> = {
  unreachable: "`npx tokenhub-setup doctor` checks the network, DNS, proxy and base URL one by one.",
  wrong_base_url: "`npx tokenhub-setup doctor --base-url URL` checks a base URL; --base-url sets it.",
  routing_exhausted:
    "--model sets the model format, repeated for a chain (e.g. --model deepseek-v3.2 --model alibaba/deepseek-v3.2).",
  fatal: "--verbose prints the debug log (keys scrubbed).",
  status_write_failed: "--status-file puts the record elsewhere.",
};

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function render(n: Notification, facts: RenderFacts): string {
  switch (n.type) {
    case "progress":
      return `[${n.step}/5] ${n.title}${n.detail ? `: ${n.detail}` : ""}`;
    case "needKey": {
      const { headline, steps } = needKeyLines(n, facts);
      return [`! ${headline}`, ...steps.map((s, i) => `  ${i + 1}. ${s}`)].join("\n");
    }
    case "completed":
      return [
        `✔ ${summary(n.record)}`,
        ...(facts.simulated ? ["  key: the simulator's demo key"] : keyLine(n.record)),
        // A source skipped on the way (a malformed TOKENHUB_API_KEY before the key that worked) is worth knowing.
        ...n.record.result.notices.map((notice) => `  note: ${notice}`),
        ...mediaLines(n.record),
      ].join("\n");
    case "escalated": {
      const { failure, contact, diagnostic, topic } = n.escalation;
      const ids = diagnostic.attempts.map((a) => a.requestId).filter(Boolean);
      return [
        `✖ ${failure.message}`,
        `  What to do: ${failure.remedy}`,
        ...(failure.retryAt ? [`  Retry after: ${failure.retryAt}`] : []),
        // The command line's own ways to act on the remedy.
        ...(CLI_HINTS[failure.code] ? [`  Here: ${CLI_HINTS[failure.code]}`] : []),
        // A local fault (network, base URL) is fixed on this side: no support contact to send people to.
        ...(topic === "local"
          ? []
          : [`  Enterprise Support: ${contact}${ids.length ? ` (request ids: ${ids.join(", ")})` : ""}`]),
      ].join("\n");
    }
    case "cancelled": {
      const record = n.record;
      const what = !record
        ? "The record was not changed."
        : record.failure?.code === "cancelled"
          ? `The record says the check was cancelled${record.last_success ? " (the last success is kept inside it)" : ""}.`
          : "The record of the check before it stands.";
      return `Cancelled${n.reason ? `: ${n.reason}` : ""}. ${what}`;
    }
  }
}

/** Where the key that worked came from, and whether it is now kept (a typed key, remembered on request). */
function keyLine(record: CompletionRecord): string[] {
  const source = record.result.key_source;
  if (!source) return [];
  const kept = /The key was stored in the OS keychain\./.test(record.notes)
    ? "; it is now stored in the OS keychain"
    : /The key was not stored/.test(record.notes)
      ? "; it was not stored (see notes in the record)"
      : source === "event"
        ? "; used for this run only"
        : "";
  return [`  key: ${keySourceWords(source).key}${kept}`];
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
    // Each part a sentence of its own, whatever punctuation the server's message ended with.
    const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);
    const hint = check.error && MEDIA_CLI_HINTS[check.error.code];
    const why = check.error
      ? `: ${sentence(check.error.message)} What to do: ${sentence(check.error.remedy)}${hint ? ` Here: ${hint}` : ""}`
      : "";
    return `  ${capability}: ${check.status} with ${check.model}${task}${why}`;
  });
}
