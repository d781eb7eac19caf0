import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { inspect } from "node:util";
import { gzipSync } from "node:zlib";
import { Agent } from "undici";
import { TokenHubSetupError } from "../../src/errors.ts";
import {
  closeMediaDispatchers,
  DEFAULT_MAX_MEDIA_BYTES,
  type DownloadRequest,
  describeUrl,
  downloadMedia,
  safeBaseName,
  saveMediaBytes,
} from "../../src/tokenhub/download.ts";
import { MediaError } from "../../src/tokenhub/media-file.ts";
import { isPrivateAddress, publicOnlyLookup } from "../../src/tokenhub/private-address.ts";

// ---- fixtures -----------------------------------------------------------------------------------------------

const PNG_MAGIC = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0]);
const MP4_MAGIC = Buffer.from([0, 0, 0, 0x18, ...Buffer.from("ftypisom"), 0, 0, 2, 0]);
const MOV_MAGIC = Buffer.from([0, 0, 0, 0x14, ...Buffer.from("ftypqt  "), 0, 0, 2, 0]);
const WEBM_MAGIC = Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1]);

/** A file of `size` bytes that sniffs as the given magic (the rest is random, so it does not compress). */
function media(magic: Buffer, size: number): Buffer {
  const out = randomBytes(Math.max(size, magic.length));
  magic.copy(out);
  return out;
}
const png = (size = 4096) => media(PNG_MAGIC, size);
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** What a signed storage link carries in its query; it must never appear in any output. */
const SECRET = "SIGNATURE-d41d8cd98f00b204e980";
const SIGNED = `?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Signature=${SECRET}&X-Tos-Expires=86400`;

const TIMEOUTS = { connectMs: 1000, headersMs: 3000, bodyMs: 3000, requestMs: 8000 };
const CAP = 1024 * 1024;

// ---- helpers ------------------------------------------------------------------------------------------------

interface TestServer {
  origin: string;
  requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

/** A real node:http server on loopback; the handler scripts the response. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, server: TestServer) => void | Promise<void>,
): Promise<TestServer> {
  const requests: TestServer["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    void Promise.resolve(handler(req, res, self)).catch((err: unknown) => {
      res.destroy(err as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const self: TestServer = {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(self);
  return self;
}

/** A server answering every request with one body. */
function serveBody(body: Buffer, headers: Record<string, string | number> = { "content-type": "image/png" }) {
  return serve((_req, res) => {
    res.writeHead(200, { "content-length": body.length, ...headers });
    res.end(body);
  });
}

let dir: string;

/**
 * A download as the simulator's flows make it: the test servers stand in for object storage on loopback, which
 * is allowed only because the API is on loopback too (see "a remote API's links" for the other case).
 */
function request(url: string, overrides: Partial<DownloadRequest> = {}): DownloadRequest {
  return {
    url,
    kind: "image",
    dir,
    baseName: "image-test",
    maxBytes: CAP,
    timeouts: TIMEOUTS,
    allowPrivateHosts: true,
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<MediaError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MediaError, `expected a MediaError, got ${inspect(err)}`);
    assert.ok(err instanceof TokenHubSetupError);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.length > 0 && !err.message.includes("\n"), "one-line message");
    assert.ok(err.remedy.length > 0, "has a remedy");
    assertNoSecret(err);
    return err;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

function assertNoSecret(err: unknown): void {
  const e = err as { message?: string; remedy?: string; stack?: string };
  for (const text of [e.message, e.remedy, e.stack, inspect(err, { depth: 10 })]) {
    assert.ok(!String(text).includes(SECRET), `the signed query leaked: ${text}`);
    assert.ok(!String(text).includes("X-Tos-"), `the query leaked: ${text}`);
  }
}

async function listing(path = dir): Promise<string[]> {
  return (await readdir(path)).sort();
}

async function assertDirEmpty(path = dir): Promise<void> {
  assert.deepEqual(await listing(path), [], "nothing may be left behind");
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `predicate` holds, polling; fails after `ms`. */
async function until(predicate: () => Promise<boolean> | boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) assert.fail("condition not met in time");
    await sleep(10);
  }
}

/** Writes chunks on a timer until the client goes away; resolves with the bytes handed to the socket. */
function stream(res: ServerResponse, first: Buffer, chunk: Buffer, everyMs: number): Promise<number> {
  let sent = 0;
  const done = deferred<number>();
  res.write(first);
  sent += first.length;
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) return;
    res.write(chunk);
    sent += chunk.length;
  }, everyMs);
  res.on("close", () => {
    clearInterval(timer);
    done.resolve(sent);
  });
  return done.promise;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokenhub-download-"));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

after(async () => {
  await closeMediaDispatchers();
});

// ---- tests --------------------------------------------------------------------------------------------------

