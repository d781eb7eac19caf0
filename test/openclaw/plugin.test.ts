// The OpenClaw adapter against a fake host (the real host runs in test/e2e/openclaw.e2e.ts).
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type {
  CliCommand,
  CommandContext,
  HostApi,
  HostSdk,
  HostTool,
  ToolContext,
} from "../../src/openclaw/host.ts";
import { registerTokenHub, TOOL_PARAMETERS } from "../../src/openclaw/plugin.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";

const KEY = "sk-plugin-unit-7c1e55aa";
/** How the tests configure the key: an env SecretRef, resolved from the fake host's `secrets`. */
const KEY_REF = { source: "env", provider: "default", id: "E2E_KEY" };

interface FakeHost {
  api: HostApi;
  tool(ctx?: ToolContext): HostTool;
  command(ctx: CommandContext): Promise<{ text: string }>;
  /** Runs `openclaw tokenhub <name>` as registered through registerCli: its output and exit code. */
  cli(name: string, opts: Record<string, unknown>): Promise<{ stdout: string; exitCode: number }>;
  configFile: Record<string, unknown>;
  logs: string[];
}

/** Enough of commander for registerCli: records each subcommand's action by its name. */
function fakeProgram(actions: Map<string, (opts: Record<string, unknown>) => Promise<void>>): CliCommand {
  const node = (name: string): CliCommand => ({
    command: (nameAndArgs) => node(nameAndArgs.split(" ")[0] as string),
    description: () => node(name),
    option: () => node(name),
    action(fn) {
      actions.set(name, fn as unknown as (opts: Record<string, unknown>) => Promise<void>);
      return node(name);
    },
  });
  return node("openclaw");
}

/** The config with every env SecretRef replaced by its value, as OpenClaw's runtime snapshot has it. */
function resolveRefs(value: unknown, secrets: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, secrets));
  if (!value || typeof value !== "object") return value;
  const ref = value as { source?: unknown; id?: unknown };
  if (ref.source === "env" && typeof ref.id === "string") return secrets[ref.id] ?? value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, secrets)]));
}

/** A host that keeps the config file in memory and resolves env SecretRefs from `secrets`. */
function fakeHost(
  pluginConfig: Record<string, unknown>,
  stateDir: string,
  secrets: Record<string, string>,
  configFile: Record<string, unknown> = {
    plugins: { entries: { "tokenhub-setup": { config: pluginConfig } } },
  },
): FakeHost {
  let factory: ((ctx: ToolContext) => HostTool | null) | undefined;
  let handler: ((ctx: CommandContext) => Promise<{ text: string }>) | undefined;
  const cliActions = new Map<string, (opts: Record<string, unknown>) => Promise<void>>();
  const logs: string[] = [];
  const api: HostApi = {
    id: "tokenhub-setup",
    config: configFile,
    pluginConfig,
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    registerTool: (f) => {
      factory = f;
    },
    registerCommand: (c) => {
      handler = c.handler;
    },
    registerCli: (registrar) => registrar({ program: fakeProgram(cliActions) }),
    runtime: {
      config: {
        async mutateConfigFile(mutation) {
          const result = mutation.mutate(configFile);
          return { path: "/fake/openclaw.json", result };
        },
      },
    },
  };
  const sdk: HostSdk = {
    stateDir: () => stateDir,
    sourceConfig: () => configFile,
    async resolveSecret({ value }) {
      if (typeof value === "string") return { value };
      const ref = value as { source: string; id: string };
      const found = ref.source === "env" ? secrets[ref.id] : undefined;
      return found ? { value: found } : { unresolvedRefReason: `${ref.source}:${ref.id} is unresolved` };
    },
  };
  registerTokenHub(api, sdk);
  return {
    api,
    configFile,
    logs,
    // As on the real host, a tool's context carries the runtime config: SecretRefs already resolved to values.
    tool: (ctx = { sessionKey: "agent:main:t1", getRuntimeConfig: () => resolveRefs(configFile, secrets) }) =>
      factory?.(ctx) as HostTool,
    command: (ctx) => (handler as (c: CommandContext) => Promise<{ text: string }>)(ctx),
    async cli(name, opts) {
      const action = cliActions.get(name);
      if (!action) throw new Error(`no CLI command ${name}`);
      const write = process.stdout.write;
      const saved = process.exitCode;
      let stdout = "";
      process.exitCode = 0;
      // The plugin writes strings; node:test's own reporter protocol (bytes) goes through untouched.
      process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (typeof chunk !== "string")
          return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
        stdout += chunk;
        return true;
      }) as typeof process.stdout.write;
      try {
        await action(opts);
        return { stdout, exitCode: Number(process.exitCode ?? 0) };
      } finally {
        process.stdout.write = write;
        process.exitCode = saved;
      }
    },
  };
}

