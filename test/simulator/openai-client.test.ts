import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";

// The official client is the reference for "OpenAI-compatible": if it accepts the simulator, so would TokenHub users.
const API_KEY = "sk-sim-test";
const MODEL = "deepseek-v3.2";
const PROBE = {
  model: MODEL,
  max_tokens: 32,
  temperature: 0,
  messages: [{ role: "user" as const, content: "Reply with OK only." }],
};

describe("the chat template seen by the openai client", () => {
  let sim: Simulator;
  let client: OpenAI;

  before(async () => {
    sim = await startSimulator();
    client = new OpenAI({ apiKey: API_KEY, baseURL: sim.baseUrl, maxRetries: 0 });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it("returns content OK and the requested model without streaming", async () => {
    const completion = await client.chat.completions.create(PROBE);
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.model, MODEL);
    assert.match(completion.id, /^chatcmpl-[0-9a-f-]{36}$/);
    assert.equal(completion.choices[0]?.message.content, "OK");
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.equal(completion.usage?.total_tokens, (completion.usage?.prompt_tokens ?? 0) + 1);
  });

  it("streams chunks that assemble OK, then a usage chunk", async () => {
    sim.useScenario("stream-happy");
    const stream = await client.chat.completions.create({
      ...PROBE,
      model: "alibaba/deepseek-v3.2",
      stream: true,
    });
    let content = "";
    const finishReasons: (string | null)[] = [];
    let usageChunks = 0;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      assert.equal(chunk.model, "alibaba/deepseek-v3.2");
      content += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0] !== undefined) finishReasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usageChunks += 1;
    }
    assert.equal(content, "OK");
    assert.deepEqual(finishReasons, [null, null, null, "stop"]);
    assert.equal(usageChunks, 1);
  });

  it("surfaces a 401 as AuthenticationError", async () => {
    sim.useScenario("unauthorized");
    await assert.rejects(client.chat.completions.create(PROBE), (error: unknown) => {
      assert.ok(error instanceof OpenAI.AuthenticationError);
      assert.equal(error.status, 401);
      assert.equal(error.code, "invalid_api_key");
      assert.equal(error.requestID, "req-1");
      return true;
    });
  });

  it("surfaces a 429 as RateLimitError with its Retry-After header, then succeeds", async () => {
    sim.useScenario("rate-limited-seconds");
    await assert.rejects(client.chat.completions.create(PROBE), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.headers?.get("retry-after"), "1");
      assert.equal(error.type, "rate_limit_error");
      return true;
    });
    const completion = await client.chat.completions.create(PROBE);
    assert.equal(completion.choices[0]?.message.content, "OK");
  });

  it("fills {{model}} in a model_not_found error", async () => {
    sim.useScenario("model-not-found");
    await assert.rejects(
      client.chat.completions.create({ ...PROBE, model: "no-such-model" }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.equal(error.message, "404 The model `no-such-model` does not exist");
        return true;
      },
    );
  });

  it("turns an SSE error event into an APIError mid-stream", async () => {
    sim.useScenario("stream-error-event");
    const stream = await client.chat.completions.create({ ...PROBE, stream: true });
    await assert.rejects(
      (async () => {
        for await (const _chunk of stream) {
          // drain until the error event
        }
      })(),
      (error: unknown) => error instanceof OpenAI.APIError && /upstream failed/.test(error.message),
    );
  });
});