describe("downloadMedia: a successful download", () => {
  it("streams the body to <dir>/<baseName>.<ext> and reports size, type and sha256", async () => {
    const body = png(300_000);
    const server = await serveBody(body);
    const saved = await downloadMedia(request(`${server.origin}/files/out.png${SIGNED}`));

    assert.equal(saved.path, join(dir, "image-test.png"));
    assert.equal(saved.bytes, body.length);
    assert.equal(saved.mime, "image/png");
    assert.equal(saved.sha256, sha256(body));
    assert.deepEqual(await readFile(saved.path), body);
    assert.equal((await stat(saved.path)).mode & 0o777, 0o600);
    assert.deepEqual(await listing(), ["image-test.png"], "no temp file left");
  });

  it("sends no credential: only accept, accept-encoding: identity and user-agent (plus host/connection)", async () => {
    const server = await serveBody(png());
    await downloadMedia(request(`${server.origin}/a.png${SIGNED}`));

    const [seen] = server.requests;
    assert.ok(seen);
    assert.equal(seen.method, "GET");
    for (const name of ["authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"]) {
      assert.equal(seen.headers[name], undefined, name);
    }
    assert.deepEqual(
      Object.keys(seen.headers)
        .filter((h) => !["host", "connection"].includes(h))
        .sort(),
      ["accept", "accept-encoding", "user-agent"],
    );
    assert.equal(seen.headers["user-agent"], "tokenhub-setup");
    assert.equal(seen.headers["accept-encoding"], "identity");
    assert.match(String(seen.headers.accept), /^image\/\*/);
    assert.equal(seen.url, `/a.png${SIGNED}`, "the signed query is still sent to the server itself");
  });

  it("saves videos with the extension of what the bytes are, not of the URL", async () => {
    const cases: [Buffer, string, string][] = [
      [MP4_MAGIC, "video/mp4", "mp4"],
      [MOV_MAGIC, "video/quicktime", "mov"],
      [WEBM_MAGIC, "video/webm", "webm"],
    ];
    for (const [magic, mime, ext] of cases) {
      const body = media(magic, 100_000);
      const server = await serveBody(body, { "content-type": "video/mp4" });
      const saved = await downloadMedia(
        request(`${server.origin}/clip.gif`, { kind: "video", baseName: `video-${ext}` }),
      );
      assert.equal(saved.mime, mime);
      assert.equal(saved.path, join(dir, `video-${ext}.${ext}`));
      assert.equal(saved.sha256, sha256(body));
    }
  });

  it("accepts application/octet-stream, binary/octet-stream and no content-type: the bytes decide", async () => {
    for (const [i, type] of ["application/octet-stream", "binary/octet-stream", undefined].entries()) {
      const body = png(2000);
      const server = await serve((_req, res) => {
        res.writeHead(200, type ? { "content-type": type } : {});
        res.end(body);
      });
      const saved = await downloadMedia(request(`${server.origin}/x`, { baseName: `img-${i}` }));
      assert.equal(saved.mime, "image/png");
    }
    assert.deepEqual(await listing(), ["img-0.png", "img-1.png", "img-2.png"]);
  });

  it("saves a body shorter than the sniff window (a tiny JPEG)", async () => {
    const body = media(JPEG_MAGIC, 20);
    const server = await serveBody(body, { "content-type": "image/jpeg" });
    const saved = await downloadMedia(request(`${server.origin}/t.jpg`));
    assert.equal(saved.path, join(dir, "image-test.jpg"));
    assert.deepEqual(await readFile(saved.path), body);
  });

  it("creates a missing output folder with mode 0700", async () => {
    const server = await serveBody(png());
    const nested = join(dir, "media", "2026");
    const saved = await downloadMedia(request(`${server.origin}/a`, { dir: nested }));
    assert.equal(saved.path, join(nested, "image-test.png"));
    assert.equal((await stat(nested)).mode & 0o777, 0o700);
  });

  it("never overwrites: an existing name gets -1, -2 …", async () => {
    await writeFile(join(dir, "image-test.png"), "keep me");
    await writeFile(join(dir, "image-test-1.png"), "keep me too");
    const server = await serveBody(png());
    const first = await downloadMedia(request(`${server.origin}/a`));
    const second = await downloadMedia(request(`${server.origin}/a`));
    assert.equal(first.path, join(dir, "image-test-2.png"));
    assert.equal(second.path, join(dir, "image-test-3.png"));
    assert.equal(await readFile(join(dir, "image-test.png"), "utf8"), "keep me");
    assert.equal(await readFile(join(dir, "image-test-1.png"), "utf8"), "keep me too");
  });

  it("parallel downloads with the same base name each get their own file", async () => {
    const bodies = Array.from({ length: 6 }, () => png(50_000));
    let n = 0;
    const server = await serve((_req, res) => {
      const body = bodies[n++] as Buffer;
      res.writeHead(200, { "content-type": "image/png", "content-length": body.length });
      res.end(body);
    });
    const saved = await Promise.all(bodies.map(() => downloadMedia(request(`${server.origin}/p`))));
    assert.equal(new Set(saved.map((s) => s.path)).size, 6);
    assert.deepEqual(new Set(saved.map((s) => s.sha256)), new Set(bodies.map(sha256)));
    assert.equal((await listing()).length, 6);
  });

  it("names the file from baseName only, sanitised; the URL's file name is never used", async () => {
    const server = await serveBody(png());
    const cases: [string, string][] = [
      ["../../etc/passwd", "etc-passwd.png"],
      [".hidden", "hidden.png"],
      ["a/b\\c:d*e?f", "a-b-c-d-e-f.png"],
      ["   ", "image.png"],
      ["..", "image-1.png"], // the same fallback name again: never overwritten
      ["x".repeat(300), `${"x".repeat(100)}.png`],
    ];
    for (const [baseName, expected] of cases) {
      const saved = await downloadMedia(request(`${server.origin}/..%2F..%2Fevil.sh`, { baseName }));
      assert.equal(saved.path, join(dir, expected), baseName);
    }
    assert.equal((await listing()).length, cases.length);
  });

  it("uses a caller's dispatcher when given, and leaves it open", async () => {
    const agent = new Agent();
    let connects = 0;
    agent.on("connect", () => connects++);
    try {
      const server = await serveBody(png());
      await downloadMedia(request(`${server.origin}/a`, { dispatcher: agent }));
      assert.equal(connects, 1);
      assert.equal(agent.closed, false);
    } finally {
      await agent.close();
    }
  });
});

