// The plugin on the real OpenClaw host (openclaw@2026.9.6): install, discovery, the skill's readiness, the tool
// through the gateway, a gateway restart between start and resume, whole agent turns with a scripted model,
// the fault paths, and a scan of everything OpenClaw wrote for the key. `npm run test:e2e:openclaw`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createFileStatusStore } from "../../src/status/store.ts";
import { findLeaks } from "../helpers/leak-scan.ts";
import { type MockModel, startMockModel } from "./mock-model.ts";
import {
  createHost,
  ensureOpenClaw,
  type Gateway,
  type Host,
  logOffset,
  OPENCLAW_VERSION,
  startGateway,
  waitForLog,
} from "./openclaw-host.ts";
import { filesUnder, freePort, mockModelHostConfig, sqliteTexts } from "./scan.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
// Made at run time, never written in this file: OpenClaw copies a linked plugin's whole folder (tests included)
// into its own tmp ("plugin-captures"), and a literal key here would be found there by the scan below.
const KEY_ONE = `sk-e2e-first-${randomBytes(8).toString("hex")}`;
const KEY_TWO = `sk-e2e-second-${randomBytes(8).toString("hex")}`;
// Stored in OpenClaw's shared secret store, as the secrets tool's masked prompt does: the one place it may be.
const KEY_STORED = `sk-e2e-stored-${randomBytes(8).toString("hex")}`;
const TOOL = "tokenhub_setup";
const log = (line: string) => process.stderr.write(`[e2e] ${line}\n`);

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const unescapeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => XML_ENTITIES[name] ?? "");

