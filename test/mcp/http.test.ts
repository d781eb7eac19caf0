// `tokenhub-setup mcp --http`: Streamable HTTP on 127.0.0.1, driven by the SDK's client; and what a hostile
// page in the user's browser could try (DNS rebinding, a cross-site request) refused before any MCP handling.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { spawnCli } from "../helpers/cli.ts";
import { findLeaks } from "../helpers/leak-scan.ts";

const KEY = "sk-mcp-http-0123456789abcdef012";
const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

/** A POST with headers as given (fetch would set Host and Origin itself). */
function post(url: string, headers: Record<string, string>, body: string) {
  const target = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("tokenhub-setup mcp --http", () => {
  let sim: Simulator;
  let child: ReturnType<typeof spawnCli>;
  let url: string;
  let stderr = "";
  let home: string;
  const seen: string[] = [];
  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
    home = await mkdtemp(join(tmpdir(), "tokenhub-mcp-http-"));
    child = spawnCli(["mcp", "--http", "--json", "--base-url", sim.baseUrl], {
      TOKENHUB_API_KEY: KEY,
      HOME: home,
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString("utf8");
        const line = out.split("\n")[0];
        if (out.includes("\n") && line) resolve((JSON.parse(line) as { url: string }).url);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
  });
  after(async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
    await sim.close();
    await rm(home, { recursive: true, force: true });
    assert.deepEqual(
      findLeaks(
        [KEY],
        [
          ["stderr", stderr],
          ["answers", seen.join("\n")],
        ],
      ),
      [],
    );
  });

  it("prints {url} on 127.0.0.1 and serves the tool to the SDK's Streamable HTTP client", async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: "http-client", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ["tokenhub_setup"],
    );
    const result = (await client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    seen.push(JSON.stringify(result));
    assert.equal((result.structuredContent as { state: string }).state, "complete");
    await client.close();
  });

  it("two MCP sessions of clients with the same name keep their setups apart", async () => {
    const connect = async () => {
      const client = new Client({ name: "same-name", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      return client;
    };
    const first = await connect();
    const second = await connect();
    const a = (await first.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start", model: "alibaba/deepseek-v3.2" },
    })) as CallToolResult;
    assert.equal(
      (a.structuredContent as { record?: { model: string } }).record?.model,
      "alibaba/deepseek-v3.2",
    );
    // Shared, resume would report the first session's setup; apart, there is none to resume, and it starts.
    const b = (await second.callTool({
      name: "tokenhub_setup",
      arguments: { action: "resume" },
    })) as CallToolResult;
    seen.push(JSON.stringify(a), JSON.stringify(b));
    assert.equal((b.structuredContent as { record?: { model: string } }).record?.model, "deepseek-v3.2");
    await first.close();
    await second.close();
  });

  it("a session that ends takes its stored setup with it", async () => {
    const conversations = join(home, ".local", "state", "tokenhub-setup", "mcp", "conversations");
    const client = new Client({ name: "short-lived", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    await client.connect(transport);
    const before = await readdir(conversations).catch(() => [] as string[]);
    await client.callTool({ name: "tokenhub_setup", arguments: { action: "start" } });
    const during = await readdir(conversations);
    assert.equal(during.length, before.length + 1);
    await transport.terminateSession();
    await client.close();
    let after = during;
    for (let i = 0; i < 50 && after.length > before.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await readdir(conversations);
    }
    assert.deepEqual(after.sort(), before.sort());
  });

  it("refuses a Host that is not this listener (DNS rebinding): 421, before any MCP handling", async () => {
    const port = new URL(url).port;
    for (const host of [
      `evil.example:${port}`,
      `localhost.evil.example:${port}`,
      "127.0.0.1",
      `127.0.0.1:${Number(port) + 1}`,
    ]) {
      const r = await post(url, { host }, INITIALIZE);
      seen.push(r.body);
      assert.equal(r.status, 421, host);
    }
  });

  it("refuses a request from another origin (a page in the user's browser): 403", async () => {
    for (const origin of ["https://evil.example", "null", `http://localhost:${new URL(url).port}`]) {
      const r = await post(url, { origin }, INITIALIZE);
      seen.push(r.body);
      assert.equal(r.status, 403, origin);
    }
    // The same request from no page at all (a client) is served.
    const ok = await post(url, {}, INITIALIZE);
    assert.equal(ok.status, 200, ok.body);
  });

  it("answers only on /mcp, and a session it does not know is sent to initialize again", async () => {
    assert.equal((await post(new URL("/other", url).href, {}, INITIALIZE)).status, 404);
    const r = await post(url, { "mcp-session-id": "not-a-session" }, INITIALIZE);
    assert.equal(r.status, 404);
    assert.match(r.body, /initialize again/);
  });
});