describe("downloadMedia: URL rules", () => {
  it("refuses non-https schemes, plain http off loopback, credentials and garbage before any request", async () => {
    const server = await serveBody(png());
    const port = new URL(server.origin).port;
    const refused = [
      `http://example.com/a.png${SIGNED}`,
      `http://10.0.0.1/a.png${SIGNED}`,
      `http://localhost.example.com:${port}/a.png`,
      "file:///etc/passwd",
      `data:image/png;base64,${PNG_MAGIC.toString("base64")}`,
      "ftp://example.com/a.png",
      "javascript:alert(1)",
      `http://user:pass@127.0.0.1:${port}/a.png`,
      `https://user@example.com/a.png${SIGNED}`,
      "not a url",
      "",
    ];
    for (const url of refused) {
      const err = await rejectsWith(downloadMedia(request(url)), "media_url_refused");
      assert.ok(!err.message.includes("pass@"), err.message);
    }
    assert.equal(server.requests.length, 0);
    await assertDirEmpty();
  });

  it("allows plain http on a loopback address", async () => {
    const server = await serveBody(png());
    const port = new URL(server.origin).port;
    await downloadMedia(request(`http://127.0.0.1:${port}/a`));
    assert.equal(server.requests.length, 1);
  });
});

describe("downloadMedia: a remote API's links (server-side request forgery)", () => {
  const remote = { allowPrivateHosts: false };

  it("refuses loopback, private, link-local and metadata hosts before any connection", async () => {
    const storage = await serveBody(png());
    const port = new URL(storage.origin).port;
    for (const url of [
      `http://127.0.0.1:${port}/media/image.png`,
      `https://127.0.0.1:${port}/media/image.png`,
      `https://localhost:${port}/media/image.png`,
      `https://[::1]:${port}/media/image.png`,
      `https://[::ffff:127.0.0.1]:${port}/media/image.png`,
      "https://10.1.2.3/image.png",
      "https://172.16.0.9/image.png",
      "https://192.168.1.20/image.png",
      "https://169.254.169.254/latest/meta-data/",
      "https://100.64.0.1/image.png",
      "https://0.0.0.0/image.png",
      "https://[fe80::1]/image.png",
      "https://[fd00::1]/image.png",
      "http://storage.example.com/image.png",
    ]) {
      const err = await rejectsWith(downloadMedia(request(url, remote)), "media_url_refused");
      assert.match(err.message, /this machine or a private network|only https: is allowed/, url);
    }
    assert.equal(storage.requests.length, 0, "nothing reached the loopback server");
    await assertDirEmpty();
  });

  it("refuses a host name that resolves to this machine, when it is looked up", async (t) => {
    // /etc/hosts names other than localhost that point at loopback (`runsc`, `vm` on these machines).
    const hosts = existsSync("/etc/hosts") ? readFileSync("/etc/hosts", "utf8") : "";
    const name = /^127\.\S+\s+(?!localhost\b)([a-z][a-z0-9-]*)\s*$/m.exec(hosts)?.[1];
    if (!name) {
      t.skip("no loopback name besides localhost in /etc/hosts");
      return;
    }
    const storage = await serveBody(png());
    const url = `https://${name}:${new URL(storage.origin).port}/media/image.png`;
    const err = await rejectsWith(downloadMedia(request(url, remote)), "media_url_refused");
    assert.match(err.message, /resolves to a private or local address/);
    assert.equal(storage.requests.length, 0);
  });

  it("publicOnlyLookup refuses any private address in the answer, and passes public ones through", async () => {
    const answer = (addresses: Array<{ address: string; family: number }>) =>
      publicOnlyLookup((_name, cb) => cb(null, addresses));
    const lookup = (fn: ReturnType<typeof publicOnlyLookup>, all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        fn("cdn.example.com", { all }, (err, address) => resolve({ err, address })),
      );
    const mixed = await lookup(
      answer([
        { address: "93.184.216.34", family: 4 },
        { address: "10.0.0.5", family: 4 },
      ]),
      true,
    );
    assert.equal(mixed.err?.code, "ERR_MEDIA_PRIVATE_ADDRESS");
    const rebound = await lookup(answer([{ address: "::ffff:169.254.169.254", family: 6 }]), false);
    assert.equal(rebound.err?.code, "ERR_MEDIA_PRIVATE_ADDRESS");
    const ok = await lookup(answer([{ address: "93.184.216.34", family: 4 }]), false);
    assert.equal(ok.err, null);
    assert.equal(ok.address, "93.184.216.34");
  });

  it("isPrivateAddress knows the ranges, in every notation", () => {
    for (const ip of [
      "127.0.0.1",
      "127.255.1.2",
      "10.0.0.1",
      "172.31.255.255",
      "192.168.0.1",
      "169.254.169.254",
      "100.100.100.200",
      "192.0.2.2",
      "203.0.113.9",
      "fec0::1",
      "0.0.0.0",
      "255.255.255.255",
      "::1",
      "[::1]",
      "::",
      "fe80::1",
      "fc00::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "64:ff9b::a9fe:a9fe",
    ])
      assert.equal(isPrivateAddress(ip), true, ip);
    for (const ip of [
      "8.8.8.8",
      "93.184.216.34",
      "172.32.0.1",
      "2606:4700::1111",
      "::ffff:8.8.8.8",
      "example.com",
    ])
      assert.equal(isPrivateAddress(ip), false, ip);
  });
});

