import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AssembledStream, createStreamAssembler } from "../../src/tokenhub/sse.ts";

function chunk(delta: object, finishReason: string | null = null, extra: object = {}): string {
  return JSON.stringify({
    id: "chatcmpl-sse-1",
    object: "chat.completion.chunk",
    created: 1735689600,
    model: "deepseek-v3.2",
    system_fingerprint: null,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    ...extra,
  });
}

const ROLE = chunk({ role: "assistant", content: "", function_call: null, refusal: null, tool_calls: null });
const USAGE = JSON.stringify({
  id: "chatcmpl-sse-1",
  object: "chat.completion.chunk",
  created: 1735689600,
  model: "deepseek-v3.2",
  choices: [],
  usage: { prompt_tokens: 14, completion_tokens: 1, total_tokens: 15 },
});

/** The simulator's happy stream: role chunk, "O", "K", finish chunk, usage chunk, [DONE]. */
function happyFrames(eol = "\n"): string[] {
  return [ROLE, chunk({ content: "O" }), chunk({ content: "K" }), chunk({}, "stop"), USAGE, "[DONE]"].map(
    (data) => `data: ${data}${eol}${eol}`,
  );
}

function assemble(...pieces: string[]): AssembledStream {
  const assembler = createStreamAssembler();
  for (const piece of pieces) assembler.feed(piece);
  return assembler.finish();
}

