import type { Config } from "../schema/config.ts";
import { TEMPLATE } from "../schema/quickstart.ts";
import type { Failure, ProviderMode } from "../schema/record.ts";
import { LOCAL_FATAL_CODES, type Outcome } from "../tokenhub/classify.ts";

// The last instant with a four-digit year: later dates print as "+033714-..." (toISOString's extended years),
// which the record's and the output's ISO datetime schema refuse, so the failure record could not be written.
const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The only home of "when to try again and with what": backoff delays, the server-delay cap, the total
 * deadline and the model fallback chain. Pure functions of their arguments; time and randomness come in as
 * values, so a run is reproducible from its events.
 */
export interface Policy {
  modelChain: string[];
  retry: Config["retry"];
  totalMs: number;
}

/**
 * The computed backoff before attempt `attempt + 1`, after `attempt` failed attempts on the current model:
 * base * 2^(attempt-1), capped at maxDelayMs, times (1 ± jitter). With the defaults: ~1 s, then ~2 s.
 */
export function backoffDelay(retry: Policy["retry"], attempt: number, jitterSample: number): number {
  const exponential = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const factor = 1 + retry.jitter * (2 * jitterSample - 1);
  return Math.max(0, Math.round(exponential * factor));
}

/** A deterministic sample in [0, 1) for (seed, attempt): mulberry32, enough for jitter, not for secrets. */
export function jitterSample(seed: number, attempt: number): number {
  let t = (seed + Math.imul(attempt, 0x9e3779b9)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export type RetryDecision =
  | { retry: true; delayMs: number; source: "server" | "backoff" }
  | { retry: false; failure: Failure };

/** After a retryable outcome: wait and retry, or give up with the reason. */
export function decideRetry(
  policy: Policy,
  outcome: Extract<Outcome, { kind: "retryable" }>,
  facts: { attempt: number; now: number; startedAt: number; seed: number },
): RetryDecision {
  const { retry } = policy;
  const server = outcome.retryAfterMs;
  // The server asked for longer than we are willing to sleep: say when to come back instead of sleeping.
  if (server !== null && server > retry.serverDelayCapMs) {
    return {
      retry: false,
      failure: {
        code: "server_delay_too_long",
        message: `TokenHub asked to wait ${Math.round(server / 1000)} s before retrying (${outcome.message}).`,
        remedy: "Run the setup again after the time below; if it keeps asking, contact Enterprise Support.",
        // Clamped to a date the schemas accept: a 13-digit Retry-After must not break the record.
        retryAt: new Date(Math.min(facts.now + server, MAX_DATE_MS)).toISOString(),
      },
    };
  }
  if (facts.attempt >= retry.maxAttempts) {
    if (outcome.reason === "unreachable")
      return { retry: false, failure: unreachableFailure(facts.attempt, outcome) };
    return {
      retry: false,
      failure: {
        code: "retries_exhausted",
        message:
          facts.attempt === 1
            ? `TokenHub failed the only attempt allowed (retry.maxAttempts is 1): ${describe(outcome)}.`
            : `TokenHub failed ${facts.attempt} attempts in a row; last: ${describe(outcome)}.`,
        remedy:
          "Try again in a few minutes. If it keeps failing, contact TokenHub Enterprise Support with the request ids in the record (result.request_ids).",
      },
    };
  }
  const delayMs = server ?? backoffDelay(retry, facts.attempt, jitterSample(facts.seed, facts.attempt));
  if (facts.now + delayMs > facts.startedAt + policy.totalMs) {
    return {
      retry: false,
      failure: deadlineFailure(policy, outcome),
    };
  }
  return { retry: true, delayMs, source: server === null ? "backoff" : "server" };
}

/** The next model format after a routing refusal, or null when the chain is exhausted. */
export function nextModelIndex(policy: Policy, current: number): number | null {
  return current + 1 < policy.modelChain.length ? current + 1 : null;
}

/**
 * How a model string names its model (tokenhub-api.md): `provider/model` pins a provider; the first bare name
 * leaves the choice to platform routing; a bare name later in the chain is a plan model.
 */
export function providerModeOf(model: string, index: number): ProviderMode {
  if (model.includes("/")) return "provider-pinned";
  return index === 0 ? TEMPLATE.providerMode : "plan-model";
}

/** The failure for an outcome that ends the flow without another attempt. */
export function terminalFailure(outcome: Outcome, facts: { modelsTried: string[] }): Failure {
  switch (outcome.kind) {
    case "routing":
      return {
        code: "routing_exhausted",
        message: `No model format could be served (${facts.modelsTried.join(" -> ")}); last: ${outcome.message}.`,
        remedy: ROUTING_REMEDY[outcome.reason],
      };
    case "insufficientBalance":
      return {
        code: "insufficient_balance",
        message: `TokenHub refused the request for lack of balance (402): ${outcome.message}.`,
        remedy: "Top up the account or change the plan in the TokenHub console, then run the setup again.",
      };
    case "invalidResponse":
      return {
        code: "invalid_response",
        message: `The response failed the quickstart's check (${outcome.reason}): ${outcome.message}.`,
        remedy:
          "This is a gateway-side problem: contact Enterprise Support with the request id in the record (result.request_ids).",
      };
    case "fatal": {
      // A fault on this side (DNS, TLS, proxy, a base URL that is not the API) is not TokenHub's to fix.
      const local = LOCAL_FATAL_CODES[outcome.code as keyof typeof LOCAL_FATAL_CODES];
      return { code: local ?? "fatal", message: outcome.message, remedy: outcome.remedy };
    }
    case "retryable":
      return {
        code: "retries_exhausted",
        message: `TokenHub kept failing; last: ${describe(outcome)}.`,
        remedy: "Try again in a few minutes, or contact Enterprise Support.",
      };
    case "unauthorized":
      return {
        code: "key_rejected",
        message: "TokenHub rejected the key (401).",
        remedy: "Create a new key in the TokenHub console and supply it again.",
      };
    case "ok":
      throw new Error("an ok outcome is not a failure");
  }
}

/**
 * What to do when the chain is used up, by the last refusal. Region and supplier: the quickstart's
 * switch_allowed_region_or_model_format(), and only then escalate. A model TokenHub does not know is a name to
 * check, not a region to switch.
 */
const REGION_OR_FORMAT =
  "Switch to an allowed region in the TokenHub console (regional policy) or another model format (a provider-pinned provider/model, or a plan model), then run the setup again. If no region or format can serve it, contact Enterprise Support.";
const ROUTING_REMEDY: Record<Extract<Outcome, { kind: "routing" }>["reason"], string> = {
  // The quickstart answers both the same way: `if region_unavailable_or_no_supplier`.
  region_unavailable: REGION_OR_FORMAT,
  no_supplier: REGION_OR_FORMAT,
  model_not_offered:
    "Check the model name against the TokenHub console's model list and name one it offers, then run the setup again.",
};

/** Every attempt failed before any connection: the network, DNS, proxy or base URL, on this side. */
function unreachableFailure(attempts: number, outcome: Outcome): Failure {
  return {
    code: "unreachable",
    message: `TokenHub could not be reached in ${attempts} attempt${attempts === 1 ? "" : "s"}: ${outcome.message}.`,
    remedy:
      "Check this machine's network, DNS and proxy settings and the base URL, then run the setup again.",
  };
}

function describe(outcome: Outcome): string {
  return outcome.status === null ? outcome.message : `HTTP ${outcome.status} ${outcome.message}`;
}

export type Decision =
  | { next: "complete" }
  | { next: "unauthorized" }
  | { next: "fallback"; modelIndex: number }
  | { next: "retry"; retryAt: number; delayMs: number }
  | { next: "fail"; failure: Failure };

/** Step-4's verdict turned into the flow's next move. The statechart branches on `next` and nothing else. */
export function decide(
  policy: Policy,
  outcome: Outcome,
  facts: { attempt: number; modelIndex: number; now: number; startedAt: number; seed: number },
): Decision {
  switch (outcome.kind) {
    case "ok":
      return { next: "complete" };
    case "unauthorized":
      // The quickstart: a 401 stops and asks for a new key; retrying the same key cannot help.
      return { next: "unauthorized" };
    case "routing": {
      const next = nextModelIndex(policy, facts.modelIndex);
      if (next === null) {
        return {
          next: "fail",
          failure: terminalFailure(outcome, {
            modelsTried: policy.modelChain.slice(0, facts.modelIndex + 1),
          }),
        };
      }
      if (facts.now > facts.startedAt + policy.totalMs) {
        return { next: "fail", failure: deadlineFailure(policy, outcome) };
      }
      return { next: "fallback", modelIndex: next };
    }
    case "retryable": {
      const decision = decideRetry(policy, outcome, facts);
      if (!decision.retry) return { next: "fail", failure: decision.failure };
      return { next: "retry", delayMs: decision.delayMs, retryAt: facts.now + decision.delayMs };
    }
    default:
      return {
        next: "fail",
        failure: terminalFailure(outcome, { modelsTried: policy.modelChain.slice(0, facts.modelIndex + 1) }),
      };
  }
}

function deadlineFailure(policy: Policy, outcome: Outcome): Failure {
  return {
    code: "deadline_exceeded",
    message: `The ${Math.round(policy.totalMs / 1000)} s deadline passed; last: ${describe(outcome)}.`,
    remedy: "Try again later, or raise timeouts.totalMs.",
  };
}

// ---- multimodal: the video task's polling -----------------------------------------------------------------

export interface PollPolicy {
  pollIntervalMs: number;
  deadlineMs: number;
}

/** Polls in a row that may fail transiently (429, 5xx, network) before the task is given up on. */
export const MAX_POLL_MISSES = 3;

export type PollDecision =
  | { next: "download" }
  | { next: "wait"; pollAt: number }
  | { next: "fail"; code: string; message: string; remedy: string };

/**
 * After one poll of a video task: download, poll again (at the interval, never past the deadline, so the last
 * poll lands on it), or give up. `status` is the task's, or "miss" when the poll itself failed transiently.
 */
export function decidePoll(
  policy: PollPolicy,
  task: { id: string; createdAt: number; misses: number; rawStatus: string },
  status: "pending" | "running" | "succeeded" | "failed" | "cancelled" | "miss",
  now: number,
): PollDecision {
  if (status === "succeeded") return { next: "download" };
  if (status === "failed" || status === "cancelled") {
    return {
      next: "fail",
      code: status === "failed" ? "media_task_failed" : "media_task_cancelled",
      message: `The video task ${task.id} ended as ${task.rawStatus}.`,
      remedy:
        status === "failed"
          ? "Read the provider's reason above; change the video prompt or model and run the check again."
          : "The task was cancelled on TokenHub's side; run the check again.",
    };
  }
  if (status === "miss" && task.misses >= MAX_POLL_MISSES) {
    return {
      next: "fail",
      code: "media_poll_failed",
      message: `Polling the video task ${task.id} failed ${task.misses} times in a row.`,
      remedy:
        "A transient failure: run the check again in a few minutes (the task may still finish on TokenHub).",
    };
  }
  const deadlineAt = task.createdAt + policy.deadlineMs;
  if (now >= deadlineAt) {
    return {
      next: "fail",
      code: "media_task_deadline",
      message: `The video task ${task.id} was still ${task.rawStatus} ${Math.round(policy.deadlineMs / 1000)} s after it was created.`,
      remedy:
        "Video generation can take minutes: raise multimodal.video.deadlineMs, or run the check again later.",
    };
  }
  return { next: "wait", pollAt: Math.min(now + policy.pollIntervalMs, deadlineAt) };
}