describe("downloadMedia: redirects", () => {
  it("follows 301, 302, 303, 307 and 308 across origins, each hop without credentials", async () => {
    const body = png(10_000);
    const target = await serveBody(body);
    for (const status of [301, 302, 303, 307, 308]) {
      const hop = await serve((_req, res) => {
        res.writeHead(status, { location: `${target.origin}/final.png${SIGNED}` });
        res.end("moved");
      });
      const saved = await downloadMedia(request(`${hop.origin}/start${SIGNED}`, { baseName: `r${status}` }));
      assert.equal(saved.sha256, sha256(body));
      for (const seen of [...hop.requests, ...target.requests]) {
        assert.equal(seen.headers.authorization, undefined);
        assert.equal(seen.headers.cookie, undefined);
      }
    }
    assert.equal(target.requests.length, 5);
  });

  it("resolves a relative Location against the current URL", async () => {
    const body = png();
    const server = await serve((req, res) => {
      if (req.url === "/a/start") {
        res.writeHead(302, { location: "../b/final" });
        res.end();
      } else if (req.url === "/b/final") {
        res.writeHead(200, { "content-type": "image/png" });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const saved = await downloadMedia(request(`${server.origin}/a/start`));
    assert.equal(saved.sha256, sha256(body));
  });

  it("follows at most maxRedirects (default 3)", async () => {
    const body = png();
    // /hop/N redirects to /hop/N-1; /hop/0 is the file.
    const server = await serve((req, res) => {
      const n = Number(new URL(req.url ?? "", "http://x").pathname.split("/")[2]);
      if (n > 0) {
        res.writeHead(302, { location: `/hop/${n - 1}` });
        res.end();
      } else {
        res.writeHead(200, { "content-type": "image/png" });
        res.end(body);
      }
    });
    await downloadMedia(request(`${server.origin}/hop/3`));
    const err = await rejectsWith(
      downloadMedia(request(`${server.origin}/hop/4${SIGNED}`)),
      "media_redirects",
    );
    assert.match(err.message, /more than 3 times/);
    await rejectsWith(
      downloadMedia(request(`${server.origin}/hop/2`, { maxRedirects: 1 })),
      "media_redirects",
    );
    await rejectsWith(
      downloadMedia(request(`${server.origin}/hop/1`, { maxRedirects: 0 })),
      "media_redirects",
    );
    await downloadMedia(request(`${server.origin}/hop/5`, { maxRedirects: 5 }));
    assert.equal((await listing()).length, 2);
  });

  it("re-checks every hop: a redirect to plain http off loopback, file: or credentials is refused", async () => {
    for (const location of [
      `http://example.com/a.png${SIGNED}`,
      "file:///etc/passwd",
      "http://user:pass@127.0.0.1:1/a.png",
      "ftp://example.com/a.png",
    ]) {
      const hop = await serve((_req, res) => {
        res.writeHead(302, { location });
        res.end();
      });
      const err = await rejectsWith(downloadMedia(request(`${hop.origin}/start`)), "media_url_refused");
      assert.ok(!err.message.includes("pass@"), err.message);
    }
    await assertDirEmpty();
  });

  it("a 3xx without Location is an HTTP error", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(302);
      res.end();
    });
    const err = await rejectsWith(downloadMedia(request(`${server.origin}/a`)), "media_http_error");
    assert.match(err.message, /HTTP 302/);
  });
});

