import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { z } from "zod";
import { ConfigError } from "../../src/errors.ts";
import { registerSecret } from "../../src/secrets/scrubber.ts";
import { classify, type Outcome } from "../../src/tokenhub/classify.ts";
import type { ProbeResponse, ResponseBody } from "../../src/tokenhub/client.ts";
import { compileRoutingRules } from "../../src/tokenhub/routing-rules.ts";
import type { AssembledStream } from "../../src/tokenhub/sse.ts";

const ERRORS_DIR = new URL("../../fixtures/errors/", import.meta.url);

/** One error fixture: a response as TokenHub (or a proxy in front of it) might send it, and what it means. */
const FixtureSchema = z
  .strictObject({
    description: z.string().min(1),
    status: z.number().int().min(100).max(599),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    text: z.string().optional(),
    expect: z.strictObject({
      kind: z.enum([
        "ok",
        "unauthorized",
        "retryable",
        "routing",
        "insufficientBalance",
        "invalidResponse",
        "fatal",
      ]),
      reason: z.string().optional(),
      code: z.string().nullable().optional(),
      retryAfterMs: z.number().nullable().optional(),
      messageIncludes: z.array(z.string()).optional(),
      messageExcludes: z.array(z.string()).optional(),
    }),
  })
  .refine((f) => (f.body === undefined) !== (f.text === undefined), "exactly one of body and text");
type Fixture = z.infer<typeof FixtureSchema>;

function loadFixtures(): { name: string; fixture: Fixture }[] {
  return readdirSync(ERRORS_DIR)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(new URL(file, ERRORS_DIR), "utf8"));
      return { name: file, fixture: FixtureSchema.parse(raw) };
    });
}

/** The ProbeResponse the client would produce for this fixture (header names lower-cased, as undici gives them). */
function responseOf(fixture: Fixture): ProbeResponse {
  const headers = Object.fromEntries(
    Object.entries(fixture.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  let body: ResponseBody;
  if (fixture.text === undefined) body = { kind: "json", value: fixture.body };
  else body = fixture.text.trim() === "" ? { kind: "empty" } : { kind: "text", text: fixture.text };
  return { type: "response", status: fixture.status, headers, body, latencyMs: 12 };
}

function respond(status: number, body: ResponseBody, headers: Record<string, string> = {}): ProbeResponse {
  return { type: "response", status, headers, body, latencyMs: 5 };
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): ProbeResponse {
  return respond(status, { kind: "json", value }, headers);
}

function transport(code: string, phase: "connect" | "headers" | "body" = "headers"): ProbeResponse {
  return { type: "transport", code, message: `boom ${code}`, phase, latencyMs: 3 };
}

function expectKind<K extends Outcome["kind"]>(outcome: Outcome, kind: K): Extract<Outcome, { kind: K }> {
  assert.equal(outcome.kind, kind, `expected ${kind}, got ${JSON.stringify(outcome)}`);
  return outcome as Extract<Outcome, { kind: K }>;
}

function completion(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1735689600,
    model: "deepseek-v3.2",
    system_fingerprint: null,
    choices: [
      { index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content: "OK" } },
    ],
    usage: { prompt_tokens: 14, completion_tokens: 1, total_tokens: 15 },
    ...overrides,
  };
}

/** A body without the named keys at all (not set to undefined). */
function without(body: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !keys.includes(key)));
}

function stream(overrides: Partial<AssembledStream> = {}): AssembledStream {
  return {
    kind: "stream",
    id: "chatcmpl-2",
    object: "chat.completion.chunk",
    model: "deepseek-v3.2",
    content: "OK",
    chunks: 4,
    finishReason: "stop",
    sawDone: true,
    error: null,
    malformed: 0,
    ...overrides,
  };
}

