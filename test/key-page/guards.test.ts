// The key page against hostile requests, over real HTTP: a real server on 127.0.0.1, a real openKeyEntry whose
// probe goes to the simulator. Each refusal is checked for its status, its headers, that it says nothing of the
// link, and that nothing was stored or probed. FUZZ_SEED replays the generated cases (fast-check prints it).
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import fc from "fast-check";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { findLeaks } from "../helpers/leak-scan.ts";
import { type Answer, createTranscript, formPost, GOOD, type Opened, openTestPage } from "./fixture.ts";

const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };

/** The headers every answer carries, refusals included. */
function assertHardened(answer: Answer, what: string): void {
  const h = answer.headers;
  assert.equal(h["cache-control"], "no-store", `${what}: Cache-Control`);
  assert.equal(h["content-type"], "text/html; charset=utf-8", `${what}: Content-Type`);
  assert.equal(h["x-content-type-options"], "nosniff", `${what}: nosniff`);
  assert.equal(h["x-frame-options"], "DENY", `${what}: X-Frame-Options`);
  assert.equal(h["referrer-policy"], "same-origin", `${what}: Referrer-Policy`);
  const csp = String(h["content-security-policy"]);
  for (const directive of [
    "default-src 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ])
    assert.ok(csp.includes(directive), `${what}: CSP has ${directive}: ${csp}`);
  assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/, `${what}: the style is allowed by hash only`);
  assert.doesNotMatch(csp, /script-src|unsafe-inline/, `${what}: no script at all`);
}

/** A request with a Host header of our choosing (undici sets Host from the URL; node:http lets it be forged). */
function withHost(port: number, path: string, host: string, init: { method?: string; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method: init.method ?? "GET", headers: { host }, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("the key page refuses what its own form would not send", () => {
  let sim: Simulator;
  let opened: Opened;
  let url: string;
  const transcript = createTranscript();
  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
  });
  after(() => sim.close());
  beforeEach(async () => {
    sim.reset();
    opened = await openTestPage(sim);
    url = opened.page.url;
  });
  afterEach(async () => {
    await opened.close();
    // Nothing hostile got a key stored or made the page probe TokenHub.
    assert.deepEqual(opened.stored, []);
    assert.equal(sim.requests.length, 0);
    assert.deepEqual(findLeaks([GOOD], [...transcript.channels, ["log", opened.lines.join("\n")]]), []);
    assert.ok(!opened.lines.join("\n").includes(opened.path.slice(1)), "the token is in no log line");
  });

  it("answers its own link with the form and every protective header", async () => {
    const answer = await transcript.send(url);
    assert.equal(answer.status, 200);
    assertHardened(answer, "the form");
    assert.match(answer.body, /<form method="post" action="\/[A-Za-z0-9_-]{43}">/);
  });

  it("refuses another Host (DNS rebinding) with 421, on GET and POST, saying nothing of the link", async () => {
    const { port, path } = opened;
    for (const host of [
      `evil.example:${port}`,
      `localhost:${port}`,
      "127.0.0.1",
      `127.0.0.1:${port + 1}`,
      `127.0.0.1:${port}.evil.example`,
      `[::1]:${port}`,
      `0x7f000001:${port}`,
    ]) {
      for (const method of ["GET", "POST"]) {
        const answer = transcript.keep(
          `${method} host ${host}`,
          await withHost(port, path, host, { method, body: `key=${GOOD}` }),
        );
        assert.equal(answer.status, 421, `${method} with Host ${host}`);
        assertHardened(answer, `Host ${host}`);
        assert.ok(!answer.body.includes(path.slice(1)), "the refusal does not name the token");
        assert.doesNotMatch(answer.body, /<form/);
      }
    }
    assert.ok(opened.events().some((e) => e.msg === "request refused" && e.reason === "host"));
  });

  it("refuses a POST from another origin, with Origin null, or with none, with 403", async () => {
    for (const origin of ["https://evil.example", "null", `http://localhost:${opened.port}`, undefined]) {
      const post = formPost(origin ?? "", { key: GOOD });
      if (origin === undefined) delete post.headers?.origin;
      const answer = await transcript.send(url, post);
      assert.equal(answer.status, 403, `Origin ${origin}`);
      assertHardened(answer, `Origin ${origin}`);
      assert.equal(answer.headers.connection, "close", "the unread body is not kept waiting");
    }
  });

  it("refuses methods other than GET and POST with 405 and says which are allowed", async () => {
    for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) {
      const answer = await transcript.send(url, { method });
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.allow, "GET, POST");
      assert.equal(answer.headers["cache-control"], "no-store");
    }
  });

  it("refuses a body that is not the form's (JSON, multipart, text/plain) with 415", async () => {
    const types = [
      "application/json",
      "multipart/form-data; boundary=x",
      "text/plain",
      "",
      "application/x-www-form",
    ];
    for (const type of types) {
      const post = formPost(opened.origin, { key: GOOD });
      const answer = await transcript.send(url, {
        ...post,
        headers: { ...post.headers, "content-type": type },
      });
      assert.equal(answer.status, 415, `Content-Type ${type || "(none)"}`);
      assertHardened(answer, `Content-Type ${type}`);
    }
  });

  it("refuses a body larger than any key with 413, declared or streamed", async () => {
    const big = `key=${"k".repeat(20_000)}`;
    const declared = await transcript.send(url, { ...formPost(opened.origin, {}), body: big });
    assert.equal(declared.status, 413);
    assertHardened(declared, "declared too large");
    // No Content-Length: counted as it arrives, refused once past the cap.
    const chunks = Readable.from(Array.from({ length: 40 }, () => Buffer.from("k".repeat(1024))));
    const streamed = await transcript.send(url, { ...formPost(opened.origin, {}), body: chunks });
    assert.equal(streamed.status, 413);
    assert.ok(opened.events().some((e) => e.reason === "too-large"));
  });

  it("answers an unknown path or token with the same bare 404", async () => {
    const token = opened.path.slice(1);
    const near = `/${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    const paths = ["/", "/favicon.ico", near, `/${token}x`, `/${token.slice(0, 20)}`, `${opened.path}/`];
    const bodies = new Set<string>();
    for (const path of paths) {
      const answer = await transcript.send(opened.origin + path);
      assert.equal(answer.status, 404, path);
      assertHardened(answer, path);
      bodies.add(answer.body);
      const post = await transcript.send(opened.origin + path, formPost(opened.origin, { key: GOOD }));
      assert.equal(post.status, 404, `POST ${path}`);
      bodies.add(post.body);
    }
    assert.equal(bodies.size, 1, "every unknown path gets the same answer");
    assert.ok(![...bodies][0]?.includes(token.slice(0, 8)));
  });

  it("generated paths and Origins: only its own token opens the form, only its own Origin may post", async () => {
    const pathArb = fc.oneof(
      fc.webPath(),
      fc.string({ minLength: 43, maxLength: 43, unit: fc.constantFrom(..."AZaz09-_") }).map((s) => `/${s}`),
    );
    await fc.assert(
      fc.asyncProperty(pathArb, async (path) => {
        fc.pre(path !== opened.path && path.startsWith("/"));
        const answer = await transcript.send(opened.origin + path);
        assert.equal(answer.status, 404, path);
      }),
      { numRuns: 60, ...SEED },
    );
    // Any web origin, and 127.0.0.1 itself on another port or scheme (another local server, say).
    const originArb = fc.oneof(
      fc.webUrl({ authoritySettings: { withIPv4: true, withPort: true } }).map((u) => new URL(u).origin),
      fc
        .tuple(fc.constantFrom("http", "https"), fc.integer({ min: 1, max: 65535 }))
        .map(([scheme, port]) => `${scheme}://127.0.0.1:${port}`),
    );
    await fc.assert(
      fc.asyncProperty(originArb, async (origin) => {
        fc.pre(origin !== opened.origin);
        const answer = await transcript.send(url, formPost(origin, { key: GOOD }));
        assert.equal(answer.status, 403, origin);
      }),
      { numRuns: 40, ...SEED },
    );
  });
});