describe("downloadMedia: HTTP errors", () => {
  for (const status of [403, 404, 410, 500, 503]) {
    it(`HTTP ${status} is media_http_error with the status and the expiry hint`, async () => {
      const server = await serve((_req, res) => {
        res.writeHead(status, { "content-type": "application/xml" });
        res.end(`<?xml version="1.0"?><Error><Code>AccessDenied</Code><Sig>${SECRET}</Sig></Error>`);
      });
      const err = await rejectsWith(
        downloadMedia(request(`${server.origin}/a.png${SIGNED}`)),
        "media_http_error",
      );
      assert.match(err.message, new RegExp(`HTTP ${status}`));
      assert.match(err.message, new RegExp(`${server.origin}/a\\.png`), "origin and path are shown");
      assert.match(err.remedy, /24 hours/);
      assert.match(err.remedy, /run the check again/);
      await assertDirEmpty();
    });
  }
});

describe("downloadMedia: size cap", () => {
  it("refuses a Content-Length over the cap before reading the body", async () => {
    let closed = false;
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": CAP * 50 });
      res.write(png(1024));
      // Never sends the rest: only a client that trusted the header and stopped can finish quickly.
      res.on("close", () => {
        closed = true;
      });
    });
    const started = Date.now();
    const err = await rejectsWith(downloadMedia(request(`${server.origin}/a${SIGNED}`)), "media_too_large");
    assert.ok(Date.now() - started < 1500, "refused without waiting for the body");
    assert.match(err.message, /1 MiB limit \(50 MiB\)/);
    await until(() => closed);
    await assertDirEmpty();
  });

  it("aborts a chunked body as soon as it passes the cap, and closes the connection", async () => {
    const sent = deferred<number>();
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      void stream(res, png(16 * 1024), randomBytes(16 * 1024), 1).then(sent.resolve);
    });
    await rejectsWith(
      downloadMedia(request(`${server.origin}/endless`, { maxBytes: 256 * 1024 })),
      "media_too_large",
    );
    const total = await Promise.race([sent.promise, sleep(3000).then(() => -1)]);
    assert.ok(total > 0, "the server saw the connection close");
    await assertDirEmpty();
  });

  it("accepts exactly maxBytes and refuses one byte more", async () => {
    const exact = png(5000);
    const over = png(5001);
    const server = await serve((req, res) => {
      res.writeHead(200, { "content-type": "image/png" }); // chunked: no length to trust
      res.end(req.url === "/exact" ? exact : over);
    });
    const saved = await downloadMedia(request(`${server.origin}/exact`, { maxBytes: 5000 }));
    assert.equal(saved.bytes, 5000);
    await rejectsWith(downloadMedia(request(`${server.origin}/over`, { maxBytes: 5000 })), "media_too_large");
    assert.deepEqual(await listing(), ["image-test.png"]);
  });

  it("streams to a 0600 temp file in dir while the body is still arriving (nothing buffered whole)", async () => {
    const half = png(1024 * 1024);
    const rest = randomBytes(1024 * 1024);
    const onDisk = deferred();
    const server = await serve(async (_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": half.length + rest.length });
      res.write(half);
      await onDisk.promise;
      res.end(rest);
    });
    const download = downloadMedia(request(`${server.origin}/big`, { maxBytes: 4 * CAP }));
    let tempName = "";
    await until(async () => {
      const names = await listing();
      tempName = names.find((n) => n.endsWith(".tmp")) ?? "";
      return tempName !== "" && (await stat(join(dir, tempName))).size >= half.length;
    });
    assert.match(tempName, new RegExp(`^\\.image-test\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
    assert.equal((await stat(join(dir, tempName))).mode & 0o777, 0o600);
    onDisk.resolve();
    const saved = await download;
    assert.equal(saved.bytes, half.length + rest.length);
    assert.deepEqual(await listing(), ["image-test.png"]);
  });

  it("a cap that is not a positive number is a programming error, not 'no cap'", async () => {
    for (const maxBytes of [Number.NaN, 0, -1]) {
      await assert.rejects(downloadMedia(request("https://example.com/a.png", { maxBytes })), RangeError);
      await assert.rejects(
        saveMediaBytes(png(), { kind: "image", dir, baseName: "x", maxBytes }),
        RangeError,
      );
    }
    await assertDirEmpty();
  });

  it("exports a 200 MiB default cap", () => {
    assert.equal(DEFAULT_MAX_MEDIA_BYTES, 200 * 1024 * 1024);
  });
});

describe("downloadMedia: content type", () => {
  it("refuses a non-media Content-Type, naming it", async () => {
    const server = await serveBody(png(), { "content-type": "text/html; charset=utf-8" });
    const err = await rejectsWith(downloadMedia(request(`${server.origin}/a${SIGNED}`)), "media_wrong_type");
    assert.match(err.message, /text\/html/);
    await assertDirEmpty();
  });

  it("refuses the other kind by header", async () => {
    const server = await serveBody(png(), { "content-type": "image/png" });
    const err = await rejectsWith(
      downloadMedia(request(`${server.origin}/a`, { kind: "video" })),
      "media_wrong_type",
    );
    assert.match(err.message, /image\/png/);
  });

  it("sniffs the bytes behind a generic type: an HTML page, JSON, or unrecognised bytes", async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from(`<!DOCTYPE html><html><body>${"expired ".repeat(40)}</body></html>`), /text\/html/],
      [Buffer.from(JSON.stringify({ error: { message: "expired", pad: "x".repeat(100) } })), /JSON/],
      [randomBytes(5000).fill(0, 0, 16), /unrecognised bytes/],
    ];
    for (const [body, found] of cases) {
      const server = await serveBody(body, { "content-type": "application/octet-stream" });
      const err = await rejectsWith(
        downloadMedia(request(`${server.origin}/a${SIGNED}`)),
        "media_wrong_type",
      );
      assert.match(err.message, found);
    }
    await assertDirEmpty();
  });

  it("refuses media of the other kind by its bytes, naming what it is", async () => {
    const server = await serveBody(png(), { "content-type": "application/octet-stream" });
    const err = await rejectsWith(
      downloadMedia(request(`${server.origin}/a`, { kind: "video" })),
      "media_wrong_type",
    );
    assert.match(err.message, /an image \(image\/png\)/);
    const mp4 = await serveBody(media(MP4_MAGIC, 5000), { "content-type": "image/png" });
    const err2 = await rejectsWith(downloadMedia(request(`${mp4.origin}/a`)), "media_wrong_type");
    assert.match(err2.message, /a video \(video\/mp4\)/);
    await assertDirEmpty();
  });

  it("an empty body is media_empty (Content-Length 0, chunked, 204)", async () => {
    const server = await serve((req, res) => {
      if (req.url === "/zero") res.writeHead(200, { "content-type": "image/png", "content-length": 0 });
      else if (req.url === "/chunked") res.writeHead(200, { "content-type": "image/png" });
      else res.writeHead(204);
      res.end();
    });
    for (const path of ["/zero", "/chunked", "/no-content"]) {
      await rejectsWith(downloadMedia(request(`${server.origin}${path}${SIGNED}`)), "media_empty");
    }
    await assertDirEmpty();
  });
});

describe("downloadMedia: content-encoding", () => {
  it("decodes gzip although identity was asked for; size and hash are of the decoded bytes", async () => {
    const body = png(200_000);
    const server = await serveBody(gzipSync(body), {
      "content-type": "image/png",
      "content-encoding": "gzip",
    });
    const saved = await downloadMedia(request(`${server.origin}/a`));
    assert.equal(saved.bytes, body.length);
    assert.equal(saved.sha256, sha256(body));
    assert.deepEqual(await readFile(saved.path), body);
  });

  it("a gzip bomb hits the cap on the decoded size", async () => {
    const bomb = gzipSync(Buffer.concat([PNG_MAGIC, Buffer.alloc(64 * 1024 * 1024)]));
    assert.ok(bomb.length < CAP / 4, "small on the wire");
    const server = await serveBody(bomb, { "content-type": "image/png", "content-encoding": "gzip" });
    const err = await rejectsWith(downloadMedia(request(`${server.origin}/bomb`)), "media_too_large");
    assert.match(err.message, /1 MiB limit/);
    await assertDirEmpty();
  });

  it("a body that does not decode is a network error; an unknown encoding a wrong type", async () => {
    const broken = await serveBody(Buffer.concat([gzipSync(png(100_000)).subarray(0, 5000)]), {
      "content-type": "image/png",
      "content-encoding": "gzip",
    });
    await rejectsWith(downloadMedia(request(`${broken.origin}/a${SIGNED}`)), "media_network");
    const odd = await serveBody(png(), { "content-type": "image/png", "content-encoding": "compress" });
    const err = await rejectsWith(downloadMedia(request(`${odd.origin}/a`)), "media_wrong_type");
    assert.match(err.message, /content-encoding compress/);
    await assertDirEmpty();
  });
});

describe("downloadMedia: network failures and timeouts", () => {
  it("a connection reset mid-body is media_network with the error code; the temp file is removed", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": 1024 * 1024 });
      res.write(png(200_000), () => setTimeout(() => res.socket?.destroy(), 50));
    });
    const err = await rejectsWith(downloadMedia(request(`${server.origin}/a${SIGNED}`)), "media_network");
    assert.match(err.message, /UND_ERR_SOCKET|ECONNRESET/);
    assert.match(err.message, new RegExp(`${server.origin}/a`));
    await assertDirEmpty();
  });

  it("a refused connection is media_network", async () => {
    const server = await serveBody(png());
    const origin = server.origin;
    await server.close();
    const err = await rejectsWith(downloadMedia(request(`${origin}/a${SIGNED}`)), "media_network");
    assert.match(err.message, /ECONNREFUSED/);
  });

  it("headersMs: a server that never answers", async () => {
    const server = await serve(() => {});
    const err = await rejectsWith(
      downloadMedia(request(`${server.origin}/a${SIGNED}`, { timeouts: { ...TIMEOUTS, headersMs: 300 } })),
      "media_network",
    );
    assert.match(err.message, /UND_ERR_HEADERS_TIMEOUT/);
    await assertDirEmpty();
  });

  it("bodyMs: a body that stalls after the temp file exists", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": 100_000 });
      res.write(png(10_000));
    });
    const err = await rejectsWith(
      downloadMedia(request(`${server.origin}/a${SIGNED}`, { timeouts: { ...TIMEOUTS, bodyMs: 300 } })),
      "media_network",
    );
    assert.match(err.message, /UND_ERR_BODY_TIMEOUT/);
    await assertDirEmpty();
  });

  it("requestMs: a body that trickles forever hits the overall deadline", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      void stream(res, png(1000), randomBytes(100), 50);
    });
    const started = Date.now();
    const err = await rejectsWith(
      downloadMedia(request(`${server.origin}/a${SIGNED}`, { timeouts: { ...TIMEOUTS, requestMs: 600 } })),
      "media_network",
    );
    assert.ok(Date.now() - started < 2500);
    assert.match(err.message, /took longer than 600 ms/);
    await assertDirEmpty();
  });
});

describe("downloadMedia: proxies from the environment", () => {
  const NAMES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];
  let saved: Record<string, string | undefined> = {};

  beforeEach(async () => {
    saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));
    for (const n of NAMES) delete process.env[n];
    await closeMediaDispatchers(); // the module's Agents read the environment when created
  });

  afterEach(async () => {
    for (const n of NAMES) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
    await closeMediaDispatchers();
  });

  it("tunnels a remote https link through HTTPS_PROXY, sending the proxy no credential", async () => {
    const connects: { target: string; headers: IncomingHttpHeaders }[] = [];
    const proxy = createServer();
    proxy.on("connect", (req: IncomingMessage, socket) => {
      connects.push({ target: req.url ?? "", headers: req.headers });
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      process.env.HTTPS_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      await rejectsWith(downloadMedia(request(`https://media.example.com/a.png${SIGNED}`)), "media_network");
      assert.equal(connects.length, 1);
      assert.equal(connects[0]?.target, "media.example.com:443");
      for (const name of ["authorization", "proxy-authorization", "cookie"]) {
        assert.equal(connects[0]?.headers[name], undefined, name);
      }
    } finally {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
    }
  });

  it("fetches loopback links directly: a proxy would answer from its own loopback", async () => {
    const dead = await serve(() => {});
    const deadOrigin = dead.origin;
    await dead.close();
    process.env.HTTPS_PROXY = deadOrigin;
    process.env.HTTP_PROXY = deadOrigin;
    const server = await serveBody(png());
    const saved = await downloadMedia(request(`${server.origin}/a`));
    assert.equal(saved.mime, "image/png");
  });
});

