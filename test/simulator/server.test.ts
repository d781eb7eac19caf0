import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Scenario, type Simulator, startSimulator } from "../../src/simulator/index.ts";

const KEY = "sk-sim-secret-4f9c2a";
const MODEL = "deepseek-v3.2";
const PINNED = "alibaba/deepseek-v3.2";

interface ChatInit {
  key?: string | null;
  stream?: boolean;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** POST /v1/chat/completions with the quickstart's probe; `key: null` sends no Authorization header. */
function chat(sim: Simulator, model: string = MODEL, init: ChatInit = {}): Promise<Response> {
  const key = init.key === undefined ? KEY : init.key;
  const body =
    init.body ??
    JSON.stringify({
      model,
      messages: [{ role: "user", content: "Reply with OK only." }],
      stream: init.stream,
    });
  return fetch(`${sim.baseUrl}/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...init.headers,
    },
    body,
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

function inline(steps: unknown[]): Scenario {
  return {
    name: "inline",
    description: "inline test scenario",
    routes: { "POST /v1/chat/completions": steps },
  } as Scenario;
}

describe("simulator server", () => {
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator({ redirectTo: "https://elsewhere.example/v1/chat/completions" });
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.useScenario("happy");
    sim.reset();
  });

  it("listens on 127.0.0.1 and exposes origin, baseUrl and port", () => {
    assert.equal(sim.origin, `http://127.0.0.1:${sim.port}`);
    assert.equal(sim.baseUrl, `${sim.origin}/v1`);
    assert.ok(sim.port > 0);
  });

