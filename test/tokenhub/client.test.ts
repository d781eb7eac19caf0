import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { ConfigError } from "../../src/errors.ts";
import { parseKey } from "../../src/secrets/key.ts";
import { type Scenario, type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { classify, type Outcome } from "../../src/tokenhub/classify.ts";
import {
  type ClientOptions,
  createTokenHubClient,
  type ProbeResponse,
  type TokenHubClient,
} from "../../src/tokenhub/client.ts";
import { endpointUrl, parseBaseUrl } from "../../src/tokenhub/url.ts";

const KEY_VALUE = "sk-test-client-9d8c7b6a5f4e";
const KEY = parseKey(KEY_VALUE, "env");
const MODEL = "deepseek-v3.2";
const TIMEOUTS = { connectMs: 500, headersMs: 1000, bodyMs: 1000, requestMs: 2000, totalMs: 5000 };
const CAP = 64 * 1024;

// ---- helpers ----------------------------------------------------------------------------------------------

interface RawServer {
  origin: string;
  /** The request headers of every request, in arrival order. */
  requests: { url: string; headers: IncomingHttpHeaders }[];
  /** Set by handlers that stream: how many body bytes were handed to the socket before it closed. */
  stats: { bytesWritten: number; finished: boolean };
  close(): Promise<void>;
}

/** A plain node:http server on loopback, for what the simulator cannot script (encodings, other origins). */
async function startRaw(
  handler: (req: IncomingMessage, res: ServerResponse, stats: RawServer["stats"]) => void,
): Promise<RawServer> {
  const requests: RawServer["requests"] = [];
  const stats = { bytesWritten: 0, finished: false };
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => handler(req, res, stats));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const raw = await startRaw((_req, res) => res.end());
  const port = Number(new URL(raw.origin).port);
  await raw.close();
  return port;
}

const COMPLETION = JSON.stringify({
  id: "chatcmpl-raw-1",
  object: "chat.completion",
  created: 1735689600,
  model: MODEL,
  system_fingerprint: null,
  choices: [
    { index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content: "OK" } },
  ],
  usage: { prompt_tokens: 14, completion_tokens: 1, total_tokens: 15 },
});

function inline(steps: unknown[]): Scenario {
  return {
    name: "inline",
    description: "inline client test scenario",
    routes: { "POST /v1/chat/completions": steps },
  } as Scenario;
}

function expectTransport(response: ProbeResponse): Extract<ProbeResponse, { type: "transport" }> {
  assert.equal(response.type, "transport", JSON.stringify(response));
  return response as Extract<ProbeResponse, { type: "transport" }>;
}

function expectResponse(response: ProbeResponse): Extract<ProbeResponse, { type: "response" }> {
  assert.equal(response.type, "response", JSON.stringify(response));
  return response as Extract<ProbeResponse, { type: "response" }>;
}

function expectKind<K extends Outcome["kind"]>(outcome: Outcome, kind: K): Extract<Outcome, { kind: K }> {
  assert.equal(outcome.kind, kind, JSON.stringify(outcome));
  return outcome as Extract<Outcome, { kind: K }>;
}

// ---- against the simulator --------------------------------------------------------------------------------