describe("downloadMedia: cancellation", () => {
  it("an abort mid-body rejects with the signal's reason and removes the temp file", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      void stream(res, png(300 * 1024), randomBytes(1024), 20);
    });
    const controller = new AbortController();
    const reason = new Error("the user went away");
    const download = downloadMedia(
      request(`${server.origin}/a`, {
        signal: controller.signal,
        onProgress: () => controller.abort(reason),
      }),
    );
    await assert.rejects(download, (err) => err === reason);
    await assertDirEmpty();
  });

  it("an abort while waiting for headers rejects with the reason", async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 100);
    await assert.rejects(
      downloadMedia(request(`${server.origin}/a`, { signal: controller.signal })),
      (err: Error) => err.message === "stop",
    );
  });

  it("an already-aborted signal sends no request", async () => {
    const server = await serveBody(png());
    const reason = new Error("already gone");
    await assert.rejects(
      downloadMedia(request(`${server.origin}/a`, { signal: AbortSignal.abort(reason) })),
      (err) => err === reason,
    );
    assert.equal(server.requests.length, 0);
    await assertDirEmpty();
  });
});

describe("downloadMedia: progress", () => {
  it("is throttled to 256 KiB / 250 ms steps, with total from Content-Length, and ends with a final call", async () => {
    const body = png(3 * 1024 * 1024);
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": body.length });
      res.end(body);
    });
    const calls: { bytes: number; total: number | null; at: number }[] = [];
    const started = performance.now();
    const saved = await downloadMedia(
      request(`${server.origin}/a`, {
        maxBytes: 8 * CAP,
        onProgress: (p) => calls.push({ ...p, at: performance.now() }),
      }),
    );
    const elapsed = performance.now() - started;
    assert.ok(calls.length >= 2, `${calls.length} calls`);
    assert.ok(calls.length <= 3 * 4 + 1 + Math.ceil(elapsed / 250), `${calls.length} calls is not throttled`);
    assert.deepEqual(calls.at(-1) && { bytes: calls.at(-1)?.bytes, total: calls.at(-1)?.total }, {
      bytes: saved.bytes,
      total: body.length,
    });
    for (let i = 1; i < calls.length - 1; i++) {
      const prev = calls[i - 1] as (typeof calls)[number];
      const cur = calls[i] as (typeof calls)[number];
      assert.ok(cur.bytes >= prev.bytes);
      assert.ok(cur.bytes - prev.bytes >= 256 * 1024 || cur.at - prev.at >= 249, `call ${i} came too soon`);
    }
  });

  it("reports a null total for a chunked body, and survives a callback that throws", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      res.end(png(600 * 1024));
    });
    const totals: (number | null)[] = [];
    const saved = await downloadMedia(
      request(`${server.origin}/a`, {
        onProgress: (p) => {
          totals.push(p.total);
          throw new Error("a broken progress bar");
        },
      }),
    );
    assert.ok(totals.length >= 1);
    assert.ok(totals.every((t) => t === null));
    assert.equal(saved.bytes, 600 * 1024);
  });
});