describe("classify: the error fixture table (fixtures/errors/*.json)", () => {
  const fixtures = loadFixtures();

  it("has fixtures covering every routing reason and every non-ok kind", () => {
    const reasons = new Set(fixtures.map(({ fixture }) => fixture.expect.reason));
    for (const reason of [
      "region_unavailable",
      "no_supplier",
      "model_not_offered",
      "rate_limited",
      "server_error",
    ]) {
      assert.ok(reasons.has(reason), reason);
    }
    const kinds = new Set<string>(fixtures.map(({ fixture }) => fixture.expect.kind));
    for (const kind of [
      "unauthorized",
      "retryable",
      "routing",
      "insufficientBalance",
      "fatal",
      "invalidResponse",
    ]) {
      assert.ok(kinds.has(kind), kind);
    }
  });

  for (const { name, fixture } of fixtures) {
    it(`${name}: ${fixture.description}`, () => {
      const outcome = classify(responseOf(fixture)) as Outcome & Record<string, unknown>;
      const { expect } = fixture;
      assert.equal(outcome.kind, expect.kind, JSON.stringify(outcome));
      assert.equal(outcome.status, fixture.status);
      assert.equal(outcome.latencyMs, 12);
      if (expect.reason !== undefined) assert.equal(outcome.reason, expect.reason);
      if (expect.code !== undefined) assert.equal(outcome.code, expect.code);
      if (expect.retryAfterMs !== undefined) assert.equal(outcome.retryAfterMs, expect.retryAfterMs);
      for (const text of expect.messageIncludes ?? [])
        assert.ok(outcome.message.includes(text), outcome.message);
      for (const text of expect.messageExcludes ?? [])
        assert.ok(!outcome.message.includes(text), outcome.message);
      assert.ok(outcome.message.length <= 300, "messages are bounded");
      if (outcome.kind === "fatal") assert.ok(outcome.remedy.length > 0, "a fatal outcome names a remedy");
    });
  }
});

describe("classify: HTTP statuses", () => {
  it("refuses a redirect with the target origin in the message, never its path or query", () => {
    const outcome = expectKind(
      classify(respond(302, { kind: "empty" }, { location: "https://other.example/v1/chat?key=abc" })),
      "fatal",
    );
    assert.equal(outcome.code, "redirect_refused");
    assert.match(outcome.message, /302/);
    assert.match(outcome.message, /https:\/\/other\.example\b/);
    assert.doesNotMatch(outcome.message, /\/v1\/chat|key=abc/);
  });

  it("takes the request id from the headers, else from a DashScope body", () => {
    const fromHeader = classify(json(500, {}, { "x-request-id": "req-h" }));
    assert.equal(fromHeader.requestId, "req-h");
    const fromBody = classify(
      json(503, { code: "RegionUnavailable", message: "region", request_id: "req-b" }),
    );
    assert.equal(fromBody.requestId, "req-b");
    assert.equal(classify(json(500, {})).requestId, null);
  });

  it("scrubs a registered key from messages and bounds them", () => {
    const key = "sk-classify-secret-7f3e9a1b";
    registerSecret(key);
    const outcome = classify(
      json(401, { error: { message: `bad key ${key} ${"x".repeat(1000)}`, type: "auth" } }),
    );
    assert.equal(outcome.kind, "unauthorized");
    assert.ok(!outcome.message.includes(key), outcome.message);
    assert.match(outcome.message, /\[redacted\]/);
    assert.ok(outcome.message.length <= 300);
  });

  it("reports an oversized body as invalidResponse oversized", () => {
    const outcome = expectKind(
      classify({ type: "overflow", status: 200, headers: {}, limitBytes: 1024, latencyMs: 9 }),
      "invalidResponse",
    );
    assert.equal(outcome.reason, "oversized");
    assert.match(outcome.message, /1024/);
  });
});