describe("TokenHub client against the simulator", () => {
  let sim: Simulator;
  let other: RawServer;
  const clients: TokenHubClient[] = [];

  function client(options: Partial<ClientOptions> = {}): TokenHubClient {
    const created = createTokenHubClient({
      baseUrl: sim.baseUrl,
      timeouts: TIMEOUTS,
      maxResponseBytes: CAP,
      ...options,
    });
    clients.push(created);
    return created;
  }

  before(async () => {
    other = await startRaw((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(COMPLETION);
    });
    sim = await startSimulator({ redirectTo: `${other.origin}/v1/chat/completions` });
  });
  after(async () => {
    await sim.close();
    await other.close();
  });
  beforeEach(() => {
    sim.useScenario("happy");
    sim.reset();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it("sends the quickstart's probe once and parses a JSON completion", async () => {
    const c = client();
    assert.equal(c.endpoint.href, `${sim.baseUrl}/chat/completions`);
    const response = expectResponse(await c.chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.status, 200);
    assert.equal(response.body.kind, "json");
    assert.equal(response.headers["x-request-id"], "req-1");
    assert.ok(response.latencyMs >= 0);

    assert.equal(sim.requests.length, 1);
    const [request] = sim.requests;
    assert.equal(request?.method, "POST");
    assert.equal(request?.path, "/v1/chat/completions");
    assert.equal(request?.authorization, "present");
    assert.deepEqual(request?.keyLeaks, []);
    assert.match(request?.headers["content-type"] ?? "", /^application\/json/);
    assert.deepEqual(request?.body, {
      model: MODEL,
      messages: [{ role: "user", content: "Reply with OK only." }],
      max_tokens: 32,
      temperature: 0,
    });

    const outcome = expectKind(classify(response), "ok");
    assert.equal(outcome.content, "OK");
    assert.equal(outcome.model, MODEL);
    assert.equal(outcome.streamed, false);
    assert.equal(outcome.requestId, "req-1");
  });

  it("never keeps the key or request headers in what it returns", async () => {
    const response = await client().chat({ model: MODEL, stream: false, key: KEY });
    const text = JSON.stringify(response);
    assert.ok(!text.includes(KEY_VALUE));
    assert.ok(!/authorization/i.test(text));
  });

  it("sends the key the simulator accepts (Bearer) and reads its 401 as unauthorized", async () => {
    const strict = await startSimulator({ acceptKeys: [KEY_VALUE] });
    try {
      const c = client({ baseUrl: strict.baseUrl });
      assert.equal(classify(await c.chat({ model: MODEL, stream: false, key: KEY })).kind, "ok");
      const wrong = parseKey("sk-test-wrong-key-0000", "event");
      assert.equal(classify(await c.chat({ model: MODEL, stream: false, key: wrong })).kind, "unauthorized");
    } finally {
      await strict.close();
    }
  });

  it("makes exactly one attempt per call, whatever the status", async () => {
    sim.useScenario("server-503-always");
    const response = expectResponse(await client().chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.status, 503);
    assert.equal(expectKind(classify(response), "retryable").reason, "server_error");
    assert.equal(sim.requests.length, 1);
  });

  it("keeps Retry-After for classify", async () => {
    sim.useScenario("rate-limited-ms");
    const response = expectResponse(await client().chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.headers["retry-after-ms"], "150");
    assert.equal(expectKind(classify(response), "retryable").retryAfterMs, 150);
  });

  it("asks for a stream and assembles its deltas into OK", async () => {
    sim.useScenario("stream-happy");
    const response = expectResponse(await client().chat({ model: MODEL, stream: true, key: KEY }));
    const [request] = sim.requests;
    assert.ok(request);
    assert.equal((request.body as { stream?: unknown }).stream, true);
    assert.match(request.headers.accept ?? "", /text\/event-stream/);
    assert.equal(response.body.kind, "stream");
    const outcome = expectKind(classify(response), "ok");
    assert.equal(outcome.content, "OK");
    assert.equal(outcome.streamed, true);
  });

  it("reports a stream error event and a stream without an end", async () => {
    sim.useScenario("stream-error-event");
    const failed = await client().chat({ model: MODEL, stream: true, key: KEY });
    assert.match(expectKind(classify(failed), "retryable").message, /upstream failed/);
    sim.useScenario("stream-no-done");
    const cut = await client().chat({ model: MODEL, stream: true, key: KEY });
    assert.equal(expectKind(classify(cut), "invalidResponse").reason, "stream_incomplete");
  });

  it("stops at the cap on an oversized body, from its content-length, without reading it", async () => {
    sim.useScenario("oversized");
    const started = performance.now();
    const response = await client({ maxResponseBytes: 1024 * 1024 }).chat({
      model: MODEL,
      stream: false,
      key: KEY,
    });
    assert.equal(response.type, "overflow");
    assert.equal(response.type === "overflow" && response.limitBytes, 1024 * 1024);
    assert.equal(response.type === "overflow" && response.status, 200);
    assert.equal(expectKind(classify(response), "invalidResponse").reason, "oversized");
    assert.ok(performance.now() - started < 1000);
  });

  it("applies a small cap to an ordinary body with a content-length", async () => {
    const response = await client({ maxResponseBytes: 100 }).chat({ model: MODEL, stream: false, key: KEY });
    assert.equal(response.type, "overflow");
    const fits = await client({ maxResponseBytes: 100_000 }).chat({ model: MODEL, stream: false, key: KEY });
    assert.equal(fits.type, "response");
  });

  it("applies the cap to a stream, which has no content-length", async () => {
    const response = await client({ maxResponseBytes: 300 }).chat({ model: MODEL, stream: true, key: KEY });
    assert.equal(response.type, "overflow");
  });

  it("returns cut-off JSON as a malformed body", async () => {
    sim.useScenario("malformed-json");
    const response = expectResponse(await client().chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.body.kind, "malformed");
    assert.equal(expectKind(classify(response), "invalidResponse").reason, "malformed_body");
  });

  it("reports a connection dropped before the headers as a transport error, then succeeds", async () => {
    sim.useScenario("reset-then-ok");
    const c = client();
    const first = expectTransport(await c.chat({ model: MODEL, stream: false, key: KEY }));
    assert.ok(["UND_ERR_SOCKET", "ECONNRESET"].includes(first.code), first.code);
    assert.equal(first.phase, "headers");
    assert.equal(expectKind(classify(first), "retryable").reason, "network");
    const second = await c.chat({ model: MODEL, stream: false, key: KEY });
    assert.equal(classify(second).kind, "ok");
  });

  it("reports a connection dropped mid-body as a transport error during the body", async () => {
    sim.useScenario("reset-mid-body-always");
    const response = expectTransport(await client().chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.phase, "body");
    assert.equal(expectKind(classify(response), "retryable").reason, "network");
  });

  it("gives up on slow headers after headersMs", async () => {
    sim.useScenario("slow-headers");
    const started = performance.now();
    const c = client({ timeouts: { ...TIMEOUTS, headersMs: 150 } });
    const response = expectTransport(await c.chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.code, "UND_ERR_HEADERS_TIMEOUT");
    assert.equal(expectKind(classify(response), "retryable").reason, "timeout");
    // undici runs headersTimeout on its fast timers (about 1 s resolution), so 150 ms may fire up to ~1 s late.
    assert.ok(performance.now() - started < 2500);
  });

  it("gives up on a silent body after bodyMs", async () => {
    // The next chunk comes long after bodyMs, even with undici's ~1 s timer resolution; closing ends the wait.
    sim.useScenario(inline([{ sse: ["{}", "{}", "{}"], chunkDelayMs: 5000 }]));
    const c = client({ timeouts: { ...TIMEOUTS, bodyMs: 150 } });
    const response = expectTransport(await c.chat({ model: MODEL, stream: true, key: KEY }));
    assert.equal(response.code, "UND_ERR_BODY_TIMEOUT");
    assert.equal(response.phase, "body");
    assert.equal(expectKind(classify(response), "retryable").reason, "timeout");
  });

  it("enforces requestMs over the whole request, headers or body", async () => {
    sim.useScenario("slow-headers");
    const c = client({ timeouts: { ...TIMEOUTS, headersMs: 5000, requestMs: 150 } });
    const waiting = expectTransport(await c.chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(waiting.code, "request_timeout");
    assert.equal(waiting.phase, "headers");
    assert.equal(expectKind(classify(waiting), "retryable").reason, "timeout");

    // Each chunk arrives within bodyMs, but the whole stream takes longer than requestMs.
    sim.useScenario(inline([{ sse: Array.from({ length: 20 }, () => "{}"), chunkDelayMs: 50 }]));
    const trickling = expectTransport(await c.chat({ model: MODEL, stream: true, key: KEY }));
    assert.equal(trickling.code, "request_timeout");
    assert.equal(trickling.phase, "body");
  });

  it("rejects (no outcome) when the caller aborts while waiting for headers", async () => {
    sim.useScenario("slow-headers");
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("left requesting")), 50);
    await assert.rejects(
      client().chat({ model: MODEL, stream: false, key: KEY, signal: controller.signal }),
      /left requesting/,
    );
  });

  it("rejects (no outcome) when the caller aborts mid-body", async () => {
    sim.useScenario(inline([{ sse: Array.from({ length: 20 }, () => "{}"), chunkDelayMs: 50 }]));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 120);
    await assert.rejects(
      client().chat({ model: MODEL, stream: true, key: KEY, signal: controller.signal }),
      (err: Error) => err.name === "AbortError",
    );
  });

  it("rejects at once for a signal that is already aborted", async () => {
    await assert.rejects(
      client().chat({ model: MODEL, stream: false, key: KEY, signal: AbortSignal.abort() }),
      (err: Error) => err.name === "AbortError",
    );
  });

  it("does not follow a redirect, so the key never reaches the other origin", async () => {
    sim.useScenario("redirect");
    const response = expectResponse(await client().chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.status, 302);
    assert.equal(response.headers.location, `${other.origin}/v1/chat/completions`);
    assert.equal(other.requests.length, 0, "the other origin got no request, so no Authorization either");
    assert.equal(sim.requests.length, 1);
    const outcome = expectKind(classify(response), "fatal");
    assert.equal(outcome.code, "redirect_refused");
    assert.ok(outcome.message.includes(other.origin), outcome.message);
    assert.ok(!outcome.message.includes("/v1/chat/completions"), outcome.message);
  });

  it("reports a TLS failure (https to a plain-http port) as fatal tls_failure", async () => {
    const c = client({ baseUrl: `https://127.0.0.1:${sim.port}/v1` });
    const response = expectTransport(await c.chat({ model: MODEL, stream: false, key: KEY }));
    assert.equal(response.phase, "connect");
    assert.equal(expectKind(classify(response), "fatal").code, "tls_failure");
  });
});