describe("saveMediaBytes", () => {
  const opts = () => ({ kind: "image" as const, dir, baseName: "image-b64", maxBytes: CAP });

  it("saves decoded base64 bytes with the sniffed extension, 0600, and no temp left", async () => {
    const data = png(10_000);
    const saved = await saveMediaBytes(data, opts());
    assert.deepEqual(saved, {
      path: join(dir, "image-b64.png"),
      bytes: data.length,
      mime: "image/png",
      sha256: sha256(data),
    });
    assert.deepEqual(await readFile(saved.path), data);
    assert.equal((await stat(saved.path)).mode & 0o777, 0o600);
    assert.deepEqual(await listing(), ["image-b64.png"]);
  });

  it("never overwrites and sanitises the base name", async () => {
    const a = await saveMediaBytes(png(), opts());
    const b = await saveMediaBytes(png(), opts());
    const c = await saveMediaBytes(media(JPEG_MAGIC, 100), { ...opts(), baseName: "../x/../y" });
    assert.equal(a.path, join(dir, "image-b64.png"));
    assert.equal(b.path, join(dir, "image-b64-1.png"));
    assert.equal(c.path, join(dir, "x-..-y.jpg"));
  });

  it("many concurrent saves under one name never lose a file", async () => {
    const all = Array.from({ length: 10 }, () => png(1000));
    const saved = await Promise.all(all.map((d) => saveMediaBytes(d, opts())));
    assert.equal(new Set(saved.map((s) => s.path)).size, 10);
    assert.equal((await listing()).length, 10);
  });

  it("refuses empty, oversized, non-media and other-kind bytes, leaving nothing", async () => {
    await rejectsWith(saveMediaBytes(new Uint8Array(), opts()), "media_empty");
    const big = await rejectsWith(saveMediaBytes(png(CAP + 1), opts()), "media_too_large");
    assert.match(big.message, /1 MiB limit/);
    const html = await rejectsWith(
      saveMediaBytes(Buffer.from("<!doctype html><title>nope</title>"), opts()),
      "media_wrong_type",
    );
    assert.match(html.message, /text\/html/);
    await rejectsWith(saveMediaBytes(Buffer.from("short"), opts()), "media_wrong_type");
    const video = await rejectsWith(saveMediaBytes(png(), { ...opts(), kind: "video" }), "media_wrong_type");
    assert.match(video.message, /an image \(image\/png\)/);
    await assertDirEmpty();
  });

  it("reports an unwritable folder as media_write_failed", async () => {
    const file = join(dir, "not-a-folder");
    await writeFile(file, "x");
    await rejectsWith(saveMediaBytes(png(), { ...opts(), dir: join(file, "sub") }), "media_write_failed");
  });

  it("removes temp files that dead writers left behind, and only those", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    assert.ok(dead > 0);
    const stale = `.image-old.${dead}.0123456789ab.tmp`;
    const mine = `.image-mine.${process.pid}.0123456789ab.tmp`;
    const unrelated = [".image-old.tmp", "notes.tmp", `.x.${dead}.nothex.tmp`];
    for (const name of [stale, mine, ...unrelated]) await writeFile(join(dir, name), "partial");
    await saveMediaBytes(png(), opts());
    assert.deepEqual(await listing(), [mine, ...unrelated, "image-b64.png"].sort());
  });
});