describe("classify: transport outcomes", () => {
  const retryable: [string, "network" | "timeout" | "unreachable"][] = [
    ["request_timeout", "timeout"],
    ["UND_ERR_CONNECT_TIMEOUT", "unreachable"],
    ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
    ["UND_ERR_BODY_TIMEOUT", "timeout"],
    ["ETIMEDOUT", "timeout"],
    ["UND_ERR_SOCKET", "network"],
    ["UND_ERR_CLOSED", "network"],
    ["ECONNRESET", "network"],
    ["ECONNREFUSED", "unreachable"],
    ["EPIPE", "network"],
    ["EAI_AGAIN", "unreachable"],
    ["EHOSTUNREACH", "unreachable"],
    ["ENETUNREACH", "unreachable"],
    ["UND_ERR_RES_CONTENT_LENGTH_MISMATCH", "network"],
  ];
  for (const [code, reason] of retryable) {
    it(`${code} is retryable ${reason}`, () => {
      const outcome = expectKind(classify(transport(code)), "retryable");
      assert.equal(outcome.reason, reason);
      assert.equal(outcome.retryAfterMs, null);
      assert.equal(outcome.status, null);
      assert.equal(outcome.latencyMs, 3);
      assert.match(outcome.message, new RegExp(code));
    });
  }

  it("ENOTFOUND is fatal dns_failure", () => {
    assert.equal(expectKind(classify(transport("ENOTFOUND", "connect")), "fatal").code, "dns_failure");
  });

  for (const code of [
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "ERR_SSL_WRONG_VERSION_NUMBER",
    "CERT_HAS_EXPIRED",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  ]) {
    it(`${code} is fatal tls_failure`, () => {
      const outcome = expectKind(classify(transport(code, "connect")), "fatal");
      assert.equal(outcome.code, "tls_failure");
      assert.match(outcome.remedy, /NODE_EXTRA_CA_CERTS/);
    });
  }

  it("an unknown code is fatal network_failure", () => {
    for (const code of ["unknown", "UND_ERR_INVALID_ARG", "EWHATEVER"]) {
      assert.equal(expectKind(classify(transport(code)), "fatal").code, "network_failure", code);
    }
  });
});

