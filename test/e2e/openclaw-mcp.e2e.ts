// `tokenhub-setup mcp` on the real OpenClaw host (openclaw@2026.9.6) as a plain MCP server, no plugin: saved with
// `openclaw mcp add`, checked with `openclaw mcp doctor --probe` and `openclaw mcp probe`, then whole agent turns
// with the scripted model through the gateway: the setup with a key (its env given as a `${VAR}` reference), the
// setup without one (the key page's link in the tool's text, entered as a browser would, then resumed), and a
// scan of everything OpenClaw wrote for the key: it is only in the key file the page was asked to write. `npm run test:e2e:openclaw` (after the build: the server OpenClaw
// launches is dist/cli/main.js).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createFileStatusStore } from "../../src/status/store.ts";
import { findLeaks } from "../helpers/leak-scan.ts";
import { completionTemplate, pageText } from "../helpers/quickstart-page.ts";
import { type MockModel, startMockModel } from "./mock-model.ts";
import {
  createHost,
  ensureOpenClaw,
  type Gateway,
  type Host,
  OPENCLAW_VERSION,
  startGateway,
} from "./openclaw-host.ts";
import { filesUnder, freePort, mockModelHostConfig, sqliteTexts } from "./scan.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "dist", "cli", "main.js");
// Made at run time, never written in this file (see openclaw.e2e.ts: a literal here could turn up in OpenClaw's
// copies of the project, and the scan would find it).
const KEY = `sk-e2e-mcp-${randomBytes(8).toString("hex")}`;
// The variable the gateway holds the key in; the server entry's env says `${TOKENHUB_E2E_KEY}`, never the key.
const KEY_VAR = "TOKENHUB_E2E_KEY";
// Two entries of the same server: one given the key by reference, one given none (the key page's path).
const WITH_KEY = "tokenhub";
const NO_KEY = "tokenhub-nokey";
// How OpenClaw names an MCP server's tool to the model: <server>__<tool>.
const toolOf = (server: string) => `${server}__tokenhub_setup`;
const SAY_SETUP = "set up TokenHub";
const SAY_SETUP_NO_KEY = "set up TokenHub on the machine without a key";
const SAY_RESUME = "I entered the key on the page";
const log = (line: string) => process.stderr.write(`[e2e-mcp] ${line}\n`);

const contentText = (content: unknown) => (typeof content === "string" ? content : JSON.stringify(content));

