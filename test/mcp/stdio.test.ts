// `tokenhub-setup mcp` as an MCP client sees it: the official SDK's client over stdio, against the simulator
// (a real HTTP server on loopback). The record is checked against the quickstart page's template, and every
// message both ways, the server's stderr and its stored files are scanned for the key.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { findLeaks } from "../helpers/leak-scan.ts";
import { connectMcp, type McpSession, mcpChannels } from "../helpers/mcp-client.ts";
import { completionTemplate, NO_PAGE, pageText } from "../helpers/quickstart-page.ts";

const KEY = "sk-mcp-test-0123456789abcdef0123";
const manifest = JSON.parse(
  await readFile(new URL("../../skill.manifest.json", import.meta.url), "utf8"),
) as { entry: { mcp: { tools: string[] } } };

type Structured = {
  action: string;
  state: string;
  exitCode: number;
  record?: Record<string, unknown> & { model: string; result: { key_source: string } };
  needKey?: { reason: string; message: string; keyPage?: { url: string } };
  escalation?: { topic: string; failure: { code: string } };
};

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

async function filesUnder(dir: string): Promise<Array<readonly [string, string]>> {
  const out: Array<readonly [string, string]> = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push([`file ${path}`, await readFile(path, "utf8")]);
  }
  return out;
}

describe("tokenhub-setup mcp over stdio, with the SDK's client", () => {
  let sims: Simulator[] = [];
  let home: string;
  const sessions: McpSession[] = [];
  const sim = async (scenario: string) => {
    const s = await startSimulator({ scenario, acceptKeys: [KEY] });
    sims.push(s);
    return s;
  };
  const connect = async (args: string[], env: Record<string, string | undefined>, name?: string) => {
    const session = await connectMcp(args, { HOME: home, ...env }, name ? { name } : {});
    sessions.push(session);
    return session;
  };
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "tokenhub-mcp-home-"));
  });
  after(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
    // The key appears nowhere: MCP messages both ways, stderr, and every file the servers left in the home.
    const leaks = findLeaks([KEY], [...sessions.flatMap((s) => mcpChannels(s)), ...(await filesUnder(home))]);
    await rm(home, { recursive: true, force: true });
    assert.deepEqual(leaks, [], "the key leaked");
  });

  it("lists tokenhub_setup with a title, annotations, and an output schema holding the record", async () => {
    const s = await sim("happy");
    const mcp = await connect(["--base-url", s.baseUrl], { TOKENHUB_API_KEY: KEY });
    const { tools } = await mcp.client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ["tokenhub_setup"],
    );
    const tool = tools[0] as (typeof tools)[number];
    assert.equal(tool.title, "Set up TokenHub");
    assert.equal(tool.annotations?.readOnlyHint, false);
    assert.equal(tool.annotations?.openWorldHint, true);
    const action = (tool.inputSchema.properties as Record<string, { enum?: string[] }>).action;
    assert.deepEqual(action?.enum, ["start", "resume", "status", "cancel"]);
    // What the manifest tells a runtime is what the server lists.
    assert.deepEqual(
      tools.map((t) => t.name),
      manifest.entry.mcp.tools,
    );
    const record = ((tool.outputSchema?.properties ?? {}) as Record<string, { properties?: object }>).record;
    assert.ok(record?.properties && "integration_status" in record.properties, "the record's schema");
  });

  it("start: the record as structured content, its template fields the quickstart's", async (t) => {
    const s = await sim("happy");
    const statusFile = join(home, "start-record.json");
    const mcp = await connect(["--base-url", s.baseUrl, "--status-file", statusFile], {
      TOKENHUB_API_KEY: KEY,
    });
    // The SDK's client checks structuredContent against the tool's outputSchema: a mismatch throws here.
    const result = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    assert.equal(result.isError, undefined);
    const out = result.structuredContent as Structured;
    assert.equal(out.state, "complete");
    assert.equal(out.exitCode, 0);
    // What was written is what was returned.
    assert.deepEqual(out.record, JSON.parse(await readFile(statusFile, "utf8")));
    assert.equal(out.record?.result.key_source, "env");
    assert.match(textOf(result), /TokenHub integration verified: model deepseek-v3\.2/);
    assert.equal(s.requests.filter((r) => r.path.endsWith("/chat/completions")).length, 1);
    if (pageText === undefined) return t.skip(NO_PAGE);
    const template = completionTemplate();
    const record = out.record as Record<string, unknown>;
    assert.deepEqual(Object.keys(record).slice(0, 6), Object.keys(template));
    for (const [field, value] of Object.entries(template)) {
      if (value === "ISO-8601")
        assert.match(String(record[field]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      else assert.equal(record[field], value, field);
    }
  });

  it("503 on every attempt: three attempts, progress while it retries, then the escalation", async () => {
    const s = await sim("server-503-always");
    const mcp = await connect(["--base-url", s.baseUrl, "--status-file", join(home, "503.json")], {
      TOKENHUB_API_KEY: KEY,
    });
    const progress: string[] = [];
    const result = (await mcp.client.callTool(
      { name: "tokenhub_setup", arguments: { action: "start" } },
      undefined,
      {
        onprogress: (p) => progress.push(String(p.message)),
        timeout: 60_000,
      },
    )) as CallToolResult;
    const out = result.structuredContent as Structured;
    assert.equal(out.state, "escalated");
    assert.equal(out.exitCode, 5);
    assert.equal(out.escalation?.topic, "enterprise");
    assert.equal(s.requests.filter((r) => r.path.endsWith("/chat/completions")).length, 3);
    assert.match(textOf(result), /Enterprise Support/);
    assert.match(textOf(result), /Do not retry on your own/);
    assert.ok(progress.length >= 3, `progress notifications: ${JSON.stringify(progress)}`);
    assert.ok(progress.every((m) => m.startsWith("Step ")));
  });

  it("no key: it says how the user gives one without the chat, and cancel ends the setup", async () => {
    const s = await sim("happy");
    const mcp = await connect(
      ["--base-url", s.baseUrl, "--status-file", join(home, "nokey.json")],
      {},
      "cancel-client",
    );
    const waiting = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    const out = waiting.structuredContent as Structured;
    assert.equal(out.state, "awaitingKey");
    assert.equal(out.exitCode, 3);
    assert.equal(out.needKey?.reason, "missing");
    assert.match(textOf(waiting), /Do NOT ask the user to paste the key into this conversation/);
    assert.equal(s.requests.length, 0, "nothing is sent without a key");
    const cancelled = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "cancel" },
    })) as CallToolResult;
    assert.equal((cancelled.structuredContent as Structured).state, "cancelled");
    const again = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "cancel" },
    })) as CallToolResult;
    assert.match(textOf(again), /No TokenHub setup is in progress/);
  });

  it("a restarted server resumes the client's setup where it rested", async () => {
    const s = await sim("happy");
    const statusFile = join(home, "restart.json");
    const args = ["--base-url", s.baseUrl, "--status-file", statusFile];
    const first = await connect(args, {}, "restart-client");
    // A preference of the first call: only a resumed flow still has it after the restart.
    const waiting = (await first.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start", model: "alibaba/deepseek-v3.2" },
    })) as CallToolResult;
    assert.equal((waiting.structuredContent as Structured).state, "awaitingKey");
    await first.close();
    const second = await connect(args, { TOKENHUB_API_KEY: KEY }, "restart-client");
    const resumed = (await second.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "resume" },
    })) as CallToolResult;
    const out = resumed.structuredContent as Structured;
    assert.equal(out.state, "complete");
    assert.equal(out.record?.model, "alibaba/deepseek-v3.2");
    const status = (await second.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "status" },
    })) as CallToolResult;
    assert.match(textOf(status), /Last TokenHub check: success for model alibaba\/deepseek-v3\.2/);
  });
});

