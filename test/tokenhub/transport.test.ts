// transport.ts against real servers: the one error reader on failures undici really produces (a refused
// connection, TLS handshakes that fail, a headers timeout), the one dispatcher factory against a real forward
// proxy in its own process (test/helpers/proxy-server.ts), and undici loaded only when a request is sent.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Dispatcher } from "undici";
import {
  createDispatcher,
  type DispatcherOptions,
  loadUndici,
  proxyFromEnv,
  readTransportError,
  type TransportFailure,
} from "../../src/tokenhub/transport.ts";
import { type ProxyProcess, startProxyProcess } from "../helpers/proxy-process.ts";

const PROXY_NAMES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

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

/** One GET through a dispatcher built from `options`, closed after: the body, or the error as read. */
async function get(
  url: string,
  options: DispatcherOptions,
): Promise<{ status: number; body: string } | TransportFailure> {
  const { request } = await loadUndici();
  const dispatcher: Dispatcher = await createDispatcher(options);
  try {
    const res = await request(url, { dispatcher, signal: AbortSignal.timeout(5_000) });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (err) {
    return readTransportError(err);
  } finally {
    await dispatcher.close();
  }
}

describe("readTransportError on failures undici really produces", () => {
  const direct = { reach: "loopback", connectMs: 2_000, env: {} } as const;

  it("reads a refused connection: its code, its message, no connection made", async () => {
    const probe = createServer();
    const port = await listen(probe);
    await close(probe);
    const failure = await get(`http://127.0.0.1:${port}/`, direct);
    assert.deepEqual(
      { ...failure, message: undefined },
      {
        code: "ECONNREFUSED",
        message: undefined,
        connect: true,
        tls: false,
      },
    );
    assert.match((failure as TransportFailure).message, new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  });

  it("reads https to a server that does not speak TLS as a TLS failure", async () => {
    const plain = createServer((_req, res) => res.end("plain"));
    const port = await listen(plain);
    try {
      const failure = (await get(`https://127.0.0.1:${port}/`, direct)) as TransportFailure;
      assert.match(failure.code, /^ERR_SSL_/, JSON.stringify(failure));
      assert.equal(failure.tls, true);
      assert.equal(failure.connect, true);
    } finally {
      await close(plain);
    }
  });

  const openssl = spawnSync("openssl", ["version"]).status === 0;
  it("reads a self-signed certificate as a TLS failure", {
    skip: openssl ? false : "openssl is not installed",
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "tokenhub-tls-"));
    try {
      const made = spawnSync(
        "openssl",
        [
          ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
          ["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2"],
          ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ].flat(),
      );
      assert.equal(made.status, 0, String(made.stderr));
      const server = createHttpsServer(
        { key: await readFile(join(dir, "key.pem")), cert: await readFile(join(dir, "cert.pem")) },
        (_req, res) => res.end("secret"),
      );
      const port = await listen(server);
      try {
        const failure = (await get(`https://127.0.0.1:${port}/`, direct)) as TransportFailure;
        assert.equal(failure.code, "DEPTH_ZERO_SELF_SIGNED_CERT", JSON.stringify(failure));
        assert.equal(failure.tls, true);
        assert.equal(failure.connect, true);
        assert.match(failure.message, /self-signed/);
      } finally {
        await close(server);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads the dispatcher's headers timeout as a failure after the connection was made", async () => {
    const silent = createServer(() => {});
    const port = await listen(silent);
    try {
      // undici runs headersTimeout on its fast timers (about 1 s resolution): 100 ms fires within ~1 s.
      const failure = await get(`http://127.0.0.1:${port}/`, { ...direct, headersMs: 100 });
      assert.deepEqual(
        { ...failure, message: "" },
        {
          code: "UND_ERR_HEADERS_TIMEOUT",
          message: "",
          connect: false,
          tls: false,
        },
      );
    } finally {
      await close(silent);
    }
  });

  it("takes the code from the cause, and an empty message from the first inner error", () => {
    const wrapped = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNRESET" }),
    });
    assert.deepEqual(readTransportError(wrapped), {
      code: "ECONNRESET",
      message: "fetch failed",
      connect: false,
      tls: false,
    });
    const aggregate = Object.assign(
      new AggregateError([new Error("connect ECONNREFUSED ::1:443"), new Error("second")], ""),
      { code: "ECONNREFUSED" },
    );
    assert.equal(readTransportError(aggregate).message, "connect ECONNREFUSED ::1:443");
    assert.deepEqual(readTransportError("boom"), {
      code: "unknown",
      message: "boom",
      connect: false,
      tls: false,
    });
    assert.equal(readTransportError({ code: 23, message: "numeric code" }).code, "unknown");
  });
});