describe(`tokenhub-setup mcp on OpenClaw ${OPENCLAW_VERSION} (openclaw mcp add, no plugin)`, {
  timeout: 15 * 60_000,
}, () => {
  let bin: string;
  let tmp: string;
  let host: Host;
  let sim: Simulator;
  let model: MockModel;
  let gateway: Gateway | undefined;
  let port: number;
  const outputs: string[] = [];
  const started = Date.now();
  const statusFile = () => join(tmp, "records", "with-key.json");
  const noKeyStatusFile = () => join(tmp, "records", "no-key.json");
  const completions = () =>
    sim.requests.filter((r) => r.method === "POST" && r.path.endsWith("/chat/completions"));
  /** The tool messages the model was sent after request `from`, as text. */
  const toolMessages = (from: number) =>
    model.requests
      .slice(from)
      .flat()
      .filter((m) => m.role === "tool")
      .map((m) => contentText(m.content));
  /** A whole agent turn through the running gateway, in the OpenClaw session `sessionKey`. */
  const agentTurn = async (message: string, sessionKey: string) => {
    const turn = await host.oc([
      "agent",
      "--agent",
      "main",
      "--session-key",
      sessionKey,
      "--message",
      message,
      "--json",
    ]);
    outputs.push(turn.stdout, turn.stderr);
    return turn;
  };
  const serverArgs = (file: string) => [
    "--command",
    process.execPath,
    "--arg",
    BIN,
    "--arg",
    "mcp",
    "--arg",
    "--base-url",
    "--arg",
    sim.baseUrl,
    "--arg",
    "--status-file",
    "--arg",
    file,
  ];

  before(async () => {
    assert.ok(existsSync(BIN), `${BIN} is built (npm run build)`);
    bin = await ensureOpenClaw(log);
    tmp = await mkdtemp(join(tmpdir(), "tokenhub-openclaw-mcp-e2e-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
    model = await startMockModel(SAY_SETUP, toolOf(WITH_KEY), { action: "start" }, [
      { trigger: SAY_SETUP_NO_KEY, tool: toolOf(NO_KEY), args: { action: "start" } },
      { trigger: SAY_RESUME, tool: toolOf(NO_KEY), args: { action: "resume" } },
    ]);
    port = await freePort();
    host = await createHost(bin, tmp, mockModelHostConfig(model.baseUrl, port));
    log(`state in ${tmp}`);
  });

  after(async () => {
    await gateway?.stop();
    await sim?.close();
    await model?.close();
    log(`e2e suite took ${Math.round((Date.now() - started) / 1000)} s`);
    if (!process.env.TOKENHUB_E2E_KEEP) await rm(tmp, { recursive: true, force: true });
  });

  it("`openclaw mcp add` saves both entries (the key as an env reference); doctor --probe is clean and probe lists the tool", async () => {
    // `mcp add` probes the server before saving: it starts and lists its tool without any key.
    const added = await host.oc([
      "mcp",
      "add",
      WITH_KEY,
      ...serverArgs(statusFile()),
      "--env",
      `TOKENHUB_API_KEY=\${${KEY_VAR}}`,
    ]);
    log(`mcp add: ${added.ms} ms`);
    assert.match(added.stdout, new RegExp(`Saved MCP server "${WITH_KEY}"`));
    // The same server once more, saved without its own probe (`mcp probe` below connects to both).
    const addedNoKey = await host.oc(["mcp", "add", NO_KEY, ...serverArgs(noKeyStatusFile()), "--no-probe"]);
    outputs.push(added.stdout, added.stderr, addedNoKey.stdout, addedNoKey.stderr);
    const config = JSON.parse(await readFile(host.configPath, "utf8"));
    assert.deepEqual(config.mcp.servers[WITH_KEY], {
      command: process.execPath,
      args: [BIN, "mcp", "--base-url", sim.baseUrl, "--status-file", statusFile()],
      env: { TOKENHUB_API_KEY: `\${${KEY_VAR}}` },
    });
    assert.equal(config.mcp.servers[NO_KEY].env, undefined);

    // Static checks and a live connection. Run without the variable, as the gateway is the one process that
    // needs it (with it set, doctor checks the substituted value and calls it "a literal sensitive value").
    const doctor = await host.ocJson<{
      ok: boolean;
      servers: Array<{ name: string; ok: boolean; issues: unknown[] }>;
    }>(["mcp", "doctor", WITH_KEY, "--probe", "--json"]);
    assert.equal(doctor.ok, true, JSON.stringify(doctor));
    assert.deepEqual(
      doctor.servers.map((s) => [s.name, s.ok, s.issues]),
      [[WITH_KEY, true, []]],
    );
    const probe = await host.ocJson<{ servers: Record<string, { tools: number }>; tools: string[] }>([
      "mcp",
      "probe",
      "--json",
    ]);
    assert.equal(probe.servers[WITH_KEY]?.tools, 1, JSON.stringify(probe));
    assert.equal(probe.servers[NO_KEY]?.tools, 1, JSON.stringify(probe));
    assert.deepEqual(probe.tools.toSorted(), [toolOf(WITH_KEY), toolOf(NO_KEY)].toSorted());
    assert.equal(completions().length, 0, "adding and probing send nothing to TokenHub");
  });

  it('a whole agent turn: "set up TokenHub" -> the MCP tool through OpenClaw -> the record, one completion with the key', async () => {
    gateway = await startGateway(bin, host, port, { [KEY_VAR]: KEY });
    const from = model.requests.length;
    const turn = await agentTurn(SAY_SETUP, "agent:main:e2e-mcp-key");
    // MCP tools, like plugin tools, are not among the functions offered: the model reaches them through the
    // host's tool search (tool_call with {id: "<server>__<tool>", args}); the mock model uses whichever is there.
    log(`agent turn: ${turn.ms} ms; functions offered to the model: ${model.toolNames[from]?.join(", ")}`);

    const record = await createFileStatusStore(statusFile()).read();
    assert.equal(record?.integration_status, "success", JSON.stringify(record));
    assert.equal((record as { result?: { key_source?: string } }).result?.key_source, "env");
    if (pageText !== undefined) {
      const template = completionTemplate();
      assert.deepEqual(
        Object.keys(record as object).slice(0, Object.keys(template).length),
        Object.keys(template),
      );
      for (const [field, value] of Object.entries(template)) {
        const actual: string = String((record as Record<string, unknown>)[field]);
        if (value === "ISO-8601") assert.match(actual, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, field);
        else assert.equal(actual, value, field);
      }
    } else log("the quickstart page is not beside the project: its template fields were not compared");

    const posts = completions();
    assert.equal(posts.length, 1, "exactly one POST /v1/chat/completions");
    // The simulator accepts only KEY (any other bearer gets a 401), so a success record means it came with KEY,
    // resolved from the gateway's environment through the `${VAR}` reference.
    assert.equal(posts[0]?.authorization, "present");
    assert.deepEqual(posts[0]?.keyLeaks, [], "the key only in Authorization");

    const results = toolMessages(from);
    assert.ok(
      results.some((t) => t.includes("TokenHub integration verified")),
      `the tool result reached the model: ${results.join(" | ").slice(0, 600)}`,
    );
    // The turn ends with the model's answer quoting the tool's text.
    assert.match(turn.stdout, /TokenHub tool said: TokenHub integration verified/);
  });

  /** A no-key turn in `sessionKey`: the key page link the tool gave the model. */
  const keyPageOffered = async (sessionKey: string) => {
    const before = completions().length;
    const from = model.requests.length;
    const turn = await agentTurn(SAY_SETUP_NO_KEY, sessionKey);
    const text = toolMessages(from).join("\n");
    const link = /http:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(text)?.[0];
    assert.ok(link, `the key page link is in the tool result: ${text.slice(0, 800)}`);
    assert.match(text, /Give the user this link to open in their browser/, "offered as a link, not elicited");
    assert.match(text, /Do NOT ask the user to paste the key/);
    assert.equal(completions().length, before, "nothing is sent to TokenHub without a key");
    assert.match(turn.stdout, /TokenHub tool said: No TokenHub API key was found/);
    return link;
  };
  /** What a browser does with the page: GET the form, POST it back from the page's origin. */
  const enterKey = async (link: string, form: Record<string, string>) => {
    const page = await fetch(link);
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 400));
    const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
    assert.ok(action, `the page has its form: ${html.slice(0, 400)}`);
    const submitted = await fetch(new URL(action.replaceAll("&amp;", "&"), link), {
      method: "POST",
      headers: { origin: new URL(link).origin, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ key: KEY, ...form }).toString(),
    });
    const answer = await submitted.text();
    outputs.push(html, answer);
    assert.equal(submitted.status, 200, answer.slice(0, 600));
    assert.match(answer, /Key accepted/);
    return answer;
  };
  /** The resume turn after the page: the tool's text the model got. */
  const resumeTurn = async (sessionKey: string) => {
    const from = model.requests.length;
    const turn = await agentTurn(SAY_RESUME, sessionKey);
    return { turn, text: toolMessages(from).join("\n") };
  };

  it("no key: the tool's text gives the model the key page link (no URL elicitation in OpenClaw's client) and says not to ask for the key", async () => {
    await keyPageOffered("agent:main:e2e-mcp-no-key");
    assert.equal(await createFileStatusStore(noKeyStatusFile()).read(), undefined, "no record yet");
  });

  // The page keeps the key in the server's memory when no keychain works and the file was not chosen, and says
  // so; the server hands it to the flow as its host secret and the flow goes on by itself.
  it("the key entered on the page (kept in the server's memory), then a resume turn in the same session completes", async () => {
    const session = "agent:main:e2e-mcp-no-key";
    const link = await keyPageOffered(session);
    const answer = await enterKey(link, {});
    assert.match(answer, /kept in this process only/);
    const { turn, text } = await resumeTurn(session);
    assert.match(text, /TokenHub integration verified/, text.slice(0, 800));
    assert.match(turn.stdout, /TokenHub tool said: TokenHub integration verified/);
  });

  it("the key entered on the page with the file opt-in (no keychain here), then a resume turn completes", async () => {
    // A new OpenClaw session: a new MCP runtime, so a new server process without any key in memory.
    const session = "agent:main:e2e-mcp-key-file";
    const link = await keyPageOffered(session);
    const answer = await enterKey(link, { insecureFile: "yes" });
    assert.match(answer, /kept in a plain file readable only by you/);
    const { turn, text } = await resumeTurn(session);
    assert.match(text, /TokenHub integration verified/, text.slice(0, 800));
    assert.match(turn.stdout, /TokenHub tool said: TokenHub integration verified/);
    const record = await createFileStatusStore(noKeyStatusFile()).read();
    assert.equal(record?.integration_status, "success", JSON.stringify(record));
    assert.equal((record as { result?: { key_source?: string } }).result?.key_source, "file");
  });

  it("the key appears nowhere in what OpenClaw wrote or printed (the server entry holds only its env reference)", async () => {
    await gateway?.stop();
    const places: Array<[string, string]> = [];
    const files = await filesUnder(tmp);
    for (const file of files) places.push([file, (await readFile(file)).toString("latin1")]);
    // OpenClaw keeps transcripts in sqlite with large events zstd-compressed: scan every blob decompressed too.
    for (const file of files.filter((f) => f.endsWith(".sqlite"))) {
      for (const [where, text] of sqliteTexts(file)) places.push([where, text]);
    }
    places.push(
      ["gateway output", gateway?.output() ?? ""],
      ["CLI output and the key page", outputs.join("\n")],
      ["what the model was sent", JSON.stringify(model.requests)],
    );
    assert.ok(
      places.some(([f]) => f.includes(".sqlite#") && f.endsWith("(zstd)")) ||
        places.some(([f]) => f.includes(".sqlite#")),
      "OpenClaw's databases were scanned",
    );
    assert.ok(
      places.some(([f]) => f.includes("tokenhub-setup/mcp/conversations")),
      "the MCP server's stored conversations were scanned",
    );
    // The one place the key may be: the file the person chose on the key page (0600, in the temp HOME).
    const keyFile = join(tmp, "home", ".config", "tokenhub-setup", "api-key");
    assert.ok(
      findLeaks([KEY], places).some((hit) => hit.startsWith(`${keyFile}:`)),
      "the scan finds the key in the file it was put in",
    );
    assert.deepEqual(
      findLeaks(
        [KEY],
        places.filter(([where]) => where !== keyFile),
      ),
      [],
      "where the key shows",
    );
    // The reference is where the key would otherwise be: the server entry in OpenClaw's config.
    const config = JSON.parse(await readFile(host.configPath, "utf8"));
    assert.equal(config.mcp.servers[WITH_KEY].env.TOKENHUB_API_KEY, `\${${KEY_VAR}}`);
    log(`scanned ${places.length} files, database values and outputs`);
  });
});