describe("classify: Step-4 checks on a 200 JSON body", () => {
  it("accepts a valid completion", () => {
    const outcome = expectKind(classify(json(200, completion())), "ok");
    assert.equal(outcome.content, "OK");
    assert.equal(outcome.id, "chatcmpl-1");
    assert.equal(outcome.model, "deepseek-v3.2");
    assert.equal(outcome.streamed, false);
    assert.equal(outcome.status, 200);
  });

  const invalid: [string, ResponseBody | ProbeResponse, string][] = [
    ["wrong object", { kind: "json", value: completion({ object: "text_completion" }) }, "wrong_object"],
    ["missing object", { kind: "json", value: completion({ object: undefined }) }, "wrong_object"],
    ["an error body with 200", { kind: "json", value: { error: { message: "x" } } }, "wrong_object"],
    ["empty choices", { kind: "json", value: completion({ choices: [] }) }, "empty_choices"],
    // Not "empty": the message says what came instead (the reason is the schema's).
    ["choices not an array", { kind: "json", value: completion({ choices: {} }) }, "schema_mismatch"],
    ["choices missing", { kind: "json", value: completion({ choices: undefined }) }, "schema_mismatch"],
    [
      "null content",
      {
        kind: "json",
        value: completion({ choices: [{ index: 0, message: { role: "assistant", content: null } }] }),
      },
      "null_content",
    ],
    [
      "missing content",
      { kind: "json", value: completion({ choices: [{ index: 0, message: { role: "assistant" } }] }) },
      "null_content",
    ],
    ["missing message", { kind: "json", value: completion({ choices: [{ index: 0 }] }) }, "null_content"],
    ["a JSON array", { kind: "json", value: [completion()] }, "malformed_body"],
    ["JSON null", { kind: "json", value: null }, "malformed_body"],
    [
      "malformed",
      { kind: "malformed", reason: "body is not valid JSON (Unexpected end)", text: "{" },
      "malformed_body",
    ],
    ["empty body", { kind: "empty" }, "empty_body"],
    ["text body", { kind: "text", text: "OK" }, "malformed_body"],
    ["201 with a valid completion", json(201, completion()), "unexpected_status"],
    ["204 empty", respond(204, { kind: "empty" }), "unexpected_status"],
  ];
  for (const [name, input, reason] of invalid) {
    it(`${name} -> invalidResponse ${reason}`, () => {
      const response = "type" in input ? input : respond(200, input);
      const outcome = expectKind(classify(response), "invalidResponse");
      assert.equal(outcome.reason, reason);
      assert.ok(outcome.message.length > 0);
    });
  }

  it("names what came instead of the choices array", () => {
    const outcome = expectKind(classify(json(200, completion({ choices: "none" }))), "invalidResponse");
    assert.match(outcome.message, /^choices is string, not an array/);
  });

  // The quickstart's machine check asks for object, choices and a non-null content, nothing more: a body the
  // page accepts is accepted, whatever the fields it is silent on hold.
  const lenient: [string, Record<string, unknown>, { id: string; model: string; content: string }][] = [
    [
      "created as a string",
      completion({ created: "2026-11-30" }),
      { id: "chatcmpl-1", model: "deepseek-v3.2", content: "OK" },
    ],
    [
      "usage counters null",
      completion({ usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null } }),
      { id: "chatcmpl-1", model: "deepseek-v3.2", content: "OK" },
    ],
    [
      "usage counters strings",
      completion({ usage: { prompt_tokens: "14", completion_tokens: "1", total_tokens: "15" } }),
      { id: "chatcmpl-1", model: "deepseek-v3.2", content: "OK" },
    ],
    [
      "id undefined, model a number",
      completion({ id: undefined, model: 42 }),
      { id: "", model: "", content: "OK" },
    ],
    // Absent keys, not undefined values (an outside review found these refused as "expected nonoptional").
    ["no id and no model at all", without(completion(), "id", "model"), { id: "", model: "", content: "OK" }],
    [
      "a stray null after the first choice",
      completion({ choices: [{ index: 0, message: { content: "OK" } }, null, 7] }),
      { id: "chatcmpl-1", model: "deepseek-v3.2", content: "OK" },
    ],
    [
      "no index, no role",
      completion({ choices: [{ message: { content: "OK" } }] }),
      { id: "chatcmpl-1", model: "deepseek-v3.2", content: "OK" },
    ],
    [
      "content parts",
      completion({
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: [
                { type: "text", text: "O" },
                { type: "text", text: "K" },
              ],
            },
          },
        ],
      }),
      { id: "chatcmpl-1", model: "deepseek-v3.2", content: "OK" },
    ],
    [
      "content a number",
      completion({ choices: [{ index: 0, message: { role: "assistant", content: 1 } }] }),
      { id: "chatcmpl-1", model: "deepseek-v3.2", content: "1" },
    ],
  ];
  for (const [name, body, expected] of lenient) {
    it(`accepts what the page does not check: ${name}`, () => {
      const outcome = expectKind(classify(json(200, body)), "ok");
      assert.deepEqual({ id: outcome.id, model: outcome.model, content: outcome.content }, expected);
    });
  }
});

describe("classify: Step-4 checks on a 200 stream", () => {
  it("accepts an assembled stream", () => {
    const outcome = expectKind(classify(respond(200, stream())), "ok");
    assert.equal(outcome.content, "OK");
    assert.equal(outcome.streamed, true);
    assert.equal(outcome.id, "chatcmpl-2");
  });

  it("accepts a stream that ended with a finish_reason but no [DONE], or [DONE] without finish_reason", () => {
    assert.equal(classify(respond(200, stream({ sawDone: false }))).kind, "ok");
    assert.equal(classify(respond(200, stream({ finishReason: null }))).kind, "ok");
  });

  it("an error event is retryable server_error", () => {
    const error = { message: "upstream failed", code: "upstream_error" };
    const outcome = expectKind(classify(respond(200, stream({ error }))), "retryable");
    assert.equal(outcome.reason, "server_error");
    assert.equal(outcome.retryAfterMs, null);
    assert.match(outcome.message, /upstream failed/);
  });

  const invalid: [string, Partial<AssembledStream>, string][] = [
    ["no chunks", { chunks: 0, content: null, object: null, id: null, model: null }, "empty_choices"],
    ["wrong object", { object: "chat.completion.delta" }, "wrong_object"],
    ["null content", { content: null }, "null_content"],
    ["no [DONE] and no finish_reason", { sawDone: false, finishReason: null }, "stream_incomplete"],
  ];
  for (const [name, overrides, reason] of invalid) {
    it(`${name} -> invalidResponse ${reason}`, () => {
      assert.equal(expectKind(classify(respond(200, stream(overrides))), "invalidResponse").reason, reason);
    });
  }
});

