import {
  DashScopeImageBodySchema,
  DashScopeTaskBodySchema,
  OpenAIImageBodySchema,
  OpenAITaskBodySchema,
  TASK_ID_PATTERN,
} from "../schema/media.ts";
import { scrubbedLine } from "../secrets/scrubber.ts";
import { classify, type Outcome } from "./classify.ts";
import type { ProbeResponse } from "./response.ts";
import type { CompiledRule } from "./routing-rules.ts";

/**
 * What an image or video call's HTTP outcome means: the multimodal counterpart of `classify`, which it uses for
 * everything that is not a 200 (auth, balance, rate limits, routing, transport), so those keep one meaning.
 * Everything here is plain data with scrubbed, bounded text; a media URL is kept whole (it is needed for the
 * download) but never put into a message.
 */

export interface MediaFailure {
  code: string;
  message: string;
  remedy: string;
}

export type ImageSource = { kind: "url"; url: string } | { kind: "b64"; data: string };
export type ImageShape = "dashscope" | "openai-url" | "openai-b64";

export type ImageOutcome =
  | { ok: true; shape: ImageShape; source: ImageSource; requestId: string | null }
  | { ok: false; failure: MediaFailure; requestId: string | null };

/** Both vocabularies mapped onto one (tokenhub-api.md: DashScope upper case, OpenAI-style lower case). */
export type TaskStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled";

export type TaskOutcome =
  | {
      kind: "task";
      taskId: string;
      status: TaskStatus;
      /** As the server wrote it, for messages. */
      rawStatus: string;
      url: string | null;
      /** The provider's reason when the task failed. */
      reason: { code: string | null; message: string } | null;
      requestId: string | null;
    }
  /** Worth asking again at the next poll: rate limit, 5xx, network, timeout. */
  | { kind: "retryable"; failure: MediaFailure; requestId: string | null }
  | { kind: "failed"; failure: MediaFailure; requestId: string | null };

const STATUS_WORDS: Record<string, TaskStatus> = {
  pending: "pending",
  queued: "pending",
  in_queue: "pending",
  submitted: "pending",
  running: "running",
  processing: "running",
  in_progress: "running",
  generating: "running",
  succeeded: "succeeded",
  success: "succeeded",
  completed: "succeeded",
  failed: "failed",
  error: "failed",
  // DashScope: the task expired or never existed; polling again cannot help.
  unknown: "failed",
  canceled: "cancelled",
  cancelled: "cancelled",
};

export function classifyImage(response: ProbeResponse, rules?: readonly CompiledRule[]): ImageOutcome {
  const failed = notOk(response, rules, "image");
  if (failed) return { ok: false, failure: failed.failure, requestId: failed.requestId };
  const { body, requestId } = okBody(response);
  const dash = DashScopeImageBodySchema.safeParse(body);
  if (dash.success) {
    const url = dash.data.output.choices
      .flatMap((choice) => choice.message.content)
      .map((part) => part.image)
      .find((image): image is string => typeof image === "string" && image.length > 0);
    if (url) return { ok: true, shape: "dashscope", source: { kind: "url", url }, requestId };
  }
  const openai = OpenAIImageBodySchema.safeParse(body);
  if (openai.success) {
    for (const item of openai.data.data) {
      if (item.b64_json)
        return { ok: true, shape: "openai-b64", source: { kind: "b64", data: item.b64_json }, requestId };
      if (item.url)
        return { ok: true, shape: "openai-url", source: { kind: "url", url: item.url }, requestId };
    }
  }
  return {
    ok: false,
    requestId,
    failure: invalid(
      dash.success || openai.success
        ? "the image response holds no image (no URL and no b64_json)"
        : "the image response has neither `output.choices[].message.content[].image` nor `data[]`",
    ),
  };
}