// ---- transport without the simulator ----------------------------------------------------------------------

describe("TokenHub client: connection refused", () => {
  it("reports ECONNREFUSED as a retryable transport error in the connect phase", async () => {
    const port = await closedPort();
    const c = createTokenHubClient({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      timeouts: TIMEOUTS,
      maxResponseBytes: CAP,
    });
    try {
      const response = expectTransport(await c.chat({ model: MODEL, stream: false, key: KEY }));
      assert.equal(response.code, "ECONNREFUSED");
      assert.equal(response.phase, "connect");
      assert.equal(expectKind(classify(response), "retryable").reason, "unreachable");
    } finally {
      await c.close();
    }
  });
});

describe("TokenHub client: content encodings", () => {
  const servers: RawServer[] = [];
  const clients: TokenHubClient[] = [];

  async function probe(
    handler: Parameters<typeof startRaw>[0],
    maxResponseBytes = CAP,
  ): Promise<{ response: ProbeResponse; server: RawServer }> {
    const server = await startRaw(handler);
    servers.push(server);
    const c = createTokenHubClient({ baseUrl: `${server.origin}/v1`, timeouts: TIMEOUTS, maxResponseBytes });
    clients.push(c);
    return { response: await c.chat({ model: MODEL, stream: false, key: KEY }), server };
  }

  function encoded(encoding: string, body: Buffer) {
    return (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": encoding,
        "content-length": String(body.length),
      });
      res.end(body);
    };
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it("decodes a gzip JSON body", async () => {
    const { response } = await probe(encoded("gzip", gzipSync(COMPLETION)));
    assert.equal(expectResponse(response).body.kind, "json");
    assert.equal(expectKind(classify(response), "ok").content, "OK");
  });

  it("decodes a brotli JSON body", async () => {
    const { response } = await probe(encoded("br", brotliCompressSync(COMPLETION)));
    assert.equal(expectKind(classify(response), "ok").content, "OK");
  });

  it("reads gzip that lies (plain bytes) as a malformed body", async () => {
    const { response } = await probe(encoded("gzip", Buffer.from(COMPLETION)));
    const body = expectResponse(response).body;
    assert.equal(body.kind, "malformed");
    assert.match(body.kind === "malformed" ? body.reason : "", /gzip/);
    assert.equal(expectKind(classify(response), "invalidResponse").reason, "malformed_body");
  });

  it("reads deflate and brotli that lie as a malformed body too", async () => {
    for (const encoding of ["deflate", "br"]) {
      const { response } = await probe(encoded(encoding, Buffer.from(COMPLETION)));
      const body = expectResponse(response).body;
      assert.equal(body.kind, "malformed", encoding);
      assert.match(body.kind === "malformed" ? body.reason : "", new RegExp(`decode as ${encoding}`));
    }
  });

  it("reads a truncated gzip body as malformed", async () => {
    const zipped = gzipSync(COMPLETION);
    const { response } = await probe(encoded("gzip", zipped.subarray(0, zipped.length - 10)));
    assert.equal(expectResponse(response).body.kind, "malformed");
  });

  it("reads an unsupported encoding as a malformed body", async () => {
    const { response } = await probe(encoded("zstd", Buffer.from(COMPLETION)));
    const body = expectResponse(response).body;
    assert.equal(body.kind, "malformed");
    assert.match(body.kind === "malformed" ? body.reason : "", /unsupported content-encoding "zstd"/);
  });

  it("counts the cap after decompression: a small gzip bomb is an overflow", async () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20)); // ~16 KiB on the wire, 16 MiB inflated
    assert.ok(bomb.length < CAP);
    const { response } = await probe(encoded("gzip", bomb));
    assert.equal(response.type, "overflow");
  });

  it("stops and returns on a large gzip bomb without inflating or downloading all of it", async () => {
    // Many gzip members in a row are one valid gzip stream: 128 x 16 MiB of spaces (~2 GiB) in ~2 MiB.
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20));
    const bomb = Buffer.concat(Array.from({ length: 128 }, () => member));
    const started = performance.now();
    const { response } = await probe(encoded("gzip", bomb));
    assert.equal(response.type, "overflow");
    assert.ok(performance.now() - started < 3000, "returned without inflating 2 GiB");
  });

  it("stops reading a chunked body past the cap instead of downloading it all", async () => {
    const total = 64 * 1024 * 1024;
    const { response, server } = await probe((_req, res, stats) => {
      res.writeHead(200, { "content-type": "application/json" }); // no content-length: chunked
      const piece = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (stats.bytesWritten < total && !res.destroyed) {
          stats.bytesWritten += piece.length;
          if (!res.write(piece)) return void res.once("drain", pump);
        }
        if (!res.destroyed) res.end(() => (stats.finished = true));
      };
      res.on("error", () => {});
      pump();
    });
    assert.equal(response.type, "overflow");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.stats.finished, false);
    assert.ok(server.stats.bytesWritten < total / 2, `the server wrote ${server.stats.bytesWritten} bytes`);
  });
});