describe("createDispatcher: proxies from the environment", () => {
  let proxy: ProxyProcess;
  let target: Server;
  let port: number;
  let saved: Record<string, string | undefined>;

  before(async () => {
    // undici's EnvHttpProxyAgent falls back to process.env for what it is not given: only `env` may count here.
    saved = Object.fromEntries(PROXY_NAMES.map((n) => [n, process.env[n]]));
    for (const n of PROXY_NAMES) delete process.env[n];
    proxy = await startProxyProcess();
    target = createServer((req, res) => res.end(`direct ${req.url}`));
    port = await listen(target);
  });
  after(async () => {
    await proxy.close();
    await close(target);
    for (const n of PROXY_NAMES) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  });

  /** What the proxy reported for this run: its lines come from another process, so wait for them a while. */
  async function proxied(since: number, expected: number): Promise<typeof proxy.seen> {
    for (const until = Date.now() + 5_000; proxy.seen.length < since + expected && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 10));
    return proxy.seen.slice(since);
  }

  it("reads the variables in either case, upper case first", () => {
    assert.deepEqual(proxyFromEnv({ https_proxy: "http://a", HTTP_PROXY: "http://b", no_proxy: "x" }), {
      https: "http://a",
      http: "http://b",
      noProxy: "x",
    });
    assert.deepEqual(proxyFromEnv({ HTTPS_PROXY: "http://upper", https_proxy: "http://lower" }), {
      https: "http://upper",
    });
    assert.deepEqual(proxyFromEnv({ HTTPS_PROXY: "" }), {});
  });

  it("sends a remote reach through HTTP_PROXY or http_proxy", async () => {
    for (const env of [{ HTTP_PROXY: proxy.url }, { http_proxy: proxy.url }]) {
      const since = proxy.seen.length;
      const answer = await get(`http://127.0.0.1:${port}/via`, { reach: "any", connectMs: 2_000, env });
      assert.deepEqual(answer, { status: 200, body: "direct /via" }, JSON.stringify(env));
      assert.deepEqual(await proxied(since, 1), [
        { method: "GET", url: `http://127.0.0.1:${port}/via`, authorization: "absent" },
      ]);
    }
  });

  it("reaches loopback directly, whatever the proxy variables say", async () => {
    const since = proxy.seen.length;
    for (const env of [
      { HTTP_PROXY: proxy.url },
      { HTTPS_PROXY: proxy.url },
      { http_proxy: proxy.url, https_proxy: proxy.url },
    ]) {
      const answer = await get(`http://127.0.0.1:${port}/loop`, { reach: "loopback", connectMs: 2_000, env });
      assert.deepEqual(answer, { status: 200, body: "direct /loop" }, JSON.stringify(env));
    }
    // A request that does go through the proxy, so its report is a marker: nothing came before it.
    await get(`http://127.0.0.1:${port}/marker`, {
      reach: "any",
      connectMs: 2_000,
      env: { HTTP_PROXY: proxy.url },
    });
    const seen = await proxied(since, 1);
    assert.deepEqual(
      seen.map((s) => s.url),
      [`http://127.0.0.1:${port}/marker`],
    );
  });

  it("honours NO_PROXY and no_proxy", async () => {
    const since = proxy.seen.length;
    for (const env of [
      { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" },
      { http_proxy: proxy.url, no_proxy: `localhost,127.0.0.1:${port}` },
    ]) {
      const answer = await get(`http://127.0.0.1:${port}/np`, { reach: "any", connectMs: 2_000, env });
      assert.deepEqual(answer, { status: 200, body: "direct /np" }, JSON.stringify(env));
    }
    await get(`http://127.0.0.1:${port}/marker`, {
      reach: "any",
      connectMs: 2_000,
      env: { HTTP_PROXY: proxy.url },
    });
    assert.deepEqual(
      (await proxied(since, 1)).map((s) => s.url),
      [`http://127.0.0.1:${port}/marker`],
    );
  });

  it("on a public reach, refuses a name that resolves to a private address (no proxy set)", async () => {
    const failure = await get(`http://localhost:${port}/`, { reach: "public", connectMs: 2_000, env: {} });
    assert.equal((failure as TransportFailure).code, "ERR_MEDIA_PRIVATE_ADDRESS", JSON.stringify(failure));
    const any = await get(`http://localhost:${port}/ok`, { reach: "any", connectMs: 2_000, env: {} });
    assert.deepEqual(any, { status: 200, body: "direct /ok" });
  });
});

describe("loadUndici", () => {
  it("is not loaded by importing the modules that send requests, only by the first request", async () => {
    const modules = [
      "../../src/tokenhub/transport.ts",
      "../../src/tokenhub/client.ts",
      "../../src/tokenhub/download.ts",
      "../../src/tokenhub/reachability.ts",
      "../../src/cli/commands/doctor.ts",
      "../../src/index.ts",
    ].map((m) => new URL(m, import.meta.url).href);
    // A resolve hook in a child process sees every import of undici, however deep.
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ resolve(specifier, context, next) {
        if (specifier === "undici") seen.push(specifier);
        return next(specifier, context);
      } });
      for (const m of ${JSON.stringify(modules)}) await import(m);
      const atImport = seen.length;
      const { loadUndici } = await import(${JSON.stringify(modules[0])});
      await loadUndici();
      process.stdout.write(JSON.stringify({ atImport, afterLoad: seen.length }));
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], (error, stdout, stderr) =>
        error ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    assert.deepEqual(JSON.parse(out), { atImport: 0, afterLoad: 1 });
  });
});
