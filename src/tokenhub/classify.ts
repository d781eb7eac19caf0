import {
  ChatCompletionSchema,
  ChoiceSchema,
  DashScopeErrorBodySchema,
  OpenAIErrorBodySchema,
  replyText,
} from "../schema/chat.ts";
import { CONTRACT } from "../schema/quickstart.ts";
import { scrub, scrubbedLine } from "../secrets/scrubber.ts";
import type { ProbeResponse, ResponseBody } from "./response.ts";
import { parseRetryAfter } from "./retry-after.ts";
import {
  type CompiledRule,
  compileRoutingRules,
  matchRoutingRule,
  type RoutingReason,
} from "./routing-rules.ts";
import { isTlsErrorCode } from "./transport.ts";

/**
 * The one place that decides what an HTTP outcome means. Every outcome is plain data (it is kept in machine
 * context and diagnostics), with a scrubbed, bounded message.
 */
interface Common {
  status: number | null;
  requestId: string | null;
  latencyMs: number;
  message: string;
}
export type Outcome =
  | (Common & { kind: "ok"; id: string; model: string; content: string; streamed: boolean })
  | (Common & { kind: "unauthorized" })
  | (Common & {
      kind: "retryable";
      reason: "rate_limited" | "server_error" | "network" | "timeout" | "unreachable";
      retryAfterMs: number | null;
    })
  | (Common & { kind: "routing"; reason: RoutingReason; code: string | null })
  | (Common & { kind: "insufficientBalance" })
  | (Common & { kind: "invalidResponse"; reason: InvalidReason })
  | (Common & { kind: "fatal"; code: string; remedy: string });
export type OutcomeKind = Outcome["kind"];

export type InvalidReason =
  | "wrong_object"
  | "empty_choices"
  | "null_content"
  | "schema_mismatch"
  | "malformed_body"
  | "empty_body"
  | "oversized"
  | "stream_incomplete"
  | "not_a_stream"
  | "unexpected_status";

// The quickstart's retry list, plus 408 (the server's own "request timeout" is the same kind of transient).
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * undici and system error codes: which are worth another attempt. Anything not listed is fatal. "unreachable"
 * is no connection at all (refused, no route, DNS said try again, connect timeout): worth retrying a blip, but
 * when it lasts the fault is on this side (network, DNS, proxy, base URL), not TokenHub's.
 */
const TRANSPORT_CODES: Record<string, "network" | "timeout" | "unreachable"> = {
  request_timeout: "timeout", // our own whole-request limit
  UND_ERR_CONNECT_TIMEOUT: "unreachable",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  ETIMEDOUT: "timeout",
  UND_ERR_SOCKET: "network", // the other side closed the socket (reset mid-body, dropped connection)
  UND_ERR_CLOSED: "network",
  ECONNRESET: "network",
  ECONNREFUSED: "unreachable",
  EPIPE: "network",
  EAI_AGAIN: "unreachable", // DNS said "try again"
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "network",
};

const FATAL_TRANSPORT: Record<string, { code: string; remedy: string }> = {
  ENOTFOUND: {
    code: "dns_failure",
    remedy: "Check the base URL's host name, and this machine's network and DNS.",
  },
};

/**
 * Fatal outcome codes whose cause is on this side (network, DNS, TLS interception, proxy, a base URL that is not
 * TokenHub's API): the policy fails them as local faults, with a local remedy and no escalation.
 */
export const LOCAL_FATAL_CODES = {
  dns_failure: "unreachable",
  tls_failure: "unreachable",
  network_failure: "unreachable",
  redirect_refused: "wrong_base_url",
  not_tokenhub: "wrong_base_url",
} as const;

/**
 * Billing refusals that do not come as 402: OpenAI answers 429 `insufficient_quota` when the balance is gone,
 * DashScope 400 `Arrearage`. Retrying them cannot help; matched on the code or, failing that, the type.
 */
const BALANCE_CODE = /^(insufficient_?(quota|balance|funds)|arrearage)$/i;

/**
 * A content filter refused the prompt (DashScope's DataInspectionFailed, OpenAI's content_policy_violation and
 * content_filter): the request is well formed and the model exists, so the remedy is the prompt, not the model
 * name or the base URL. Matched on the code, or failing that the message.
 */