describe(`tokenhub-setup on OpenClaw ${OPENCLAW_VERSION}`, { timeout: 20 * 60_000 }, () => {
  let bin: string;
  let tmp: string;
  let host: Host;
  let sim: Simulator;
  let model: MockModel;
  let gateway: Gateway | undefined;
  let port: number;
  const toolTexts: string[] = [];
  const started = Date.now();
  // The gateway's environment holds the keys; OpenClaw config only ever holds references to them.
  const gatewayEnv = { TOKENHUB_E2E_KEY: KEY_ONE, TOKENHUB_E2E_KEY_TWO: KEY_TWO };
  const recordPath = () => join(host.stateDir, "plugins", "tokenhub-setup", "status.json");
  const invoke = async (args: Record<string, unknown>, sessionKey: string) => {
    assert.ok(gateway, "gateway running");
    const result = await gateway.invoke(TOOL, args, sessionKey);
    toolTexts.push(result.text, JSON.stringify(result.details));
    return result;
  };
  /** A whole agent turn on "set up TokenHub" (the mock model calls the tool), through the running gateway. */
  const agentTurn = (sessionKey: string) =>
    host.oc(
      ["agent", "--agent", "main", "--session-key", sessionKey, "--message", "set up TokenHub", "--json"],
      gatewayEnv,
    );
  // With a gateway running, `config set` hot-reloads the plugin (about 4 s, during which its tool is
  // unavailable); wait until OpenClaw says the reload was applied.
  const setKeyRef = async (variable: string, running: boolean) => {
    const offset = await logOffset(host);
    const path = "plugins.entries.tokenhub-setup.config.apiKey";
    await host.oc([
      "config",
      "set",
      path,
      "--ref-source",
      "env",
      "--ref-provider",
      "default",
      "--ref-id",
      variable,
    ]);
    if (running)
      await waitForLog(host, /config hot reload applied \(plugins\.entries\.tokenhub-setup/, offset);
  };

  before(async () => {
    bin = await ensureOpenClaw(log);
    tmp = await mkdtemp(join(tmpdir(), "tokenhub-openclaw-e2e-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY_ONE, KEY_TWO, KEY_STORED] });
    model = await startMockModel("set up TokenHub", TOOL, { action: "start" });
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

  it("installs the plugin (plugins install -l) and lists it loaded with its tool", async () => {
    const install = await host.oc(["plugins", "install", "-l", ROOT, "--force", "--accept-capabilities"]);
    log(`plugins install: ${install.ms} ms`);
    await host.oc(["config", "set", "plugins.entries.tokenhub-setup.config.baseUrl", sim.baseUrl]);
    const list = await host.ocJson<unknown>(["plugins", "list", "--json"]);
    const ours = JSON.stringify(list);
    const entry = (Array.isArray(list) ? list : ((list as { plugins?: unknown[] }).plugins ?? [])).find(
      (p) => (p as { id?: string }).id === "tokenhub-setup",
    ) as { status?: string; toolNames?: string[] } | undefined;
    assert.ok(entry, `tokenhub-setup is listed: ${ours.slice(0, 400)}`);
    assert.equal(entry.status, "loaded");
    assert.ok(entry.toolNames?.includes(TOOL), `tool listed: ${JSON.stringify(entry)}`);
  });

  it("skills info shows the bundled skill ready with no key configured anywhere (the first run it exists for)", async () => {
    const info = await host.ocJson<{ eligible?: boolean; missing?: { env?: string[] } }>([
      "skills",
      "info",
      "tokenhub-setup",
      "--json",
    ]);
    assert.equal(info.eligible, true, JSON.stringify(info));
    assert.deepEqual(info.missing?.env ?? [], []);
    const human = await host.oc(["skills", "info", "tokenhub-setup"]);
    assert.match(human.stdout, /Ready/);
    assert.doesNotMatch(human.stdout, /Needs setup/i);
  });

  it('first run, no key anywhere: the model is shown the skill on "set up TokenHub", and the tool asks for a key', async () => {
    const skill = await readFile(join(ROOT, "skills", "tokenhub-setup", "SKILL.md"), "utf8");
    const { description } = parseYaml(skill.split("---\n")[1] ?? "") as { description: string };
    assert.ok(description.length > 0, "SKILL.md has a description");
    gateway = await startGateway(bin, host, port, gatewayEnv);
    const before = model.requests.length;
    const turn = await agentTurn("agent:main:e2e-first-run");
    toolTexts.push(turn.stdout);
    const first = model.requests[before];
    assert.ok(first, "the model was asked");
    const system = first
      .filter((m) => m.role === "system" || m.role === "developer")
      .map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)))
      .join("\n");
    // The host lists eligible skills as <skill><name/><description/><location/></skill>, XML-escaped.
    const entry = [...system.matchAll(/<skill>([\s\S]*?)<\/skill>/g)]
      .map((m) => m[1] ?? "")
      .find((block) => block.includes("<name>tokenhub-setup</name>"));
    assert.ok(entry, "the skill is listed in the system prompt the model receives");
    const shown = unescapeXml(/<description>([\s\S]*?)<\/description>/.exec(entry)?.[1] ?? "");
    assert.equal(shown, description, "with its description, whole");
    assert.match(entry, /<location>[^<]*tokenhub-setup\/SKILL\.md<\/location>/);
    const toolMessage = model.requests
      .slice(before)
      .flat()
      .find((m) => m.role === "tool" && JSON.stringify(m.content).includes("Do NOT ask them to paste it"));
    assert.ok(toolMessage, "the tool answered with the key request");
    assert.equal(sim.requests.length, 0, "no request without a key");
  });

  it("tool without a key -> needKey; the conversation survives a gateway restart; key set as an env SecretRef -> resume completes; status reports the record", async () => {
    gateway ??= await startGateway(bin, host, port, gatewayEnv);
    const first = await invoke({ action: "start" }, "e2e-one");
    assert.equal(first.details.state, "awaitingKey", first.text);
    assert.equal((first.details.needKey as { reason?: string }).reason, "missing");
    assert.match(first.text, /Do NOT ask them to paste it/);
    assert.match(first.text, /secrets tool/);
    assert.equal(sim.requests.length, 0);

    // The user stores the key while the gateway is down; the new gateway process knows the conversation only
    // from the snapshot the plugin persisted at `start`.
    await gateway.stop();
    await setKeyRef("TOKENHUB_E2E_KEY", false);
    gateway = await startGateway(bin, host, port, gatewayEnv);
    const stored = await invoke({ action: "status" }, "e2e-one");
    assert.equal(
      stored.details.state,
      "awaitingKey",
      "the new gateway process finds the stored conversation",
    );
    const resumed = await invoke({ action: "resume" }, "e2e-one");
    assert.equal(resumed.details.state, "complete", resumed.text);
    assert.match(resumed.text, /TokenHub integration verified/);
    // The gateway hands tools a resolved config; the preview still shows the reference, not "plain text".
    assert.match(
      resumed.text,
      /wiring would make tokenhub\/deepseek-v3\.2 usable \(key: a new auth profile tokenhub:default holding the SecretRef env:default:TOKENHUB_E2E_KEY\)/,
    );
    const record = await createFileStatusStore(recordPath()).read();
    assert.equal(record?.integration_status, "success");
    assert.equal((await stat(recordPath())).mode & 0o777, 0o600);
    const status = await invoke({ action: "status" }, "e2e-one");
    assert.match(status.text, /Last TokenHub check: success/);
  });

  it("401 -> needKey rejected; a new key's ref, hot-reloaded into the running gateway -> resume completes", async () => {
    sim.useScenario("unauthorized");
    const rejected = await invoke({ action: "start" }, "e2e-restart");
    assert.equal(rejected.details.state, "awaitingKey", rejected.text);
    assert.equal((rejected.details.needKey as { reason?: string }).reason, "rejected");
    const before = sim.requests.length;

    sim.useScenario("happy");
    await setKeyRef("TOKENHUB_E2E_KEY_TWO", true);
    const resumed = await invoke({ action: "resume" }, "e2e-restart");
    assert.equal(resumed.details.state, "complete", resumed.text);
    assert.equal(sim.requests.length, before + 1, "exactly one more request, with the new key");
  });

  it('a whole agent turn: `openclaw agent --message "set up TokenHub"` ends with the integration recorded', async () => {
    const previous = (await createFileStatusStore(recordPath()).read())?.validated_at;
    const turn = await agentTurn("agent:main:e2e-agent");
    log(`agent turn: ${turn.ms} ms`);
    const record = await createFileStatusStore(recordPath()).read();
    assert.equal(record?.integration_status, "success");
    assert.notEqual(record?.validated_at, previous, "the agent turn wrote a new record");
    const toolMessage = model.requests
      .flat()
      .find((m) => m.role === "tool" && JSON.stringify(m.content).includes("TokenHub integration verified"));
    assert.ok(toolMessage, "the tool's result reached the model");
    assert.match(turn.stdout, /TokenHub tool said/);
    toolTexts.push(turn.stdout);
  });

  it("503 x3 through an agent turn: the escalation text reaches the model", async () => {
    sim.useScenario("server-503-always");
    const before = sim.requests.length;
    const turn = await agentTurn("agent:main:e2e-503");
    assert.equal(sim.requests.length - before, 3, "three attempts, then escalation");
    const toolMessage = model.requests
      .flat()
      .find((m) => m.role === "tool" && JSON.stringify(m.content).includes("Enterprise Support"));
    assert.ok(toolMessage, "the escalation reached the model");
    assert.match(JSON.stringify(toolMessage.content), /failed 3 attempts/);
    toolTexts.push(turn.stdout);
    sim.useScenario("happy");
  });

  it("`openclaw tokenhub setup|status` and /tokenhub setup|status|cancel run over the same session code, without the model", async () => {
    const modelCalls = model.requests.length;
    const before = sim.requests.length;
    const setup = await host.oc(["tokenhub", "setup", "--json"], gatewayEnv);
    const setupDetails = JSON.parse(setup.stdout.slice(setup.stdout.indexOf("{"))) as { state?: string };
    assert.equal(setupDetails.state, "complete", setup.stdout);
    assert.equal(sim.requests.length, before + 1, "one verification request");
    const cli = await host.oc(["tokenhub", "status", "--json"], gatewayEnv);
    const details = JSON.parse(cli.stdout.slice(cli.stdout.indexOf("{"))) as {
      record?: { integration_status?: string };
    };
    assert.equal(details.record?.integration_status, "success", cli.stdout);
    toolTexts.push(setup.stdout, cli.stdout);

    // Slash commands go through chat.send; their replies land in the session's history.
    const slash = async (message: string, expect: RegExp) => {
      await host.oc([
        "gateway",
        "call",
        "chat.send",
        "--params",
        JSON.stringify({ sessionKey: "main", message, idempotencyKey: `e2e-${message}` }),
        "--json",
      ]);
      let history = "";
      for (let i = 0; i < 40 && !expect.test(history); i++) {
        await new Promise((r) => setTimeout(r, 500));
        history = (
          await host.oc([
            "gateway",
            "call",
            "chat.history",
            "--params",
            JSON.stringify({ sessionKey: "main", limit: 10 }),
            "--json",
          ])
        ).stdout;
      }
      assert.match(history, expect, `${message}: ${history.slice(-600)}`);
      toolTexts.push(history);
    };
    const beforeSlash = sim.requests.length;
    await slash("/tokenhub setup", /TokenHub integration verified/);
    assert.equal(sim.requests.length, beforeSlash + 1, "/tokenhub setup ran one verification");
    await slash("/tokenhub status", /Last TokenHub check/);
    await slash("/tokenhub cancel", /No TokenHub setup is in progress/);
    // OpenClaw may call the model in the background for an earlier session (seen once under load: a 7th call
    // during this test, from none of these commands), so what is checked is that no request carries one of them.
    const reached = model.requests
      .slice(modelCalls)
      .filter((messages) =>
        messages.some((m) => m.role === "user" && JSON.stringify(m.content ?? "").includes("/tokenhub")),
      );
    assert.deepEqual(
      reached.map((messages) => JSON.stringify(messages).slice(-300)),
      [],
      "no slash command reached the model",
    );
    const late = model.requests
      .slice(modelCalls)
      .map((messages) => JSON.stringify(messages.at(-1)).slice(0, 200));
    if (late.length > 0) log(`model calls during the slash commands, from elsewhere: ${late.join(" | ")}`);
  });

  it("wire: the key's SecretRef becomes OpenClaw's tokenhub auth profile and tokenhub/<model> the default; an agent turn runs on TokenHub; unwire gives back the config exactly", async () => {
    // As SKILL.md tells the model: wire the recorded integration (the /tokenhub setup above), no new check.
    const configBefore = await readFile(host.configPath, "utf8");
    const requests = sim.requests.length;
    const offset = await logOffset(host);
    const wired = await invoke({ action: "status", wire: true, setDefault: true }, "e2e-restart");
    assert.match(
      wired.text,
      /Wired: tokenhub\/deepseek-v3\.2 .*auth profile tokenhub:default holding the SecretRef env:default:TOKENHUB_E2E_KEY_TWO/,
      wired.text,
    );
    assert.equal(sim.requests.length, requests, "wiring sends nothing to TokenHub");
    const config = JSON.parse(await readFile(host.configPath, "utf8"));
    assert.equal(config.agents.defaults.model.primary, "tokenhub/deepseek-v3.2");
    assert.deepEqual(config.auth.profiles["tokenhub:default"], { provider: "tokenhub", mode: "api_key" });
    assert.equal(config.models.providers.tokenhub, undefined, "the registered provider's catalog serves it");
    assert.ok(config.models.providers.mock, "the other providers are untouched");
    const profiles = await host.ocJson<{ profiles?: Array<{ id?: string; profileId?: string }> }>([
      "models",
      "auth",
      "list",
      "--provider",
      "tokenhub",
      "--json",
    ]);
    log(`auth list after wire: ${JSON.stringify(profiles).slice(0, 400)}`);
    assert.match(JSON.stringify(profiles), /tokenhub:default/);
    await waitForLog(host, /config hot reload applied/, offset);

    // The gateway now answers on TokenHub: the simulator accepts only the configured keys, and answers "OK".
    const before = sim.requests.length;
    const turn = await host.oc(
      [
        "agent",
        "--agent",
        "main",
        "--session-key",
        "agent:main:e2e-on-tokenhub",
        "--message",
        "Say OK",
        "--json",
      ],
      gatewayEnv,
    );
    log(`agent turn on tokenhub/deepseek-v3.2: ${turn.ms} ms; ${turn.stdout.slice(0, 300)}`);
    const calls = sim.requests.slice(before).filter((r) => r.path.endsWith("/chat/completions"));
    assert.ok(calls.length >= 1, "the turn reached the simulator");
    assert.equal((calls[0]?.body as { model?: string } | undefined)?.model, "deepseek-v3.2");
    assert.equal(calls[0]?.authorization, "present");
    assert.match(turn.stdout, /\bOK\b/);
    toolTexts.push(turn.stdout);

    const undone = await invoke({ action: "unwire" }, "e2e-restart");
    assert.equal(undone.details.unwired, true, undone.text);
    assert.deepEqual(JSON.parse(await readFile(host.configPath, "utf8")), JSON.parse(configBefore));
    const left = await host.ocJson<unknown>(["models", "auth", "list", "--provider", "tokenhub", "--json"]);
    assert.doesNotMatch(JSON.stringify(left), /tokenhub:default/);
  });

  it("no apiKey configured: the key stored in OpenClaw's secret store under TOKENHUB_API_KEY -> resume completes", async () => {
    // What the secrets tool's masked prompt does, by the CLI: an entry TOKENHUB_API_KEY in the shared store.
    const offset = await logOffset(host);
    await host.oc(["config", "unset", "plugins.entries.tokenhub-setup.config.apiKey"]);
    await waitForLog(host, /config hot reload applied \(plugins\.entries\.tokenhub-setup/, offset);
    const missing = await invoke({ action: "start" }, "e2e-store");
    assert.equal(missing.details.state, "awaitingKey", missing.text);

    const keyDir = await mkdtemp(join(tmpdir(), "tokenhub-e2e-key-"));
    try {
      await writeFile(join(keyDir, "key"), KEY_STORED, { mode: 0o600 });
      const stored = await host.oc([
        "secrets",
        "store",
        "set",
        "TOKENHUB_API_KEY",
        "--kind",
        "secret",
        "--value-file",
        join(keyDir, "key"),
      ]);
      toolTexts.push(stored.stdout, stored.stderr);
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
    const reload = await host.oc(["secrets", "reload"]);
    toolTexts.push(reload.stdout, reload.stderr);
    const before = sim.requests.length;
    const resumed = await invoke({ action: "resume" }, "e2e-store");
    assert.equal(resumed.details.state, "complete", resumed.text);
    assert.equal(sim.requests.length, before + 1);
    assert.equal((resumed.details.record as { result: { key_source: string } }).result.key_source, "host");
    // Wiring would reference the store entry, never copy the key.
    assert.match(
      resumed.text,
      /wiring would make tokenhub\/deepseek-v3\.2 usable \(key: a new auth profile tokenhub:default holding the SecretRef store:default:TOKENHUB_API_KEY\)/,
    );
  });

  it("the key appears nowhere: OpenClaw's state folder, config, logs, transcripts, gateway output, tool results", async () => {
    await gateway?.stop();
    const places: Array<[string, string]> = [];
    for (const file of await filesUnder(tmp)) places.push([file, (await readFile(file)).toString("latin1")]);
    // OpenClaw keeps transcripts in sqlite with large events zstd-compressed: scan every blob decompressed too.
    for (const file of (await filesUnder(tmp)).filter((f) => f.endsWith(".sqlite"))) {
      for (const [where, text] of sqliteTexts(file)) places.push([where, text]);
    }
    places.push(
      ["gateway output", gateway?.output() ?? ""],
      ["tool results", toolTexts.join("\n")],
      ["what the model was sent", JSON.stringify(model.requests)],
    );
    assert.ok(places.length > 10, `scanned ${places.length} places`);
    assert.ok(
      places.some(([f]) => f.includes("plugins/tokenhub-setup/conversations")),
      "conversation snapshots were scanned",
    );
    assert.deepEqual(findLeaks([KEY_ONE, KEY_TWO], places), [], "where a key shows");
    // The stored key lives in OpenClaw's shared store (its state database, table secret_store_entries) and
    // nowhere else. Finding it there is also the scan's proof that it can see a key in that database at all.
    const isStore = (where: string) =>
      /\/openclaw\.sqlite(-wal|-shm)?$/.test(where) || where.endsWith("#secret_store_entries");
    assert.ok(
      findLeaks([KEY_STORED], places).some((hit) => hit.includes("#secret_store_entries")),
      "the scan finds the stored key in the store",
    );
    assert.deepEqual(
      findLeaks(
        [KEY_STORED],
        places.filter(([where]) => !isStore(where)),
      ),
      [],
      "where the stored key shows outside the store",
    );
    assert.ok(
      places.some(([f]) => f.includes(".sqlite#") && f.endsWith("(zstd)")),
      "compressed transcript events were scanned",
    );
    log(`scanned ${places.length} files, database values and outputs`);
  });
});