describe("describeUrl and safeBaseName", () => {
  it("describeUrl shows origin and path only, never query, fragment or credentials", () => {
    assert.equal(
      describeUrl(`https://u:p@bucket.example.com/media/a.png${SIGNED}#frag`),
      "https://bucket.example.com/media/a.png",
    );
    assert.equal(describeUrl(new URL("http://127.0.0.1:8080/x?token=1")), "http://127.0.0.1:8080/x");
    assert.equal(describeUrl("data:image/png;base64,AAAA"), "data:");
    assert.equal(describeUrl("file:///etc/passwd"), "file:");
    assert.equal(describeUrl("::nonsense"), "an unparsable URL");
    const long = describeUrl(`https://example.com/${"a".repeat(500)}${SIGNED}`);
    assert.equal(long.length, 200);
    assert.ok(long.endsWith("…"));
  });

  it("safeBaseName keeps [A-Za-z0-9._-], drops leading dots, caps at 100, falls back", () => {
    assert.equal(safeBaseName("image-2026-11-24T22-50-00Z", "image"), "image-2026-11-24T22-50-00Z");
    assert.equal(safeBaseName("../../../etc/passwd", "image"), "etc-passwd");
    assert.equal(safeBaseName("..", "video"), "video");
    assert.equal(safeBaseName("a\u0000b\nc d/é", "image"), "a-b-c-d");
    assert.equal(safeBaseName("x".repeat(150), "image").length, 100);
    for (const raw of ["/", "\\", ".", "....", "a/../b", "C:\\Windows"]) {
      const safe = safeBaseName(raw, "image");
      assert.match(safe, /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/, raw);
    }
  });
});