const CONTENT_REFUSAL_CODE =
  /^(data_?inspection_?failed|content_?policy_?violation|content_?filter(ed)?|moderation_?blocked)$/i;
const CONTENT_REFUSAL_MESSAGE = /inappropriate content|content (policy|filter|moderation)|safety system/i;

/** Said for every answer that shows the base URL is not TokenHub's API (a 404 path, a web page). */
const WRONG_BASE_URL_REMEDY = `Check the base URL: TokenHub's API base ends in /v1 (${CONTRACT.baseUrl}).`;

const VALID_OBJECTS = new Set(["chat.completion", "chat.completion.chunk"]);

const defaultRules = compileRoutingRules();

/** What the request asked for, where it changes what a valid answer is. */
export interface Expectation {
  /** The request asked for a stream (`stream: true`): a 200 must be `text/event-stream`, not one JSON body. */
  stream?: boolean;
}

export function classify(
  response: ProbeResponse,
  rules: readonly CompiledRule[] = defaultRules,
  expected: Expectation = {},
): Outcome {
  if (response.type === "transport") return classifyTransport(response);
  const requestId = requestIdOf(response.headers, response.type === "response" ? response.body : undefined);
  const base = { status: response.status, requestId, latencyMs: response.latencyMs };
  if (response.type === "overflow") {
    return {
      ...base,
      kind: "invalidResponse",
      reason: "oversized",
      message: `the response is larger than ${response.limitBytes} bytes`,
    };
  }
  const { status, body, headers } = response;
  // A web page where the API should be (a login wall, a captive portal, a docs site, a bare web server): the
  // base URL is wrong, whatever the status; only the statuses worth retrying keep their meaning (a proxy's
  // 502 page is still a 502).
  if (isWebPage(headers, body) && !RETRYABLE_STATUSES.has(status) && status !== 401 && status !== 402) {
    return {
      ...base,
      kind: "fatal",
      code: "not_tokenhub",
      message: `HTTP ${status} with a web page (text/html), not an API answer: the base URL does not lead to TokenHub's API`,
      remedy: WRONG_BASE_URL_REMEDY,
    };
  }
  if (status === 200) {
    if (expected.stream === true && body.kind !== "stream") return notAStream(body, headers, base);
    return validate(body, base);
  }
  const error = errorOf(body);
  if (status >= 300 && status < 400) {
    const target = safeOrigin(headers.location);
    return {
      ...base,
      kind: "fatal",
      code: "redirect_refused",
      message: scrubbedLine(
        `TokenHub answered ${status} redirecting to ${target}; redirects are not followed`,
      ),
      remedy: "Check the base URL: it should be the API origin itself (https://tokenhub.link/v1).",
    };
  }
  if (status === 401)
    return { ...base, kind: "unauthorized", message: scrubbedLine(error.message || "the key was rejected") };
  if (status === 402 || (status >= 400 && status < 500 && isBalanceError(error))) {
    return {
      ...base,
      kind: "insufficientBalance",
      message: scrubbedLine(error.message || "insufficient balance"),
    };
  }
  const routing = matchRoutingRule(rules, status, error);
  if (routing)
    return {
      ...base,
      kind: "routing",
      reason: routing,
      code: error.code,
      message: scrubbedLine(error.message),
    };
  if (RETRYABLE_STATUSES.has(status)) {
    return {
      ...base,
      kind: "retryable",
      reason: status === 429 ? "rate_limited" : "server_error",
      retryAfterMs: parseRetryAfter(headers),
      message: scrubbedLine(error.message || `HTTP ${status}`),
    };
  }
  // Not a model refusal (the routing rules had their turn): the path itself is not there, so the base URL is
  // not TokenHub's API (a missing /v1, another service, a web page).
  if (status === 404 || status === 405) {
    return {
      ...base,
      kind: "fatal",
      code: "not_tokenhub",
      message: scrubbedLine(
        `HTTP ${status}${error.message ? ` (${error.message})` : " with no API error in the body"}: the base URL does not lead to TokenHub's chat endpoint`,
      ),
      remedy: WRONG_BASE_URL_REMEDY,
    };
  }
  if (status >= 200 && status < 300) {
    return {
      ...base,
      kind: "invalidResponse",
      reason: "unexpected_status",
      message: `expected 200, got ${status}`,
    };
  }
  if (
    status >= 400 &&
    status < 500 &&
    (CONTENT_REFUSAL_CODE.test(error.code ?? "") || CONTENT_REFUSAL_MESSAGE.test(error.message))
  ) {
    return {
      ...base,
      kind: "fatal",
      code: "content_refused",
      message: scrubbedLine(`HTTP ${status}: ${error.message || "the content was refused"}`),
      remedy:
        "A content filter refused the prompt; the key, model and base URL are fine. Change the prompt and run the check again.",
    };
  }
  return {
    ...base,
    kind: "fatal",
    code: status === 403 ? "forbidden" : "request_rejected",
    message: scrubbedLine(`HTTP ${status}: ${error.message || "the request was refused"}`),
    remedy:
      status === 403
        ? "The key is valid but may not use this model or region; check its permissions in the TokenHub console."
        : "TokenHub refused the request as sent, and retrying cannot help: check the model name; if it is right, report the request id to TokenHub.",
  };
}