describe("OpenClaw adapter (fake host)", () => {
  let dir: string;
  let sim: Simulator;
  const savedEnv = process.env.TOKENHUB_API_KEY;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-plugin-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
    delete process.env.TOKENHUB_API_KEY;
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    if (savedEnv !== undefined) process.env.TOKENHUB_API_KEY = savedEnv;
  });

  it("publishes a strict JSON Schema for the tool parameters", () => {
    assert.equal(TOOL_PARAMETERS.type, "object");
    assert.equal(TOOL_PARAMETERS.additionalProperties, false);
    assert.deepEqual((TOOL_PARAMETERS.required as string[]) ?? [], ["action"]);
  });

  it("start without a key -> needKey text that forbids pasting; after the user sets an env SecretRef, resume completes", async () => {
    const stateDir = join(dir, "flow");
    const first = fakeHost({ baseUrl: sim.baseUrl }, stateDir, {});
    const started = await first.tool().execute("c1", { action: "start" });
    assert.equal(started.details.state, "awaitingKey");
    const text = started.content[0]?.text ?? "";
    assert.match(text, /Do NOT ask them to paste/);
    assert.match(text, /--ref-source env --ref-provider default --ref-id TOKENHUB_API_KEY/);
    assert.match(text, /"action":"resume"/);
    assert.equal(sim.requests.length, 0);

    // Hot reload: OpenClaw re-runs register() with the new plugin config.
    const reloaded = fakeHost({ baseUrl: sim.baseUrl, apiKey: KEY_REF }, stateDir, { E2E_KEY: KEY });
    const resumed = await reloaded.tool().execute("c2", { action: "resume" });
    assert.equal(resumed.details.state, "complete", resumed.content[0]?.text);
    assert.match(resumed.content[0]?.text ?? "", /TokenHub integration verified/);
    // What wiring would write is shown before anything is written: the SecretRef, never the key.
    assert.match(
      resumed.content[0]?.text ?? "",
      /wiring would write models\.providers\.tokenhub = .*"id":"E2E_KEY"/,
    );
    assert.deepEqual(
      (resumed.details.notifications as Array<{ type: string }>).map((n) => n.type),
      ["completed"],
    );
    const status = await reloaded.tool().execute("c3", { action: "status" });
    assert.match(status.content[0]?.text ?? "", /Last TokenHub check: success/);
    assert.ok(!JSON.stringify([started, resumed, status]).includes(KEY));
    assert.deepEqual(
      await readdir(join(stateDir, "plugins", "tokenhub-setup", "conversations")).then((f) => f.length),
      1,
    );
  });

  it("multimodal: the checks run when the tool asks for them, files under the plugin's state folder", async () => {
    const stateDir = join(dir, "media");
    const host = fakeHost(
      {
        baseUrl: sim.baseUrl,
        apiKey: KEY_REF,
        multimodal: { video: { pollIntervalMs: 20 } },
      },
      stateDir,
      { E2E_KEY: KEY },
    );
    const done = await host.tool().execute("m1", { action: "start", multimodal: ["image", "video"] });
    assert.equal(done.details.state, "complete", done.content[0]?.text);
    const text = done.content[0]?.text ?? "";
    const mediaDir = join(stateDir, "plugins", "tokenhub-setup", "media");
    assert.match(
      text,
      new RegExp(`The image check passed with wanx2\\.1-t2i-turbo: the file is at ${mediaDir}/`),
    );
    assert.match(text, /The video check passed/);
    assert.equal((await readdir(mediaDir)).length, 2);
  });

  it("multimodal: a long video wait ends the call with a resume hint; cancel keeps the verified record", async () => {
    const stateDir = join(dir, "media-wait");
    const host = fakeHost(
      {
        baseUrl: sim.baseUrl,
        apiKey: KEY_REF,
        multimodal: { video: { pollIntervalMs: 60_000 } },
      },
      stateDir,
      { E2E_KEY: KEY },
    );
    const waiting = await host.tool().execute("w1", { action: "start", multimodal: ["video"] });
    assert.equal(waiting.details.state, "multimodal.videoWaiting");
    assert.match(waiting.content[0]?.text ?? "", /still being generated.*"action":"resume"/);
    const cancelled = await host.tool().execute("w2", { action: "cancel" });
    assert.equal(cancelled.details.state, "complete", cancelled.content[0]?.text);
    assert.match(cancelled.content[0]?.text ?? "", /The video check cancelled .*task task-\d+/);
    const status = await host.tool().execute("w3", { action: "status" });
    assert.match(status.content[0]?.text ?? "", /Last TokenHub check: success/);
  });

  it("openclaw tokenhub setup: --multimodal checked by the tool's schema; an action that throws exits 1", async () => {
    const stateDir = join(dir, "cli");
    const host = fakeHost(
      {
        baseUrl: sim.baseUrl,
        apiKey: KEY_REF,
        multimodal: { video: { pollIntervalMs: 20 } },
      },
      stateDir,
      { E2E_KEY: KEY },
    );
    const bad = await host.cli("setup", { multimodal: "audio" });
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stdout, /Invalid tokenhub_setup parameters at multimodal/);
    const good = await host.cli("setup", { multimodal: "image", json: true });
    assert.equal(good.exitCode, 0, good.stdout);
    assert.equal(JSON.parse(good.stdout).record.multimodal.image.status, "ok");
    // The key resolves, but the state folder cannot be created: the action throws inside.
    const broken = fakeHost({ baseUrl: sim.baseUrl, apiKey: KEY_REF }, "/dev/null/openclaw-state", {
      E2E_KEY: KEY,
    });
    const failed = await broken.cli("setup", {});
    assert.equal(failed.exitCode, 1, failed.stdout);
    assert.match(failed.stdout, /TokenHub setup failed/);
    assert.ok(!failed.stdout.includes(KEY));
  });

  it("keeps conversations apart by session key", async () => {
    const stateDir = join(dir, "sessions");
    const host = fakeHost({ baseUrl: sim.baseUrl }, stateDir, {});
    await host.tool({ sessionKey: "agent:main:a" }).execute("c1", { action: "start" });
    await host.tool({ sessionKey: "agent:main:b/../../x" }).execute("c1", { action: "start" });
    const files = await readdir(join(stateDir, "plugins", "tokenhub-setup", "conversations"));
    assert.equal(files.length, 2);
    assert.ok(
      files.every((f) => /^[0-9a-f]{32}\.json$/.test(f)),
      "session keys never become paths",
    );
  });

  it("wires TokenHub as a provider with the SecretRef, never the key, and unwire restores the config", async () => {
    const stateDir = join(dir, "wire");
    const configFile: Record<string, unknown> = {
      plugins: { entries: { "tokenhub-setup": { config: { apiKey: KEY_REF } } } },
      agents: { defaults: { model: { primary: "mock/mock-1" } } },
    };
    const host = fakeHost({ baseUrl: sim.baseUrl, apiKey: KEY_REF }, stateDir, { E2E_KEY: KEY }, configFile);
    const wired = await host.tool().execute("c1", { action: "start", wire: true, setDefault: true });
    assert.equal(wired.details.state, "complete");
    const providers = (
      configFile.models as { providers: Record<string, { apiKey: unknown; baseUrl: string; api: string }> }
    ).providers;
    assert.deepEqual(providers.tokenhub?.apiKey, KEY_REF);
    assert.equal(providers.tokenhub?.api, "openai-completions");
    assert.equal(providers.tokenhub?.baseUrl, sim.baseUrl);
    assert.equal(
      (configFile.agents as { defaults: { model: { primary: string } } }).defaults.model.primary,
      "tokenhub/deepseek-v3.2",
    );
    assert.ok(!JSON.stringify(configFile).includes(KEY));
    assert.match(wired.content[0]?.text ?? "", /To undo/);

    const undone = await host.tool().execute("c2", { action: "unwire" });
    assert.equal(undone.details.unwired, true);
    assert.equal(providers.tokenhub, undefined);
    assert.equal(
      (configFile.agents as { defaults: { model: { primary: string } } }).defaults.model.primary,
      "mock/mock-1",
    );
  });

  it("refuses to wire a key configured as plain text", async () => {
    const configFile: Record<string, unknown> = {
      plugins: { entries: { "tokenhub-setup": { config: { apiKey: KEY } } } },
    };
    const host = fakeHost({ baseUrl: sim.baseUrl, apiKey: KEY }, join(dir, "plain"), {}, configFile);
    const result = await host.tool().execute("c1", { action: "start", wire: true });
    assert.equal(result.details.state, "complete");
    assert.match(result.content[0]?.text ?? "", /Not wired: .*plain text/);
    assert.equal(configFile.models, undefined);
    assert.ok(!JSON.stringify(result).includes(KEY));
  });

  it("answers bad parameters and an invalid plugin config with a sentence", async () => {
    const host = fakeHost({ baseUrl: sim.baseUrl }, join(dir, "bad"), {});
    const bad = await host.tool().execute("c1", { action: "launch" });
    assert.equal(bad.details.state, "invalidParams");
    const broken = fakeHost(
      { baseUrl: "http://tokenhub.link/v1", retry: { maxAttempts: 9 } },
      join(dir, "broken"),
      {},
    );
    const result = await broken.tool().execute("c1", { action: "start" });
    assert.equal(result.details.state, "invalidConfig");
    assert.match(result.content[0]?.text ?? "", /plugin config is invalid/);
  });

  it("/tokenhub runs without the model, over the same session code", async () => {
    const host = fakeHost({ baseUrl: sim.baseUrl, apiKey: KEY_REF }, join(dir, "cmd"), {
      E2E_KEY: KEY,
    });
    const setup = await host.command({ args: "setup", sessionKey: "agent:main:c" });
    assert.match(setup.text, /TokenHub integration verified/);
    const status = await host.command({ args: "status", sessionKey: "agent:main:c" });
    assert.match(status.text, /Last TokenHub check: success/);
    const usage = await host.command({ args: "dance", sessionKey: "agent:main:c" });
    assert.match(usage.text, /^Usage: \/tokenhub/);
  });
});