describe("createStreamAssembler", () => {
  it("assembles the content, id, object, model, finish_reason and [DONE] of a stream", () => {
    const result = assemble(happyFrames().join(""));
    assert.deepEqual(result, {
      kind: "stream",
      id: "chatcmpl-sse-1",
      object: "chat.completion.chunk",
      model: "deepseek-v3.2",
      content: "OK",
      chunks: 5,
      finishReason: "stop",
      sawDone: true,
      error: null,
      malformed: 0,
    });
  });

  it("handles CRLF and lone CR line endings", () => {
    for (const eol of ["\r\n", "\r"]) {
      const result = assemble(happyFrames(eol).join(""));
      assert.equal(result.content, "OK", JSON.stringify(eol));
      assert.equal(result.chunks, 5);
      assert.equal(result.sawDone, true);
      assert.equal(result.malformed, 0);
    }
  });

  it("joins events split across feed calls, in the middle of a line and between CR and LF", () => {
    const whole = happyFrames("\r\n").join("");
    for (const size of [1, 3, 7, 64]) {
      const pieces: string[] = [];
      for (let i = 0; i < whole.length; i += size) pieces.push(whole.slice(i, i + size));
      const result = assemble(...pieces);
      assert.equal(result.content, "OK", `pieces of ${size}`);
      assert.equal(result.chunks, 5);
      assert.equal(result.finishReason, "stop");
      assert.equal(result.sawDone, true);
      assert.equal(result.malformed, 0);
    }
  });

  it("ignores comments (keep-alives and padding)", () => {
    const result = assemble(
      ": keep-alive\n\n",
      `:${" ".repeat(100)}\n\n`,
      ...happyFrames(),
      ": trailing\n\n",
    );
    assert.equal(result.content, "OK");
    assert.equal(result.malformed, 0);
  });

  it("counts a usage-only chunk without touching the content", () => {
    const result = assemble(`data: ${ROLE}\n\n`, `data: ${USAGE}\n\n`);
    assert.equal(result.chunks, 2);
    assert.equal(result.content, "", "the role chunk carries empty content, which is not null");
    assert.equal(result.finishReason, null);
    assert.equal(result.sawDone, false);
  });

  it("leaves content null when no chunk carried delta.content", () => {
    const result = assemble(
      `data: ${chunk({ role: "assistant" })}\n\n`,
      `data: ${chunk({}, "stop")}\n\ndata: [DONE]\n\n`,
    );
    assert.equal(result.content, null);
    assert.equal(result.chunks, 2);
    assert.equal(result.finishReason, "stop");
  });

  it("assembles the last event even without a final blank line", () => {
    const result = assemble(`data: ${ROLE}\n\ndata: ${chunk({ content: "OK" }, "stop")}`);
    assert.equal(result.content, "OK");
    assert.equal(result.finishReason, "stop");
    const bareDone = assemble(`data: ${chunk({ content: "OK" }, "stop")}\n\n`, "data: [DONE]\n");
    assert.equal(bareDone.sawDone, true);
    assert.equal(bareDone.chunks, 1);
  });

  it("records an `event: error` with an OpenAI-style error", () => {
    const error = JSON.stringify({ error: { message: "upstream failed", type: "server_error", code: 502 } });
    const result = assemble(`data: ${ROLE}\n\n`, `event: error\ndata: ${error}\n\n`, "data: [DONE]\n\n");
    assert.deepEqual(result.error, { message: "upstream failed", code: "502" });
    assert.equal(result.chunks, 1);
    assert.equal(result.sawDone, true);
  });

  it("records an `event: error` whose data is not JSON, instead of counting it malformed", () => {
    const result = assemble(...happyFrames().slice(0, 2), "event: error\ndata: upstream timed out\n\n");
    assert.deepEqual(result.error, { message: "upstream timed out", code: null });
    assert.equal(result.malformed, 0);
  });

  it("records a data payload with an `error` member, and keeps the first error", () => {
    const first = JSON.stringify({
      error: { message: "rate limited upstream", code: "rate_limit_exceeded" },
    });
    const second = JSON.stringify({ error: "second" });
    const result = assemble(`data: ${first}\n\ndata: ${second}\n\n`);
    assert.deepEqual(result.error, { message: "rate limited upstream", code: "rate_limit_exceeded" });
    assert.equal(result.chunks, 0);
  });

  it("reads a string `error` member as the message, and `error: null` as no error", () => {
    assert.deepEqual(assemble(`data: {"error":"overloaded"}\n\n`).error, {
      message: "overloaded",
      code: null,
    });
    const withNull = chunk({ content: "OK" }, "stop", { error: null });
    const result = assemble(`data: ${withNull}\n\ndata: [DONE]\n\n`);
    assert.equal(result.error, null);
    assert.equal(result.content, "OK");
  });

  it("counts malformed data: not JSON, or JSON that is not a chunk", () => {
    const result = assemble(
      "data: {not json\n\n",
      'data: {"hello":"world"}\n\n',
      // A chunk needs an object and a choices array; an id that is not a string is tolerated (Step-4 is silent).
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "m", choices: "none" })}\n\n`,
      `data: ${JSON.stringify({ id: 1, object: "chat.completion.chunk", model: 2, choices: [] })}\n\n`,
      ...happyFrames(),
    );
    assert.equal(result.malformed, 3);
    assert.equal(result.content, "OK");
    assert.equal(result.chunks, 6);
  });

  it("tolerates chunks without id or model and odd entries beside the first choice", () => {
    const bare = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }, null] })}\n\n`;
    const result = assemble(
      bare({ role: "assistant", content: "" }),
      bare({ content: "OK" }),
      bare({}, "stop"),
      "data: [DONE]\n\n",
    );
    assert.equal(result.malformed, 0);
    assert.equal(result.chunks, 3);
    assert.equal(result.content, "OK");
    assert.equal(result.finishReason, "stop");
  });

  it("joins multi-line data fields with a newline before parsing", () => {
    const result = assemble(
      'data: {"id":"c","object":"chat.completion.chunk",\ndata: "model":"m","choices":[]}\n\n',
    );
    assert.equal(result.chunks, 1);
    assert.equal(result.malformed, 0);
    assert.equal(result.model, "m");
  });

  it("reports nothing at all for an empty stream", () => {
    const result = assemble("");
    assert.equal(result.chunks, 0);
    assert.equal(result.content, null);
    assert.equal(result.sawDone, false);
    assert.equal(result.error, null);
  });
});