/** Step-4: the quickstart's machine check, on a JSON body or an assembled stream. */
function validate(body: ResponseBody, base: Omit<Common, "message">): Outcome {
  const invalid = (reason: InvalidReason, message: string): Outcome => ({
    ...base,
    kind: "invalidResponse",
    reason,
    message: scrubbedLine(message),
  });
  switch (body.kind) {
    case "empty":
      return invalid("empty_body", "the 200 response has no body");
    case "malformed":
      return invalid("malformed_body", body.reason);
    case "text":
      return invalid("malformed_body", "the 200 response is not JSON");
    case "stream": {
      if (body.error) {
        return {
          ...base,
          kind: "retryable",
          reason: "server_error",
          retryAfterMs: null,
          message: scrubbedLine(`the stream reported an error: ${body.error.message}`),
        };
      }
      if (body.chunks === 0) return invalid("empty_choices", "the stream carried no chunks");
      if (!VALID_OBJECTS.has(body.object ?? "")) return invalid("wrong_object", `object is "${body.object}"`);
      if (body.content === null) return invalid("null_content", "no chunk carried delta.content");
      if (!body.sawDone && !body.finishReason) {
        return invalid("stream_incomplete", "the stream ended without a finish_reason or [DONE]");
      }
      return {
        ...base,
        kind: "ok",
        id: body.id ?? "",
        model: body.model ?? "",
        content: scrub(body.content),
        streamed: true,
        message: "ok",
      };
    }
    case "json": {
      const value = body.value as Record<string, unknown> | null;
      if (!value || typeof value !== "object" || Array.isArray(value))
        return invalid("malformed_body", "the body is not a JSON object");
      if (typeof value.object !== "string" || !VALID_OBJECTS.has(value.object)) {
        return invalid("wrong_object", `object is ${scrubbedLine(JSON.stringify(value.object) ?? "", 40)}`);
      }
      if (!Array.isArray(value.choices)) {
        const got =
          value.choices === undefined
            ? "missing"
            : `${value.choices === null ? "null" : typeof value.choices}, not an array`;
        return invalid("schema_mismatch", `choices is ${got}`);
      }
      if (value.choices.length === 0) return invalid("empty_choices", "choices is empty");
      const first = value.choices[0] as { message?: { content?: unknown } } | undefined;
      if (first?.message?.content === null || first?.message?.content === undefined) {
        return invalid("null_content", "choices[0].message.content is null");
      }
      const parsed = ChatCompletionSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return invalid(
          "schema_mismatch",
          `${issue?.path.join(".") || "body"}: ${issue?.message ?? "does not match"}`,
        );
      }
      return {
        ...base,
        kind: "ok",
        id: parsed.data.id ?? "",
        model: parsed.data.model ?? "",
        content: scrub(replyText(ChoiceSchema.safeParse(parsed.data.choices[0]).data?.message.content)),
        streamed: false,
        message: "ok",
      };
    }
  }
}

/**
 * A stream was asked for and the 200 is not one. Its body may well be a valid completion, but the check is of
 * streaming: a gateway that ignores `stream: true` would leave a streaming client with nothing to read, so
 * passing it as "complete" would verify the wrong thing.
 */