  it("advances a sequence by request count and repeats the last step", async () => {
    sim.useScenario("server-500-then-ok");
    const statuses: number[] = [];
    const ids: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat(sim);
      await res.arrayBuffer();
      statuses.push(res.status);
      ids.push(res.headers.get("x-request-id"));
    }
    assert.deepEqual(statuses, [500, 200, 200]);
    assert.deepEqual(ids, ["req-1", "req-2", "req-3"]);
  });

  it("sends a step `repeat` times before moving on", async () => {
    sim.useScenario(
      inline([
        { status: 500, body: {}, repeat: 2 },
        { status: 201, body: {} },
        { status: 202, body: {} },
      ]),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await chat(sim);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [500, 500, 201, 202, 202]);
  });

  it("answers a matched model from its own sequence, whatever the order", async () => {
    sim.useScenario("region-unavailable-dashscope");
    const pinned = await chat(sim, PINNED);
    assert.equal(pinned.status, 200);
    assert.equal(((await pinned.json()) as { model: string }).model, PINNED);

    for (let i = 0; i < 2; i++) {
      const bare = await chat(sim, MODEL);
      assert.equal(bare.status, 503);
      const body = (await bare.json()) as { code: string; request_id: string };
      assert.equal(body.code, "RegionUnavailable");
      assert.equal(body.request_id, bare.headers.get("x-request-id"));
    }
    assert.equal((await chat(sim, PINNED)).status, 200);
  });

  it("keeps one cursor per matched model", async () => {
    sim.useScenario(
      inline([
        { match: { model: MODEL }, status: 503, body: {} },
        { match: { model: MODEL }, template: "chat" },
        { template: "chat" },
      ]),
    );
    const statuses: number[] = [];
    for (const model of [PINNED, MODEL, PINNED, MODEL, MODEL]) {
      const res = await chat(sim, model);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 503, 200, 200, 200]);
  });

  it("records requests without ever storing the key", async () => {
    await (await chat(sim, MODEL, { headers: { "X-Trace": "abc" } })).arrayBuffer();
    assert.equal(sim.requests.length, 1);
    const [request] = sim.requests;
    assert.ok(request);
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/v1/chat/completions");
    assert.equal(request.authorization, "present");
    assert.equal(request.headers["x-trace"], "abc");
    assert.equal(request.headers.authorization, undefined);
    assert.deepEqual(request.body, {
      model: MODEL,
      messages: [{ role: "user", content: "Reply with OK only." }],
    });
    assert.ok(Math.abs(Date.now() - request.at) < 5000);
    assert.deepEqual(request.keyLeaks, []);
    assert.ok(!JSON.stringify(sim.requests).includes(KEY));
  });

  it("redacts and reports a key a client leaks outside Authorization", async () => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: `my key is ${KEY}` }] });
    await (await chat(sim, MODEL, { headers: { "x-api-key": KEY }, body })).arrayBuffer();
    assert.deepEqual(sim.requests[0]?.keyLeaks, ["header:x-api-key", "body"]);
    assert.ok(!JSON.stringify(sim.requests).includes(KEY));
  });

  it("refuses a request without Authorization with an OpenAI-style 401, and records it", async () => {
    const res = await chat(sim, MODEL, { key: null });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      error: { message: "Invalid API key provided", type: "authentication_error", code: "invalid_api_key" },
    });
    assert.equal(sim.requests[0]?.authorization, "absent");
  });

  it("answers an unknown route with an OpenAI-style 404", async () => {
    const res = await fetch(`${sim.baseUrl}/nope`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: { message: "Unknown route", type: "invalid_request_error", code: "not_found" },
    });
  });

  it("refuses a body over 1 MiB with a 413", async () => {
    const res = await chat(sim, MODEL, {
      body: JSON.stringify({ model: MODEL, pad: "x".repeat(1024 * 1024) }),
    });
    assert.equal(res.status, 413);
    await res.arrayBuffer();
    assert.equal(sim.requests[0]?.body, undefined);
  });

  it("answers a chat template request without a model with a 400", async () => {
    const res = await chat(sim, MODEL, {
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, "model");
  });

  it("makes fetch fail when the connection drops before headers, then succeeds", async () => {
    sim.useScenario("reset-then-ok");
    await assert.rejects(chat(sim), TypeError);
    assert.equal((await chat(sim)).status, 200);
  });

  it("drops the connection mid-body", async () => {
    sim.useScenario("reset-mid-body-always");
    const res = await chat(sim);
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
  });

  it("marks a request abandoned when the client goes away before the response, and only then", async () => {
    sim.useScenario("happy");
    await (await chat(sim)).arrayBuffer();
    sim.useScenario("slow-headers");
    const gone = new AbortController();
    const pending = chat(sim, MODEL, { signal: gone.signal });
    while (sim.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    gone.abort();
    await assert.rejects(pending);
    for (const until = Date.now() + 3_000; !sim.requests[1]?.abandoned; ) {
      assert.ok(Date.now() < until, "the abandoned request is marked");
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(sim.requests[0]?.abandoned, false, "a completed request is not");
  });

  it("fills {{httpDate+4s}} with an HTTP date about four seconds ahead", async () => {
    sim.useScenario("rate-limited-http-date");
    const res = await chat(sim);
    await res.arrayBuffer();
    assert.equal(res.status, 429);
    const retryAt = Date.parse(res.headers.get("retry-after") ?? "");
    assert.ok(
      retryAt - Date.now() > 2000 && retryAt - Date.now() <= 4000,
      `retry-after ${res.headers.get("retry-after")}`,
    );
  });

  it("sends retry-after-ms as scripted", async () => {
    sim.useScenario("rate-limited-ms");
    const res = await chat(sim);
    await res.arrayBuffer();
    assert.equal(res.headers.get("retry-after-ms"), "150");
  });

  it("redirects to the redirectTo option", async () => {
    sim.useScenario("redirect");
    const res = await fetch(`${sim.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: "{}",
      redirect: "manual",
    });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://elsewhere.example/v1/chat/completions");
  });

  it("ends stream-no-done without [DONE]", async () => {
    sim.useScenario("stream-no-done");
    const res = await chat(sim, MODEL, { stream: true });
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = await res.text();
    assert.equal(text.match(/^data: /gm)?.length, 3);
    assert.ok(!text.includes("[DONE]"));
  });

  it("sends a named error event in stream-error-event", async () => {
    sim.useScenario("stream-error-event");
    const text = await (await chat(sim, MODEL, { stream: true })).text();
    assert.match(
      text,
      /\n\nevent: error\ndata: \{"error":\{"message":"upstream failed","type":"server_error"\}\}\n\n/,
    );
    assert.ok(text.startsWith(`data: {"id":"chatcmpl-sim-0001","object":"chat.completion.chunk"`));
    assert.ok(text.includes(`"model":"${MODEL}"`));
  });

  it("pads oversized to at least 5 MiB of valid JSON", async () => {
    sim.useScenario("oversized");
    const res = await chat(sim);
    const text = await res.text();
    assert.ok(Number(res.headers.get("content-length")) >= 5 * 1024 * 1024);
    assert.equal(Buffer.byteLength(text), Number(res.headers.get("content-length")));
    assert.equal((JSON.parse(text) as { object: string }).object, "chat.completion");
  });

  it("sends cut-off JSON as application/json in malformed-json", async () => {
    sim.useScenario("malformed-json");
    const res = await chat(sim);
    assert.equal(res.headers.get("content-type"), "application/json");
    await assert.rejects(res.json(), SyntaxError);
  });

  it("reset() forgets requests and restarts sequences and request ids", async () => {
    sim.useScenario("rate-limited-seconds");
    await (await chat(sim)).arrayBuffer();
    sim.reset();
    assert.equal(sim.requests.length, 0);
    const res = await chat(sim);
    await res.arrayBuffer();
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("x-request-id"), "req-1");
  });
});

describe("simulator with acceptKeys", () => {
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator({ acceptKeys: [KEY] });
  });
  after(() => sim.close());

  it("refuses a wrong key before the scenario applies, accepts the right one, stores neither", async () => {
    const wrong = await chat(sim, MODEL, { key: "sk-wrong-key-7d1e" });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, "invalid_api_key");
    const right = await chat(sim, MODEL);
    assert.equal(right.status, 200);
    await right.arrayBuffer();
    assert.equal(sim.requests.length, 2);
    const recorded = JSON.stringify(sim.requests);
    assert.ok(!recorded.includes(KEY));
    assert.ok(!recorded.includes("sk-wrong-key-7d1e"));
  });
});

describe("simulator close()", () => {
  it("returns at once even with a delayed response pending", async () => {
    const sim = await startSimulator({ scenario: "slow-headers" });
    const pending = chat(sim).then(
      () => "answered",
      () => "failed",
    );
    while (sim.requests.length === 0) await sleep(5);
    const started = Date.now();
    await sim.close();
    assert.ok(Date.now() - started < 1000);
    assert.equal(await pending, "failed");
  });
});
