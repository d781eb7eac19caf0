import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyImage, classifyTask } from "../../src/tokenhub/classify-media.ts";
import type { ProbeResponse } from "../../src/tokenhub/client.ts";

const json = (value: unknown, status = 200): ProbeResponse => ({
  type: "response",
  status,
  headers: { "content-type": "application/json", "x-request-id": "req-7" },
  body: { kind: "json", value },
  latencyMs: 3,
});

describe("classifyImage", () => {
  it("reads the three documented shapes", () => {
    const dash = classifyImage(
      json({
        output: { choices: [{ message: { content: [{ text: "x" }, { image: "https://oss/a.png" }] } }] },
      }),
    );
    assert.deepEqual(dash, {
      ok: true,
      shape: "dashscope",
      source: { kind: "url", url: "https://oss/a.png" },
      requestId: "req-7",
    });
    const url = classifyImage(json({ data: [{ url: "https://oss/b.png" }] }));
    assert.equal(url.ok && url.shape, "openai-url");
    const b64 = classifyImage(json({ data: [{ b64_json: "iVBORw0KGgo=" }] }));
    assert.deepEqual(b64.ok && b64.source, { kind: "b64", data: "iVBORw0KGgo=" });
  });

  for (const [what, value] of [
    ["neither shape", { result: "done" }],
    ["an empty data array", { data: [] }],
    ["data items without url or b64_json", { data: [{ revised_prompt: "x" }] }],
    ["content parts without an image", { output: { choices: [{ message: { content: [{ text: "no" }] } }] } }],
    ["wrong types", { data: "https://oss/a.png" }],
    ["null", null],
  ] as const) {
    it(`refuses ${what} as media_invalid_response, with the request id`, () => {
      const out = classifyImage(json(value));
      assert.equal(out.ok, false);
      assert.equal(!out.ok && out.failure.code, "media_invalid_response");
      assert.equal(out.requestId, "req-7");
    });
  }

  it("gives non-200 answers the text path's meaning, with a media remedy", () => {
    const cases: Array<[ProbeResponse, string]> = [
      [json({ error: { message: "bad key", type: "authentication_error" } }, 401), "media_unauthorized"],
      [json({ code: "Arrearage", message: "no money" }, 400), "media_insufficient_balance"],
      [
        json({ error: { message: "slow down", type: "rate_limit", code: "rate_limit_exceeded" } }, 429),
        "media_rate_limited",
      ],
      [
        { type: "transport", code: "ECONNRESET", message: "reset", phase: "body", latencyMs: 1 },
        "media_network",
      ],
      [
        { type: "overflow", status: 200, headers: {}, limitBytes: 10, latencyMs: 1 },
        "media_invalid_response",
      ],
    ];
    for (const [response, code] of cases) {
      const out = classifyImage(response);
      assert.equal(!out.ok && out.failure.code, code, JSON.stringify(response));
      assert.ok(!out.ok && out.failure.remedy.length > 0);
    }
  });

  it("names the status once: a refusal the text path already calls 'HTTP 400: ...' is not prefixed again", () => {
    const refused = classifyImage(json({ error: { message: "size is not supported" } }, 400));
    assert.ok(!refused.ok);
    assert.equal(refused.failure.message.match(/HTTP 400/g)?.length, 1, refused.failure.message);
    assert.match(refused.failure.message, /^HTTP 400: size is not supported$/);
    const limited = classifyImage(
      json({ error: { message: "slow down", code: "rate_limit_exceeded" } }, 429),
    );
    assert.ok(!limited.ok);
    assert.match(limited.failure.message, /^HTTP 429: slow down$/);
  });

  it("a 200 that is not JSON is an invalid response, not a crash", () => {
    const out = classifyImage({
      type: "response",
      status: 200,
      headers: {},
      body: { kind: "text", text: "<html>sign in</html>" },
      latencyMs: 1,
    });
    assert.equal(!out.ok && out.failure.code, "media_invalid_response");
  });
});

describe("classifyTask", () => {
  it("maps both status vocabularies onto one", () => {
    const dash = (task_status: string) => classifyTask(json({ output: { task_id: "t-1", task_status } }));
    const openai = (status: string) =>
      classifyTask(json({ id: "task_1", object: "video.generation.task", status }));
    const statusOf = (out: ReturnType<typeof classifyTask>) => (out.kind === "task" ? out.status : out.kind);
    assert.deepEqual(
      ["PENDING", "RUNNING", "FAILED", "CANCELED", "UNKNOWN"].map((s) => statusOf(dash(s))),
      ["pending", "running", "failed", "cancelled", "failed"],
    );
    assert.deepEqual(
      ["pending", "queued", "processing", "in_progress", "failed", "cancelled"].map((s) =>
        statusOf(openai(s)),
      ),
      ["pending", "pending", "running", "running", "failed", "cancelled"],
    );
    // A word nobody documented is "still running": the deadline ends the wait, not a guess.
    assert.equal(statusOf(openai("warming_up")), "running");
  });

  it("takes the video URL from wherever a success carries it, and refuses a success without one", () => {
    const ok = classifyTask(
      json({ output: { task_id: "t", task_status: "SUCCEEDED", video_url: "https://v/1.mp4" } }),
    );
    assert.equal(ok.kind === "task" && ok.url, "https://v/1.mp4");
    for (const extra of [
      { url: "https://v/2.mp4" },
      { output: { url: "https://v/3.mp4" } },
      { data: [{ url: "https://v/4.mp4" }] },
    ]) {
      const out = classifyTask(json({ id: "task_1", status: "completed", ...extra }));
      assert.match(out.kind === "task" ? (out.url ?? "") : "", /^https:\/\/v\/\d\.mp4$/);
    }
    const bare = classifyTask(json({ output: { task_id: "t", task_status: "SUCCEEDED" } }));
    assert.equal(bare.kind === "failed" && bare.failure.code, "media_invalid_response");
  });

  it("keeps the provider's failure reason, in both styles", () => {
    const dash = classifyTask(
      json({
        output: { task_id: "t", task_status: "FAILED", code: "DataInspectionFailed", message: "bad prompt" },
      }),
    );
    assert.deepEqual(dash.kind === "task" && dash.reason, {
      code: "DataInspectionFailed",
      message: "bad prompt",
    });
    const openai = classifyTask(
      json({ id: "task_1", status: "failed", error: { code: 42, message: "policy" } }),
    );
    assert.deepEqual(openai.kind === "task" && openai.reason, { code: "42", message: "policy" });
  });

  for (const id of ["../../chat/completions", "..", "a/b", "x".repeat(201), "id with spaces", "%2e%2e"]) {
    it(`refuses a task id that could steer the poll URL: ${JSON.stringify(id.slice(0, 30))}`, () => {
      const out = classifyTask(json({ output: { task_id: id, task_status: "PENDING" } }));
      assert.equal(out.kind === "failed" && out.failure.code, "media_invalid_response");
    });
  }

  it("a transient failure is retryable (the next poll), a refusal is final", () => {
    assert.equal(
      classifyTask(json({ error: { message: "busy", type: "server_error" } }, 503)).kind,
      "retryable",
    );
    assert.equal(classifyTask(json({ code: "InvalidParameter", message: "bad model" }, 400)).kind, "failed");
  });
});