// helper-27: once a broken stdout no longer ended the process (main.ts lets a run finish with its own exit code),
// a server whose client died mid-call waited forever for a 'drain': serveStdio treats a client that stopped
// reading as gone.
describe("tokenhub-setup mcp, when its client dies mid-call", () => {
  it("ends on its own (exit 0) once stdin and stdout are both gone, a call still in flight", async () => {
    const { spawnCli } = await import("../helpers/cli.ts");
    const child = spawnCli(["mcp", "--simulate", "--scenario", "slow-headers"], { TOKENHUB_API_KEY: KEY });
    const send = (message: object) =>
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
    let replies = "";
    child.stdout.on("data", (chunk: Buffer) => {
      replies += chunk.toString();
    });
    send({
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "dies", version: "1" } },
    });
    while (!replies.includes('"id":1')) await new Promise((resolve) => setTimeout(resolve, 20));
    send({ method: "notifications/initialized" });
    send({ id: 2, method: "tools/call", params: { name: "tokenhub_setup", arguments: { action: "start" } } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.stdout.destroy();
    child.stdin.end();
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the server did not end within 20 s")), 20_000);
      child.once("close", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    }).catch((err: Error) => {
      child.kill("SIGKILL");
      throw err;
    });
    assert.equal(code, 0);
  });
});