describe("classify: a stream was requested", () => {
  const asked = { stream: true };

  it("a 200 plain JSON completion is not a stream: invalidResponse not_a_stream, naming both types", () => {
    const reply = json(200, completion(), { "content-type": "application/json; charset=utf-8" });
    const outcome = expectKind(classify(reply, undefined, asked), "invalidResponse");
    assert.equal(outcome.reason, "not_a_stream");
    assert.match(outcome.message, /text\/event-stream/);
    assert.match(outcome.message, /application\/json: one chat\.completion object/);
    // The same reply to a request that did not ask for a stream is fine.
    assert.equal(classify(reply).kind, "ok");
  });

  it("text and empty 200s say what came instead of a stream", () => {
    const text = respond(200, { kind: "text", text: "OK" }, { "content-type": "text/plain" });
    assert.match(expectKind(classify(text, undefined, asked), "invalidResponse").message, /text\/plain/);
    const empty = expectKind(classify(respond(200, { kind: "empty" }), undefined, asked), "invalidResponse");
    assert.equal(empty.reason, "not_a_stream");
    assert.match(empty.message, /without a content-type: an empty body/);
  });

  it("a stream passes, and error statuses keep their meaning (their bodies are JSON either way)", () => {
    assert.equal(expectKind(classify(respond(200, stream()), undefined, asked), "ok").streamed, true);
    const limited = json(
      429,
      { error: { message: "slow down", type: "rate_limit" } },
      { "retry-after": "2" },
    );
    assert.equal(expectKind(classify(limited, undefined, asked), "retryable").reason, "rate_limited");
    assert.equal(
      classify(json(401, { error: { message: "bad key" } }), undefined, asked).kind,
      "unauthorized",
    );
  });
});

describe("classify: routing rules", () => {
  it("tries rules given to compileRoutingRules before the built-in ones", () => {
    const response = json(404, {
      error: { message: "The model `x` does not exist", code: "model_not_found" },
    });
    assert.equal(expectKind(classify(response), "routing").reason, "model_not_offered");
    const rules = compileRoutingRules([
      { reason: "no_supplier", statuses: [404], code: "^model_not_found$" },
    ]);
    assert.equal(expectKind(classify(response, rules), "routing").reason, "no_supplier");
  });

  it("lets a custom rule turn an otherwise retryable status into a routing refusal", () => {
    const response = json(503, { error: { message: "pool drained for tenant", type: "server_error" } });
    assert.equal(classify(response).kind, "retryable");
    const rules = compileRoutingRules([{ reason: "no_supplier", statuses: [503], message: "pool drained" }]);
    const outcome = expectKind(classify(response, rules), "routing");
    assert.equal(outcome.reason, "no_supplier");
    assert.equal(outcome.code, "server_error");
  });

  it("applies a rule only to its statuses", () => {
    const rules = compileRoutingRules([{ reason: "region_unavailable", statuses: [418], code: "teapot" }]);
    assert.equal(classify(json(400, { code: "teapot", message: "short and stout" }), rules).kind, "fatal");
    assert.equal(
      expectKind(classify(json(418, { code: "teapot", message: "short and stout" }), rules), "routing")
        .reason,
      "region_unavailable",
    );
  });

  it("refuses an invalid regular expression with a ConfigError invalid_routing_rule", () => {
    assert.throws(
      () => compileRoutingRules([{ reason: "no_supplier", statuses: [503], message: "(unclosed" }]),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, "invalid_routing_rule");
        assert.match(err.message, /\(unclosed/);
        assert.ok(err.remedy.length > 0);
        return true;
      },
    );
    assert.throws(
      () => compileRoutingRules([{ reason: "no_supplier", statuses: [503], code: "[z-a]" }]),
      (err: unknown) => err instanceof ConfigError && err.code === "invalid_routing_rule",
    );
  });
});
