// The OpenClaw adapter against a fake host (the real host runs in test/e2e/openclaw.e2e.ts).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
  /** The host's auth-profile store: profile id -> credential. */
  authStore: Map<
    string,
    { provider: string; keyRef?: { source: string; provider: string; id: string }; key?: string }
  >;
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
  const authStore: FakeHost["authStore"] = new Map();
  const sdk: HostSdk = {
    stateDir: () => stateDir,
    authProfiles: {
      list: (provider) =>
        [...authStore]
          .filter(([, c]) => c.provider === provider)
          .map(([id, c]) => ({ id, ...(c.keyRef ? { keyRef: c.keyRef } : {}), holdsKey: Boolean(c.key) })),
      add: async (id, credential) => {
        authStore.set(id, structuredClone(credential));
      },
      remove: async (_provider, ids) => {
        for (const id of ids) authStore.delete(id);
      },
    },
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
    authStore,
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

/** A host whose plugin config holds the key as the env SecretRef KEY_REF, state under `folder`. */
function keyRefHost(folder: string, sim: Simulator, dir: string) {
  const configFile: Record<string, unknown> = {
    plugins: { entries: { "tokenhub-setup": { config: { apiKey: KEY_REF } } } },
  };
  const host = fakeHost(
    { baseUrl: sim.baseUrl, apiKey: KEY_REF },
    join(dir, folder),
    { E2E_KEY: KEY },
    configFile,
  );
  return { host, configFile };
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
      /wiring would make tokenhub\/deepseek-v3\.2 usable \(key: a new auth profile tokenhub:default holding the SecretRef env:default:E2E_KEY\)/,
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

  it("wires TokenHub in: an auth profile holding the SecretRef, the default model and its allowlist entry; unwire gives back the config exactly", async () => {
    const stateDir = join(dir, "wire");
    const configFile: Record<string, unknown> = {
      plugins: { entries: { "tokenhub-setup": { config: { apiKey: KEY_REF } } } },
      agents: {
        defaults: {
          model: { primary: "mock/mock-1", fallbacks: ["mock/mock-2"] },
          models: { "mock/mock-1": {} },
        },
      },
    };
    const before = structuredClone(configFile);
    const host = fakeHost({ baseUrl: sim.baseUrl, apiKey: KEY_REF }, stateDir, { E2E_KEY: KEY }, configFile);
    const requests = sim.requests.length;
    const preview = await host.tool().execute("c0", { action: "start" });
    assert.match(
      preview.content[0]?.text ?? "",
      /If the user agrees, wiring would make tokenhub\/deepseek-v3\.2 usable \(key: a new auth profile tokenhub:default holding the SecretRef env:default:E2E_KEY\)/,
    );
    assert.deepEqual(configFile, before, "the preview writes nothing");

    const wired = await host.tool().execute("c1", { action: "status", wire: true, setDefault: true });
    assert.equal(
      sim.requests.length,
      requests + 1,
      "wiring sends nothing to TokenHub (one request was the preview's setup)",
    );
    assert.deepEqual(host.authStore.get("tokenhub:default"), {
      type: "api_key",
      provider: "tokenhub",
      keyRef: KEY_REF,
    });
    const after = configFile as {
      auth?: { profiles?: Record<string, unknown> };
      agents: {
        defaults: { model: { primary: string; fallbacks: string[] }; models: Record<string, unknown> };
      };
      models?: unknown;
    };
    assert.deepEqual(after.auth?.profiles?.["tokenhub:default"], { provider: "tokenhub", mode: "api_key" });
    assert.equal(after.agents.defaults.model.primary, "tokenhub/deepseek-v3.2");
    assert.deepEqual(after.agents.defaults.model.fallbacks, ["mock/mock-2"]);
    assert.deepEqual(after.agents.defaults.models["tokenhub/deepseek-v3.2"], {});
    assert.equal(
      after.models,
      undefined,
      "no models.providers entry: the registered provider's catalog serves it",
    );
    for (const text of [
      JSON.stringify(configFile),
      JSON.stringify([...host.authStore]),
      JSON.stringify(wired),
    ])
      assert.ok(!text.includes(KEY));
    assert.match(
      wired.content[0]?.text ?? "",
      /Wired: tokenhub\/deepseek-v3\.2 .*now the default model \(was \{"primary":"mock\/mock-1"/,
    );
    assert.match(wired.content[0]?.text ?? "", /To undo/);

    const undone = await host.tool().execute("c2", { action: "unwire" });
    assert.equal(undone.details.unwired, true, undone.content[0]?.text);
    assert.deepEqual(configFile, before);
    assert.equal(host.authStore.size, 0);
    const again = await host.cli("unwire", {});
    assert.match(again.stdout, /Nothing to undo/);
    assert.equal(again.exitCode, 0);
  });

  it("another TokenHub profile (a key this setup did not check): a new profile holds the verified reference and goes first; unwire leaves theirs and a default changed since", async () => {
    const { host, configFile } = keyRefHost("wire-existing", sim, dir);
    host.authStore.set("tokenhub:default", { provider: "tokenhub", key: "sk-pasted-unchecked" });
    const wired = await host.tool().execute("c1", { action: "start", wire: true, setDefault: true });
    assert.match(
      wired.content[0]?.text ?? "",
      /a new auth profile tokenhub:tokenhub-setup holding the SecretRef env:default:E2E_KEY, used before the other TokenHub profiles/,
    );
    assert.deepEqual(host.authStore.get("tokenhub:tokenhub-setup")?.keyRef, KEY_REF);
    assert.deepEqual((configFile.auth as { order: unknown }).order, {
      tokenhub: ["tokenhub:tokenhub-setup", "tokenhub:default"],
    });
    (configFile.agents as { defaults: { model: { primary: string } } }).defaults.model.primary =
      "other/chosen";
    const undone = await host.tool().execute("c2", { action: "unwire" });
    assert.match(
      undone.content[0]?.text ?? "",
      /except what is left as it is: agents\.defaults\.model\.primary \(changed since wiring\)\./,
    );
    assert.equal(
      (configFile.agents as { defaults: { model: { primary: string } } }).defaults.model.primary,
      "other/chosen",
    );
    assert.deepEqual([...host.authStore.keys()], ["tokenhub:default"]);
    assert.equal((configFile as { auth?: unknown }).auth, undefined);
  });

  it("a profile already holding the verified reference is used as it is, and unwire leaves it", async () => {
    const { host, configFile } = keyRefHost("wire-same", sim, dir);
    const before = structuredClone(configFile);
    host.authStore.set("tokenhub:work", { provider: "tokenhub", keyRef: KEY_REF });
    const wired = await host.tool().execute("c1", { action: "start", wire: true });
    assert.match(
      wired.content[0]?.text ?? "",
      /key: OpenClaw's auth profile tokenhub:work, holding the key this setup checked/,
    );
    assert.deepEqual(configFile, before, "nothing to write without setDefault");
    await host.tool().execute("c2", { action: "unwire" });
    assert.deepEqual([...host.authStore.keys()], ["tokenhub:work"]);
  });

  it("a model policy (agents.defaults.modelPolicy.allow) that refuses the wired model is named with the command that allows it, and left as it is", async () => {
    const { host, configFile } = keyRefHost("wire-policy", sim, dir);
    configFile.agents = { defaults: { modelPolicy: { allow: ["zzother/zeta-model", "it's/odd"] } } };
    const wired = await host.tool().execute("c1", { action: "start", wire: true, setDefault: true });
    const text = wired.content[0]?.text ?? "";
    assert.match(text, /does not list tokenhub\/deepseek-v3\.2, so \/model and --model refuse it/);
    const command = /openclaw (config set agents\.defaults\.modelPolicy\.allow '.*' --strict-json)/.exec(
      text,
    )?.[1];
    // What a shell hands OpenClaw from that line: the policy as it was, plus tokenhub/*.
    const argv = execFileSync("bash", ["-c", `printf '%s\\n' ${command}`], { encoding: "utf8" }).split("\n");
    assert.deepEqual(argv.slice(0, 3), ["config", "set", "agents.defaults.modelPolicy.allow"]);
    assert.deepEqual(argv[4], "--strict-json");
    assert.deepEqual(JSON.parse(argv[3] ?? ""), ["zzother/zeta-model", "it's/odd", "tokenhub/*"]);
    assert.deepEqual(
      (configFile.agents as { defaults: { modelPolicy: unknown } }).defaults.modelPolicy,
      { allow: ["zzother/zeta-model", "it's/odd"] },
      "the policy is the user's",
    );
    assert.equal(
      (wired.details as { wiring?: { policy?: string } }).wiring?.policy?.startsWith(
        "OpenClaw's model policy",
      ),
      true,
    );
    // A policy admitting TokenHub (a provider wildcard) gets no sentence.
    const { host: host2, configFile: configFile2 } = keyRefHost("wire-policy-ok", sim, dir);
    configFile2.agents = { defaults: { modelPolicy: { allow: ["tokenhub/*"] } } };
    const admitted = await host2.tool().execute("c1", { action: "start", wire: true, setDefault: true });
    assert.doesNotMatch(admitted.content[0]?.text ?? "", /modelPolicy/);
  });

  it("unwire keeps the profile when it holds another key since wiring (models auth login under the same id)", async () => {
    const { host, configFile } = keyRefHost("wire-relogin", sim, dir);
    await host.tool().execute("c1", { action: "start", wire: true, setDefault: true });
    host.authStore.set("tokenhub:default", { provider: "tokenhub", key: "sk-logged-in-since" });
    const undone = await host.tool().execute("c2", { action: "unwire" });
    assert.match(
      undone.content[0]?.text ?? "",
      /auth profile tokenhub:default \(it holds another key since wiring/,
    );
    assert.equal(host.authStore.get("tokenhub:default")?.key, "sk-logged-in-since");
    assert.deepEqual((configFile.auth as { profiles: unknown }).profiles, {
      "tokenhub:default": { provider: "tokenhub", mode: "api_key" },
    });
  });

  it("unwire keeps the profile while the default model is still a TokenHub one the user chose since", async () => {
    const { host, configFile } = keyRefHost("wire-still", sim, dir);
    await host.tool().execute("c1", { action: "start", wire: true, setDefault: true });
    (configFile.agents as { defaults: { model: { primary: string } } }).defaults.model.primary =
      "tokenhub/alibaba/deepseek-v3.2";
    const undone = await host.tool().execute("c2", { action: "unwire" });
    assert.match(
      undone.content[0]?.text ?? "",
      /auth profile tokenhub:default \(the default model is still a TokenHub model/,
    );
    assert.ok(host.authStore.has("tokenhub:default"));
  });

  it("a wiring record naming paths or profiles wiring never writes, or too large, is refused and nothing is undone", async () => {
    const stateDir = join(dir, "wire-hostile");
    const configFile: Record<string, unknown> = {
      plugins: { entries: { "tokenhub-setup": { config: {} } } },
      agents: { defaults: { models: { "mock/m": {} } } },
    };
    const before = structuredClone(configFile);
    const host = fakeHost({ baseUrl: sim.baseUrl }, stateDir, {}, configFile);
    host.authStore.set("openai:manual", { provider: "openai", key: "sk-openai" });
    const file = join(stateDir, "plugins", "tokenhub-setup", "wiring-backup.json");
    await mkdir(dirname(file), { recursive: true });
    for (const hostile of [
      { version: 2, edits: [{ path: ["plugins", "entries"], value: {}, existed: false, created: 1 }] },
      {
        version: 2,
        edits: [
          {
            path: ["agents", "defaults", "models"],
            value: {},
            existed: true,
            before: { "evil/m": {} },
            created: 2,
          },
        ],
      },
      { version: 2, edits: [], profile: "openai:manual" },
    ]) {
      await writeFile(file, JSON.stringify(hostile));
      const undone = await host.tool().execute("c1", { action: "unwire" });
      assert.match(undone.content[0]?.text ?? "", /cannot be read/, JSON.stringify(hostile));
    }
    await writeFile(file, JSON.stringify({ version: 2, edits: [], pad: "x".repeat(70_000) }));
    const big = await host.tool().execute("c2", { action: "unwire" });
    assert.match(big.content[0]?.text ?? "", /cannot be read: it is \d+ bytes/);
    assert.deepEqual(configFile, before);
    assert.ok(host.authStore.has("openai:manual"));
  });

  it("refuses to wire a key configured as plain text, naming the host's way to store it, and writes nothing", async () => {
    const configFile: Record<string, unknown> = {
      plugins: { entries: { "tokenhub-setup": { config: { apiKey: KEY } } } },
    };
    const before = structuredClone(configFile);
    const host = fakeHost({ baseUrl: sim.baseUrl, apiKey: KEY }, join(dir, "plain"), {}, configFile);
    const result = await host.tool().execute("c1", { action: "start", wire: true, setDefault: true });
    assert.equal(result.details.state, "complete");
    assert.match(
      result.content[0]?.text ?? "",
      /Not wired: .*plain text.*openclaw models auth login --provider tokenhub/,
    );
    assert.deepEqual(configFile, before);
    assert.equal(host.authStore.size, 0);
    assert.ok(!JSON.stringify(result).includes(KEY));
  });

  it("a wiring record that cannot be read is named, left in place, and nothing is undone", async () => {
    const stateDir = join(dir, "wire-corrupt");
    const configFile: Record<string, unknown> = {
      agents: { defaults: { model: { primary: "tokenhub/x" } } },
    };
    const host = fakeHost({ baseUrl: sim.baseUrl }, stateDir, {}, configFile);
    const file = join(stateDir, "plugins", "tokenhub-setup", "wiring-backup.json");
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, "{not json");
    const undone = await host.tool().execute("c1", { action: "unwire" });
    assert.match(undone.content[0]?.text ?? "", /cannot be read: it is not JSON.*left in place/);
    assert.equal(await readFile(file, "utf8"), "{not json");
    assert.deepEqual(configFile, { agents: { defaults: { model: { primary: "tokenhub/x" } } } });
  });

  it("unwire takes back what an earlier version wired (models.providers.tokenhub and the default)", async () => {
    const stateDir = join(dir, "wire-legacy");
    const configFile: Record<string, unknown> = {
      models: {
        providers: { tokenhub: { baseUrl: "https://tokenhub.link/v1" }, mock: { baseUrl: "http://m" } },
      },
      agents: { defaults: { model: { primary: "tokenhub/deepseek-v3.2" } } },
    };
    const host = fakeHost({ baseUrl: sim.baseUrl }, stateDir, {}, configFile);
    const file = join(stateDir, "plugins", "tokenhub-setup", "wiring-backup.json");
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ defaultModel: "mock/mock-1", wroteDefault: true }));
    const undone = await host.tool().execute("c1", { action: "unwire" });
    assert.equal(undone.details.unwired, true, undone.content[0]?.text);
    assert.deepEqual(configFile, {
      models: { providers: { mock: { baseUrl: "http://m" } } },
      agents: { defaults: { model: { primary: "mock/mock-1" } } },
    });
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

  // What the model reads names tool calls; a person is told commands (the review found the model's text at a terminal).
  const TOOL_TALK = /tokenhub_setup|Offer the user|Tell the user|If the user agrees|"action"/;

  it("openclaw tokenhub (a person at a terminal) is told commands, not tool calls, from no key to wired and back", async () => {
    const host = fakeHost({ baseUrl: sim.baseUrl }, join(dir, "cli-person"), {});
    const none = await host.cli("status", {});
    assert.match(none.stdout, /No TokenHub integration is recorded yet .*Run openclaw tokenhub setup\./);
    const waiting = await host.cli("setup", {});
    assert.match(waiting.stdout, /Create a key at https:\/\/.*\nThen run openclaw tokenhub resume\./s);
    const { host: keyed } = keyRefHost("cli-person-keyed", sim, dir);
    const done = await keyed.cli("setup", {});
    assert.match(done.stdout, /openclaw tokenhub setup --wire would make tokenhub\/deepseek-v3\.2 usable/);
    const wired = await keyed.cli("setup", { wire: true, setDefault: true });
    assert.match(wired.stdout, /Wired: tokenhub\/deepseek-v3\.2/);
    assert.match(wired.stdout, /To undo: openclaw tokenhub unwire\./);
    const undone = await keyed.cli("unwire", {});
    for (const out of [none, waiting, done, wired, undone])
      assert.doesNotMatch(out.stdout, TOOL_TALK, out.stdout);
    // The model still gets its own sentences.
    const forModel = await keyed.tool().execute("c1", { action: "start" });
    assert.match(forModel.content[0]?.text ?? "", /If the user agrees/);
  });

  it("/tokenhub (a person in a chat) is told slash commands, not tool calls", async () => {
    const host = fakeHost({ baseUrl: sim.baseUrl }, join(dir, "cmd-person"), {});
    const waiting = await host.command({ args: "setup", sessionKey: "agent:main:p" });
    assert.match(waiting.text, /Then run \/tokenhub resume\./);
    assert.doesNotMatch(waiting.text, TOOL_TALK);
  });
});