// ---- base URL ---------------------------------------------------------------------------------------------

describe("parseBaseUrl and endpointUrl", () => {
  function configError(fn: () => unknown, code: string): void {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.code, code);
      assert.ok(err.remedy.length > 0);
      return true;
    });
  }

  it("refuses plain http to a non-loopback host", () => {
    configError(() => parseBaseUrl("http://tokenhub.link/v1"), "insecure_base_url");
    configError(() => parseBaseUrl("http://10.0.0.1/v1"), "insecure_base_url");
    configError(() => parseBaseUrl("http://127.0.0.1.nip.io/v1"), "insecure_base_url");
    configError(() => parseBaseUrl("ftp://tokenhub.link/v1"), "insecure_base_url");
  });

  it("refuses plain http to names that only DNS would call loopback", () => {
    // glibc asks DNS for these unless the hosts file lists them; the answer could be any address.
    for (const raw of ["http://sim.localhost/v1", "http://localhost./v1", "http://ip6-localhost/v1"]) {
      configError(() => parseBaseUrl(raw), "insecure_base_url");
    }
    assert.ok(parseBaseUrl("https://sim.localhost/v1") instanceof URL, "https is fine anywhere");
  });

  it("accepts https anywhere and plain http on loopback", () => {
    for (const raw of [
      "https://tokenhub.link/v1",
      "http://127.0.0.1:1/v1",
      "http://127.8.9.10/v1",
      "http://localhost/v1",
      "http://LOCALHOST:8080/v1",
      "http://[::1]/v1",
      "http://[::1]:8080/v1",
      "http://[0:0:0:0:0:0:0:1]/v1",
    ]) {
      assert.ok(parseBaseUrl(raw) instanceof URL, raw);
    }
  });

  it("refuses credentials in the URL and garbage", () => {
    configError(() => parseBaseUrl("https://user:pw@tokenhub.link/v1"), "invalid_base_url");
    configError(() => parseBaseUrl("https://user@tokenhub.link/v1"), "invalid_base_url");
    for (const raw of ["", "tokenhub.link/v1", "not a url", "https://", "://x"]) {
      configError(() => parseBaseUrl(raw), "invalid_base_url");
    }
  });

  it("never puts the credentials of a refused URL in the error", () => {
    assert.throws(
      () => parseBaseUrl("https://user:hunter2pw@tokenhub.link/v1"),
      (err: Error) => !err.message.includes("hunter2pw"),
    );
  });

  it("joins the endpoint path with and without a trailing slash", () => {
    const want = "https://tokenhub.link/v1/chat/completions";
    assert.equal(endpointUrl(parseBaseUrl("https://tokenhub.link/v1"), "chat/completions").href, want);
    assert.equal(endpointUrl(parseBaseUrl("https://tokenhub.link/v1/"), "chat/completions").href, want);
    assert.equal(endpointUrl(parseBaseUrl("https://tokenhub.link/v1"), "/chat/completions").href, want);
    assert.equal(
      endpointUrl(parseBaseUrl("https://tokenhub.link"), "chat/completions").href,
      "https://tokenhub.link/chat/completions",
    );
    assert.equal(
      endpointUrl(parseBaseUrl("https://tokenhub.link/v1?x=1#f"), "chat/completions").href,
      want,
      "query and fragment of the base are dropped",
    );
  });

  it("keeps the endpoint on the base's origin even when the base path looks protocol-relative", () => {
    const url = endpointUrl(parseBaseUrl("https://tokenhub.link//elsewhere.example/v1"), "chat/completions");
    assert.equal(url.origin, "https://tokenhub.link");
    assert.equal(url.pathname, "//elsewhere.example/v1/chat/completions");
  });

  it("sends the key only to the base's origin when the base path starts with //", async () => {
    const target = await startRaw((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"error":{"message":"Unknown route","code":"not_found"}}');
    });
    const c = createTokenHubClient({
      baseUrl: `${target.origin}//localhost:1/v1`,
      timeouts: TIMEOUTS,
      maxResponseBytes: CAP,
    });
    try {
      assert.equal(c.endpoint.origin, target.origin);
      const response = await c.chat({ model: MODEL, stream: false, key: KEY });
      assert.equal(response.type, "response");
      assert.equal(target.requests.length, 1);
      assert.equal(target.requests[0]?.url, "//localhost:1/v1/chat/completions");
    } finally {
      await c.close();
      await target.close();
    }
  });

  it("createTokenHubClient refuses an insecure base before sending anything", async (t) => {
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((info) => info && info.family === "IPv4" && !info.internal)?.address;
    if (lan === undefined) {
      t.skip("no non-loopback IPv4 interface to listen on");
      return;
    }
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, lan, resolve));
    const { port } = server.address() as AddressInfo;
    try {
      assert.throws(
        () =>
          createTokenHubClient({
            baseUrl: `http://${lan}:${port}/v1`,
            timeouts: TIMEOUTS,
            maxResponseBytes: CAP,
          }),
        (err: unknown) => err instanceof ConfigError && err.code === "insecure_base_url",
      );
      assert.throws(
        () =>
          createTokenHubClient({
            baseUrl: "http://tokenhub.link/v1",
            timeouts: TIMEOUTS,
            maxResponseBytes: CAP,
          }),
        (err: unknown) => err instanceof ConfigError && err.code === "insecure_base_url",
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(requests, 0);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  });
});
