// Step-2 without the chat, end to end: the SDK's client (with URL elicitation, and without) talks to
// `tokenhub-setup mcp` over stdio; a real browser (Debian's chromium) enters the key on the page the server
// opened. The key goes from the browser to the page and into the (test) keychain, and appears in no MCP message,
// no log line, no browser console line and no file but the keychain's.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CallToolResult,
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { Browser } from "playwright-core";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { type ConsoleLines, chromiumMissing, enterKeyOnPage, launchBrowser } from "../helpers/browser.ts";
import { readFakeKeychain } from "../helpers/cli.ts";
import { findLeaks } from "../helpers/leak-scan.ts";
import { connectMcp, type McpSession, mcpChannels } from "../helpers/mcp-client.ts";

const GOOD = "sk-page-good-0123456789abcdef01";
const BAD = "sk-page-bad-0123456789abcdef0123";

type Structured = {
  state: string;
  exitCode: number;
  record?: { integration_status: string; result: { key_source: string } };
  needKey?: { reason: string; keyPage?: { url: string; expiresAt: string } };
};

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

describe("the key page through MCP, in a real browser", { skip: chromiumMissing }, () => {
  let sim: Simulator;
  let browser: Browser;
  let home: string;
  const consoleLines: ConsoleLines = [];
  const pages: string[] = [];
  const sessions: McpSession[] = [];
  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    browser = await launchBrowser();
    home = await mkdtemp(join(tmpdir(), "tokenhub-mcp-page-"));
  });
  after(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await browser?.close();
    await sim?.close();
    const files: Array<readonly [string, string]> = [];
    for (const entry of await readdir(home, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      // The keychain is where the key belongs (the test's stand-in for the OS keychain).
      if (entry.isFile() && !path.endsWith("keychain.json")) files.push([path, await readFile(path, "utf8")]);
    }
    const leaks = findLeaks(
      [GOOD, BAD],
      [
        ...sessions.flatMap((s) => mcpChannels(s)),
        ["browser console", consoleLines.join("\n")],
        ["pages as shown", pages.join("\n")],
        ...files,
      ],
    );
    await rm(home, { recursive: true, force: true });
    assert.deepEqual(leaks, [], "the key leaked");
  });

  /** What a person does with the link: open it, type the key, submit; the page's answer as shown. */
  async function enterKey(url: string, key: string): Promise<string> {
    const { form, answer } = await enterKeyOnPage(browser, consoleLines, url, key);
    pages.push(form, answer);
    return answer;
  }

  async function serve(dir: string, env: Record<string, string | undefined>, elicitation: boolean) {
    const keychain = join(home, dir, "keychain.json");
    const mcp = await connectMcp(
      // Debug logs on stderr (the key page's too), so the leak scan reads every line the server can log.
      ["--base-url", sim.baseUrl, "--verbose"],
      { HOME: join(home, dir), TOKENHUB_TEST_KEYCHAIN: keychain, ...env },
      { elicitation, name: `client-${dir}` },
    );
    sessions.push(mcp);
    return { mcp, keychain };
  }

  it("URL elicitation: the user opens the page, enters the key, and the same call ends in the record", async () => {
    const { mcp, keychain } = await serve("elicit", {}, true);
    const elicited: Array<{ mode?: string; url?: string; elicitationId?: string; message: string }> = [];
    const completed: string[] = [];
    let shown: Promise<string> | undefined;
    mcp.client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
      completed.push(n.params.elicitationId);
    });
    mcp.client.setRequestHandler(ElicitRequestSchema, (request) => {
      const params = request.params as {
        mode?: string;
        url?: string;
        elicitationId?: string;
        message: string;
      };
      elicited.push(params);
      // The user consents to open the link; the key is typed there, after this answer.
      shown = enterKey(params.url ?? "", GOOD);
      return { action: "accept" };
    });
    const result = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    const out = result.structuredContent as Structured;
    assert.equal(out.state, "complete", textOf(result));
    assert.equal(out.record?.result.key_source, "keychain");
    assert.equal(elicited.length, 1);
    assert.equal(elicited[0]?.mode, "url");
    assert.match(elicited[0]?.url ?? "", /^http:\/\/127\.0\.0\.1:\d+\/\S{40,}$/);
    assert.match(elicited[0]?.message ?? "", /never goes through the chat/);
    assert.match(await (shown as Promise<string>), /Key accepted/);
    assert.deepEqual(completed, [elicited[0]?.elicitationId]);
    // The page logged what happened (scanned for the key with everything else).
    assert.match(mcp.stderr(), /"msg":"key page open"/);
    assert.match(mcp.stderr(), /"msg":"key page settled"/);
    assert.deepEqual(Object.values(readFakeKeychain(keychain)).flatMap(Object.values), [GOOD]);
  });

  it("a key TokenHub rejects (401) in the server's environment: a new elicitation, and the page's key wins", async () => {
    const { mcp } = await serve("rejected", { TOKENHUB_API_KEY: BAD }, true);
    const urls: string[] = [];
    mcp.client.setRequestHandler(ElicitRequestSchema, (request) => {
      const url = (request.params as { url?: string }).url ?? "";
      urls.push(url);
      void enterKey(url, GOOD);
      return { action: "accept" };
    });
    const result = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    const out = result.structuredContent as Structured;
    assert.equal(out.state, "complete", textOf(result));
    assert.equal(out.record?.result.key_source, "keychain");
    assert.equal(urls.length, 1, "one elicitation after the 401");
  });

  it("a client without URL elicitation: the link is in the result, and the flow resumes by itself", async () => {
    const { mcp } = await serve("link", {}, false);
    const waiting = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    const out = waiting.structuredContent as Structured;
    assert.equal(out.state, "awaitingKey");
    const url = out.needKey?.keyPage?.url ?? "";
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\//);
    assert.ok(textOf(waiting).includes(url), "the same link in the text, to open by hand");
    // A key the page cannot accept first: it says so and keeps the link; then the right one.
    assert.match(await enterKey(url, BAD), /Key not kept/);
    assert.match(await enterKey(url, GOOD), /Key accepted/);
    // The flow went on in the background: resume hands over how it ended, without another request.
    let resumed: CallToolResult | undefined;
    for (let i = 0; i < 50; i++) {
      resumed = (await mcp.client.callTool({
        name: "tokenhub_setup",
        arguments: { action: "status" },
      })) as CallToolResult;
      if (/success/.test(textOf(resumed))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(textOf(resumed as CallToolResult), /Last TokenHub check: success/);
    const before = sim.requests.length;
    const result = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "resume" },
    })) as CallToolResult;
    assert.equal((result.structuredContent as Structured).state, "complete");
    assert.equal(sim.requests.length, before, "the result the flow reached by itself, not a new run");
  });

  it("no keychain, no file chosen: the server holds the key, finishes the setup, and a restarted one reports it", async () => {
    // No TOKENHUB_TEST_KEYCHAIN: no keychain answers, as on a server without a Secret Service.
    const { mcp } = await serve("memory", { TOKENHUB_TEST_KEYCHAIN: undefined }, false);
    const waiting = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    const url = (waiting.structuredContent as Structured).needKey?.keyPage?.url ?? "";
    assert.match(await enterKey(url, GOOD), /kept in this process only/);
    let status = "";
    for (let i = 0; i < 50 && !/success/.test(status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = textOf(
        (await mcp.client.callTool({
          name: "tokenhub_setup",
          arguments: { action: "status" },
        })) as CallToolResult,
      );
    }
    assert.match(status, /Last TokenHub check: success/, mcp.stderr().slice(-3000));
    await mcp.close();
    // Another process of the server (a restart, or a host that starts one per session): resume reports the
    // setup that ended, without a new request and without the key it never had.
    const before = sim.requests.length;
    const again = await connectMcp(
      ["--base-url", sim.baseUrl],
      { HOME: join(home, "memory") },
      { name: "client-memory" },
    );
    sessions.push(again);
    const resumed = (await again.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "resume" },
    })) as CallToolResult;
    const out = resumed.structuredContent as Structured;
    assert.equal(out.state, "complete", textOf(resumed));
    assert.equal(out.record?.result.key_source, "host");
    assert.equal(sim.requests.length, before);
  });

  it("while a call waits on the page, status answers at once and cancel closes the page and ends the setup", async () => {
    const { mcp } = await serve("cancel", {}, true);
    let url = "";
    mcp.client.setRequestHandler(ElicitRequestSchema, (request) => {
      url = (request.params as { url?: string }).url ?? "";
      return { action: "accept" };
    });
    const started = Date.now();
    const waiting = mcp.client.callTool({ name: "tokenhub_setup", arguments: { action: "start" } });
    while (!url) await new Promise((r) => setTimeout(r, 50));
    const status = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "status" },
    })) as CallToolResult;
    assert.match(textOf(status), /A setup is waiting for the API key/);
    const cancelled = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "cancel" },
    })) as CallToolResult;
    assert.equal((cancelled.structuredContent as Structured).state, "cancelled");
    const ended = (await waiting) as CallToolResult;
    assert.ok(Date.now() - started < 20_000, "neither waited out the page's 50 s");
    assert.match(textOf(ended), /The key page was closed; nothing was stored/);
    assert.equal((ended.structuredContent as Structured).needKey?.keyPage, undefined, "no dead link offered");
    await assert.rejects(fetch(url), "the page is closed");
  });

  /** A client that shows the link and never answers the elicitation (the request stays open): slow or stuck. */
  async function silentClient(dir: string) {
    const { mcp } = await serve(dir, {}, true);
    const urls: string[] = [];
    mcp.client.setRequestHandler(ElicitRequestSchema, (request) => {
      urls.push((request.params as { url?: string }).url ?? "");
      return new Promise(() => {});
    });
    const call = mcp.client.callTool({ name: "tokenhub_setup", arguments: { action: "start" } });
    while (urls.length === 0) await new Promise((r) => setTimeout(r, 50));
    return { mcp, url: urls[0] as string, call: call as Promise<CallToolResult> };
  }

  it("a client that never answers the elicitation: the key entered on the page ends the call at once", async () => {
    const started = Date.now();
    const { url, call } = await silentClient("silent-key");
    assert.match(await enterKey(url, GOOD), /Key accepted/);
    const done = await call;
    assert.equal((done.structuredContent as Structured).state, "complete", textOf(done));
    assert.ok(Date.now() - started < 20_000, "it did not wait out the unanswered elicitation");
  });

  it("a client that never answers the elicitation: cancel does not wait, and no dead link is offered", async () => {
    const { mcp, url, call } = await silentClient("silent-cancel");
    const asked = Date.now();
    const cancelled = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "cancel" },
    })) as CallToolResult;
    assert.ok(Date.now() - asked < 20_000, "cancel did not queue behind the waiting call");
    assert.equal((cancelled.structuredContent as Structured).state, "cancelled");
    const ended = await call;
    assert.equal((ended.structuredContent as Structured).needKey?.keyPage, undefined, "no dead link offered");
    assert.match(textOf(ended), /The key page was closed; nothing was stored/);
    await assert.rejects(fetch(url), "the page is closed");
  });

  it("a page used up by keys TokenHub rejects is not offered again as if it worked", async () => {
    const { mcp } = await serve("exhausted", {}, true);
    const shown: Promise<string>[] = [];
    mcp.client.setRequestHandler(ElicitRequestSchema, (request) => {
      const url = (request.params as { url?: string }).url ?? "";
      // Five wrong keys, one after the other, as a person trying again would.
      shown.push(
        (async () => {
          let last = "";
          for (let i = 0; i < 5; i++) last = await enterKey(url, `${BAD.slice(0, -1)}${i}`);
          return last;
        })(),
      );
      return { action: "accept" };
    });
    const result = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    assert.match(await (shown[0] as Promise<string>), /can no longer be used/);
    assert.match(textOf(result), /closed after several keys it could not keep/);
    assert.equal((result.structuredContent as Structured).needKey?.keyPage, undefined);
  });

  it("the user declines: nothing is stored, the page is closed, and the model hears it", async () => {
    const { mcp, keychain } = await serve("decline", {}, true);
    let url = "";
    mcp.client.setRequestHandler(ElicitRequestSchema, (request) => {
      url = (request.params as { url?: string }).url ?? "";
      return { action: "decline" };
    });
    const result = (await mcp.client.callTool({
      name: "tokenhub_setup",
      arguments: { action: "start" },
    })) as CallToolResult;
    assert.match(textOf(result), /declined the key page; nothing was stored/);
    assert.equal((result.structuredContent as Structured).needKey?.keyPage, undefined);
    await assert.rejects(fetch(url), "the page no longer answers");
    assert.deepEqual(readFakeKeychain(keychain), {});
  });
});