function notAStream(
  body: ResponseBody,
  headers: Record<string, string>,
  base: Omit<Common, "message">,
): Outcome {
  const type = headers["content-type"]?.split(";")[0]?.trim();
  const object =
    body.kind === "json" && body.value && typeof body.value === "object" && !Array.isArray(body.value)
      ? (body.value as { object?: unknown }).object
      : undefined;
  const what =
    typeof object === "string"
      ? `one ${scrubbedLine(object, 40)} object`
      : body.kind === "empty"
        ? "an empty body"
        : body.kind === "json"
          ? "one JSON body"
          : "a body that is not an event stream";
  return {
    ...base,
    kind: "invalidResponse",
    reason: "not_a_stream",
    message: scrubbedLine(
      `a stream was requested (stream: true, expecting text/event-stream) but the 200 response is ${type ? scrubbedLine(type, 60) : "without a content-type"}: ${what}, not a stream`,
    ),
  };
}

function classifyTransport(response: Extract<ProbeResponse, { type: "transport" }>): Outcome {
  const base = { status: null, requestId: null, latencyMs: response.latencyMs };
  const kind = TRANSPORT_CODES[response.code];
  const message = scrubbedLine(`${response.code} during ${response.phase}: ${response.message}`);
  if (kind) return { ...base, kind: "retryable", reason: kind, retryAfterMs: null, message };
  const fatal = FATAL_TRANSPORT[response.code];
  if (fatal) return { ...base, kind: "fatal", code: fatal.code, remedy: fatal.remedy, message };
  if (isTlsErrorCode(response.code)) {
    return {
      ...base,
      kind: "fatal",
      code: "tls_failure",
      remedy:
        "The TLS handshake failed: check the system clock, proxy and CA settings (NODE_EXTRA_CA_CERTS).",
      message,
    };
  }
  return {
    ...base,
    kind: "fatal",
    code: "network_failure",
    remedy: "Check the network connection, proxy settings and the base URL.",
    message,
  };
}

interface ErrorInfo {
  code: string | null;
  message: string;
  /** OpenAI's `error.type`, when the body has one. */
  type?: string | null;
}

function isBalanceError(error: ErrorInfo): boolean {
  return [error.code, error.type].some((value) => typeof value === "string" && BALANCE_CODE.test(value));
}

/** The error code and message, from an OpenAI-style or DashScope-style body, or the text. */
function errorOf(body: ResponseBody): ErrorInfo {
  if (body.kind === "json") {
    const openai = OpenAIErrorBodySchema.safeParse(body.value);
    if (openai.success) {
      const { code, type, message } = openai.data.error;
      return {
        code: code === null || code === undefined ? (type ?? null) : String(code),
        message,
        type: type ?? null,
      };
    }
    const dash = DashScopeErrorBodySchema.safeParse(body.value);
    if (dash.success) return { code: dash.data.code, message: dash.data.message };
    return { code: null, message: "" };
  }
  if (body.kind === "text" || body.kind === "malformed")
    return { code: null, message: scrubbedLine(body.text, 300) };
  if (body.kind === "stream" && body.error) return body.error;
  return { code: null, message: "" };
}

function requestIdOf(headers: Record<string, string>, body: ResponseBody | undefined): string | null {
  const fromHeader = headers["x-request-id"] ?? headers["request-id"] ?? headers["x-dashscope-request-id"];
  if (fromHeader) return scrubbedLine(fromHeader, 128);
  if (body?.kind === "json" && body.value && typeof body.value === "object") {
    const id = (body.value as { request_id?: unknown }).request_id;
    if (typeof id === "string") return scrubbedLine(id, 128);
  }
  return null;
}

function isWebPage(headers: Record<string, string>, body: ResponseBody): boolean {
  if (/^\s*text\/html\b/i.test(headers["content-type"] ?? "")) return true;
  const text = body.kind === "text" || body.kind === "malformed" ? body.text : "";
  return /^\s*<(!doctype html|html)\b/i.test(text);
}

function safeOrigin(location: string | undefined): string {
  if (!location) return "nowhere (no Location header)";
  try {
    return new URL(location).origin;
  } catch {
    return "a relative location";
  }
}
