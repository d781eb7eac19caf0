// probeReachability (what `doctor` asks of the network) against a real loopback server: the facts it returns,
// the request it sends (GET <base>/models, no key), a bounded body, and failures read by transport.ts.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { probeReachability } from "../../src/tokenhub/reachability.ts";

const TIMEOUTS = { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000 };

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe("probeReachability", () => {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  let server: Server;
  let base: URL;
  before(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
      if (req.url === "/endless/models") {
        // Never ends: the probe must stop at its cap, not wait for the end or a timeout.
        res.writeHead(200, { "content-type": "text/plain" });
        const timer = setInterval(() => res.write("x".repeat(16 * 1024)), 5);
        res.on("close", () => clearInterval(timer));
        return;
      }
      if (req.url === "/silent/models") return;
      res
        .writeHead(401, { "content-type": "application/json", date: "Tue, 24 Nov 2026 22:50:00 GMT" })
        .end(JSON.stringify({ error: { message: "missing key", type: "invalid_request_error" } }));
    });
    base = new URL(`http://127.0.0.1:${await listen(server)}/v1`);
  });
  after(() => close(server));

  it("returns the answer's facts for an unauthenticated GET of <base>/models", async () => {
    const since = seen.length;
    const answer = await probeReachability(base, { timeouts: TIMEOUTS, env: {} });
    assert.ok(answer.reached, JSON.stringify(answer));
    assert.equal(answer.status, 401);
    assert.equal(answer.contentType, "application/json");
    assert.deepEqual(JSON.parse(answer.body), {
      error: { message: "missing key", type: "invalid_request_error" },
    });
    assert.equal(answer.date, "Tue, 24 Nov 2026 22:50:00 GMT");
    assert.ok(Number.isInteger(answer.latencyMs) && answer.latencyMs >= 0);
    assert.equal(seen.length, since + 1);
    assert.equal(seen[since]?.method, "GET");
    assert.equal(seen[since]?.url, "/v1/models");
    assert.equal(seen[since]?.headers.authorization, undefined);
  });

  it("reaches a loopback base directly, whatever the proxy variables say", async () => {
    const dead = "http://127.0.0.1:9";
    const answer = await probeReachability(base, {
      timeouts: TIMEOUTS,
      env: { HTTP_PROXY: dead, HTTPS_PROXY: dead },
    });
    assert.equal(answer.reached && answer.status, 401, JSON.stringify(answer));
  });

  it("keeps the first bytes of a body that never ends and stops reading there", async () => {
    const endless = new URL(`${base.origin}/endless`);
    const answer = await probeReachability(endless, { timeouts: TIMEOUTS, env: {}, maxBodyBytes: 1000 });
    assert.ok(answer.reached, JSON.stringify(answer));
    assert.equal(answer.body, "x".repeat(1000));
  });

  it("reads a refused connection as a transport failure", async () => {
    const probe = createServer();
    const port = await listen(probe);
    await close(probe);
    const answer = await probeReachability(new URL(`http://127.0.0.1:${port}/v1`), {
      timeouts: TIMEOUTS,
      env: {},
    });
    assert.equal(answer.reached, false);
    assert.equal(!answer.reached && answer.failure.code, "ECONNREFUSED");
    assert.equal(!answer.reached && answer.failure.connect, true);
    assert.equal(!answer.reached && answer.failure.tls, false);
  });

  it("names its own whole-request limit, not the abort's", async () => {
    const silent = new URL(`${base.origin}/silent`);
    const answer = await probeReachability(silent, { timeouts: TIMEOUTS, env: {}, timeoutMs: 200 });
    assert.equal(answer.reached, false);
    assert.deepEqual(!answer.reached && answer.failure, {
      code: "request_timeout",
      message: "no answer within 200 ms",
      connect: false,
      tls: false,
    });
  });
});