export function classifyTask(response: ProbeResponse, rules?: readonly CompiledRule[]): TaskOutcome {
  const failed = notOk(response, rules, "video");
  if (failed) return failed.retryable ? { kind: "retryable", ...failed } : { kind: "failed", ...failed };
  const { body, requestId } = okBody(response);
  const dash = DashScopeTaskBodySchema.safeParse(body);
  const openai = dash.success ? undefined : OpenAITaskBodySchema.safeParse(body);
  let taskId: string | undefined;
  let rawStatus: string;
  let url: string | null;
  let reason: { code: string | null; message: string } | null = null;
  if (dash.success) {
    const out = dash.data.output;
    taskId = out.task_id;
    rawStatus = out.task_status;
    url = out.video_url ?? null;
    if (out.code || out.message)
      reason = { code: out.code ?? null, message: scrubbedLine(out.message ?? "") };
  } else if (openai?.success) {
    const task = openai.data;
    taskId = task.id;
    rawStatus = task.status;
    url =
      task.video_url ?? task.url ?? task.output?.video_url ?? task.output?.url ?? task.data?.[0]?.url ?? null;
    if (typeof task.error === "string") reason = { code: null, message: scrubbedLine(task.error) };
    else if (task.error)
      reason = {
        code: task.error.code === null || task.error.code === undefined ? null : String(task.error.code),
        message: scrubbedLine(task.error.message ?? ""),
      };
  } else {
    return {
      kind: "failed",
      requestId,
      failure: invalid("the task response has neither `output.task_status` nor `id` and `status`"),
    };
  }
  if (!taskId || !TASK_ID_PATTERN.test(taskId)) {
    return { kind: "failed", requestId, failure: invalid("the task response has no usable task id") };
  }
  // An unrecognised word is reported as still running: the deadline, not a guess, ends the wait.
  const status = STATUS_WORDS[rawStatus.trim().toLowerCase()] ?? "running";
  if (status === "succeeded" && !url) {
    return {
      kind: "failed",
      requestId,
      failure: invalid(`the task ${taskId} succeeded but its response carries no video URL`),
    };
  }
  return { kind: "task", taskId, status, rawStatus: scrubbedLine(rawStatus, 40), url, reason, requestId };
}

/** Every outcome but a 200 with a JSON body, through the text path's classifier. */
function notOk(
  response: ProbeResponse,
  rules: readonly CompiledRule[] | undefined,
  what: "image" | "video",
): { failure: MediaFailure; retryable: boolean; requestId: string | null } | undefined {
  if (response.type === "response" && response.status === 200 && response.body.kind === "json")
    return undefined;
  if (response.type === "response" && response.status === 200) {
    const outcome = classify(response, rules);
    return {
      failure: invalid(
        `the ${what} response is not a JSON object (${outcome.message || response.body.kind})`,
      ),
      retryable: false,
      requestId: outcome.requestId,
    };
  }
  const outcome = classify(response, rules);
  return {
    failure: failureOf(outcome, what),
    retryable: outcome.kind === "retryable",
    requestId: outcome.requestId,
  };
}

function failureOf(outcome: Outcome, what: "image" | "video"): MediaFailure {
  const said = outcome.message || outcome.kind;
  // The text path's message may already start with the status ("HTTP 400: ..."): say it once.
  const status =
    outcome.status === null || said.startsWith(`HTTP ${outcome.status}`) ? "" : `HTTP ${outcome.status}: `;
  const message = scrubbedLine(`${status}${said}`);
  switch (outcome.kind) {
    case "unauthorized":
      return {
        code: "media_unauthorized",
        message,
        remedy: `The key works for chat but was refused for ${what}: check that the key's plan includes ${what} models.`,
      };
    case "insufficientBalance":
      return {
        code: "media_insufficient_balance",
        message,
        remedy: "Top up the balance in the console, then run the check again.",
      };
    case "routing":
      return {
        code: "media_model_unavailable",
        message,
        // A model TokenHub does not know is a name to check, not a region to switch (as on the text path).
        remedy:
          outcome.reason === "model_not_offered"
            ? `Check the ${what} model's name against the TokenHub console's model list, and name one it offers.`
            : `Switch to an allowed region in the TokenHub console (regional policy) or another ${what} model.`,
      };
    case "retryable":
      return {
        code: outcome.reason === "rate_limited" ? "media_rate_limited" : `media_${outcome.reason}`,
        message,
        remedy: "A transient failure: run the check again in a few minutes.",
      };
    case "fatal":
      return {
        code: `media_${outcome.code}`,
        message,
        // The quickstart's own test prompt refused is worth telling TokenHub about.
        remedy:
          outcome.code === "content_refused"
            ? `A content filter refused the ${what} prompt; the key and model are fine. Change the prompt (multimodal.${what}.prompt) and run the check again, or report it to TokenHub if the quickstart's own prompt is refused.`
            : outcome.remedy,
      };
    default:
      return {
        code: "media_invalid_response",
        message,
        remedy: `Run the check again; if it persists, report the ${what} model and request id to TokenHub.`,
      };
  }
}

function okBody(response: ProbeResponse): { body: unknown; requestId: string | null } {
  if (response.type !== "response" || response.body.kind !== "json")
    return { body: undefined, requestId: null };
  const headers = response.headers;
  const fromHeader = headers["x-request-id"] ?? headers["request-id"] ?? headers["x-dashscope-request-id"];
  const value = response.body.value as { request_id?: unknown } | null;
  const fromBody =
    value && typeof value === "object" && typeof value.request_id === "string" ? value.request_id : null;
  const id = fromHeader ?? fromBody;
  return { body: response.body.value, requestId: id ? scrubbedLine(id, 128) : null };
}

function invalid(message: string): MediaFailure {
  return {
    code: "media_invalid_response",
    message,
    remedy: "Run the check again; if it persists, report the model and request id to TokenHub.",
  };
}
