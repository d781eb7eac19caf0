// TokenHub as an OpenClaw provider against a fake host and the simulator (the real host: test/e2e/openclaw-provider.e2e.ts).
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type {
  ApiKeyAuthOptions,
  HostApi,
  HostAuthMethod,
  HostModelCatalogProvider,
  HostProvider,
  HostSdk,
  InteractiveAuthContext,
  NonInteractiveAuthContext,
} from "../../src/openclaw/host.ts";
import { registerTokenHub } from "../../src/openclaw/plugin.ts";
import {
  catalogOrder,
  catalogRows,
  type ProviderDeps,
  providerConfig,
  tokenHubAuthMethod,
} from "../../src/openclaw/provider.ts";
import { type CompletionRecord, resolveConfig } from "../../src/session/index.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";

const GOOD = "sk-provider-unit-good-4d1f7a";
const BAD = "sk-provider-unit-bad-99e0c2";

function record(overrides: Partial<CompletionRecord> = {}): CompletionRecord {
  return {
    integration_status: "success",
    provider_mode: "provider-pinned",
    model: "alibaba/deepseek-v3.2",
    endpoint: "POST /v1/chat/completions",
    validated_at: "2026-01-02T03:04:05.000Z",
    notes: "TokenHub API is ready for production wiring.",
    result: {
      base_url: "https://tokenhub.example/v1",
      attempted_at: "2026-01-02T03:04:05.000Z",
      notices: [],
      request_ids: [],
      http_status: 200,
      model_served: "alibaba/deepseek-v3.2",
      response_id: "chatcmpl-1",
      latency_ms: 100,
      attempts: 2,
      fallbacks_used: ["deepseek-v3.2"],
      key_source: "env",
      streamed: false,
      reply_preview: "OK",
    },
    ...overrides,
  };
}

/**
 * Enough of OpenClaw's createProviderApiKeyAuthMethod (2026.9.6, dist/provider-api-key-auth-*.mjs): interactive
 * `run` captures the key, calls `resolveDefaultModel` with it and returns the profile for the host to store;
 * `runNonInteractive` resolves the key, stores it, and returns the config.
 */
function fakeCreate(stored: Array<{ profileId: string; key: string }>) {
  return (options: ApiKeyAuthOptions): HostAuthMethod => ({
    id: options.methodId,
    label: options.label,
    kind: "api_key",
    async run(ctx) {
      const apiKey = (ctx as InteractiveAuthContext & { typed: string }).typed;
      const defaultModel = await options
        .resolveDefaultModel?.({ apiKey, config: ctx.config })
        .catch(() => undefined);
      return {
        profiles: [
          { profileId: `${options.providerId}:default`, credential: { type: "api_key", key: apiKey } },
        ],
        defaultModel,
      };
    },
    async runNonInteractive(ctx) {
      const resolved = await ctx.resolveApiKey({
        provider: options.providerId,
        flagName: options.flagName,
        envVar: options.envVar,
      });
      if (!resolved) return null;
      stored.push({ profileId: `${options.providerId}:default`, key: resolved.key });
      return { ...ctx.config, stored: true };
    },
  });
}

function nonInteractive(key: string) {
  const out = { errors: [] as string[], logs: [] as string[], exitCode: undefined as number | undefined };
  const ctx: NonInteractiveAuthContext = {
    config: {},
    opts: {},
    runtime: {
      log: (...a) => out.logs.push(a.join(" ")),
      error: (...a) => out.errors.push(a.join(" ")),
      exit: (code) => {
        out.exitCode = code;
      },
    },
    resolveApiKey: async () => ({ key, source: "env", envVarName: "TOKENHUB_API_KEY" }),
  };
  return { ctx, out };
}

function interactive(key: string) {
  const notes: string[] = [];
  const ctx = {
    config: {},
    typed: key,
    runtime: { log() {}, error() {}, exit() {} },
    prompter: {
      note: async (message: string) => {
        notes.push(message);
      },
    },
  } as InteractiveAuthContext & { typed: string };
  return { ctx, notes };
}

describe("TokenHub as an OpenClaw provider", () => {
  let sim: Simulator;
  let dir: string;
  let deps: ProviderDeps;
  before(async () => {
    sim = await startSimulator({ acceptKeys: [GOOD] });
    dir = await mkdtemp(join(tmpdir(), "th-provider-"));
    deps = {
      config: resolveConfig({ baseUrl: sim.baseUrl }),
      env: {},
      recordPath: () => join(dir, "status.json"),
    };
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("onboard (non-interactive): a key TokenHub accepts is checked once, then stored by the host", async () => {
    const stored: Array<{ profileId: string; key: string }> = [];
    const method = tokenHubAuthMethod(fakeCreate(stored), deps);
    sim.reset();
    const { ctx, out } = nonInteractive(GOOD);
    const config = await method.runNonInteractive?.(ctx);
    assert.deepEqual(config, { stored: true });
    assert.equal(stored.length, 1);
    assert.equal(out.exitCode, undefined);
    assert.match(out.logs.join("\n"), /TokenHub accepted the key: deepseek-v3\.2 answered \(HTTP 200\)/);
    const chats = sim.requests.filter((r) => r.path.endsWith("/chat/completions"));
    assert.equal(chats.length, 1);
  });

  it("onboard (non-interactive): a 401 takes the host's refusal path and nothing is stored", async () => {
    const stored: Array<{ profileId: string; key: string }> = [];
    const method = tokenHubAuthMethod(fakeCreate(stored), deps);
    const { ctx, out } = nonInteractive(BAD);
    assert.equal(await method.runNonInteractive?.(ctx), null);
    assert.equal(stored.length, 0);
    assert.equal(out.exitCode, 1);
    assert.match(out.errors.join("\n"), /TokenHub rejected this key \(HTTP 401\); nothing was stored/);
    assert.doesNotMatch(out.errors.join("\n"), new RegExp(BAD));
  });

  it("onboard (non-interactive): a key the host already keeps in a profile is checked too (paste-api-key stores keys unchecked)", async () => {
    const stored: Array<{ profileId: string; key: string }> = [];
    const method = tokenHubAuthMethod(fakeCreate(stored), deps);
    const { ctx, out } = nonInteractive(BAD);
    sim.reset();
    const fromProfile = { ...ctx, resolveApiKey: async () => ({ key: BAD, source: "profile" as const }) };
    assert.equal(await method.runNonInteractive?.(fromProfile as typeof ctx), null);
    assert.equal(out.exitCode, 1);
    assert.equal(sim.requests.filter((r) => r.path.endsWith("/chat/completions")).length, 1);
    assert.match(out.errors.join("\n"), /TokenHub rejected this key/);
  });

  it("models auth login on a host that stores the key without handing it to the check first: said, not silent", async () => {
    const create = (options: Parameters<ReturnType<typeof fakeCreate>>[0]) => {
      const host = fakeCreate([])(options);
      // A host whose run never calls resolveDefaultModel.
      return { ...host, run: async () => ({ profiles: [{ profileId: "tokenhub:default" }] }) };
    };
    const method = tokenHubAuthMethod(create as ReturnType<typeof fakeCreate>, deps);
    const { ctx, notes } = interactive(GOOD);
    await method.run(ctx);
    assert.match(notes.join("\n"), /stored the key without handing it to TokenHub's check/);
  });

  it("models auth login (interactive): a good key's profile goes back to the host; a 401 ends with an error", async () => {
    const method = tokenHubAuthMethod(fakeCreate([]), deps);
    const good = interactive(GOOD);
    const result = (await method.run(good.ctx)) as { profiles: unknown[]; defaultModel: string };
    assert.equal(result.profiles.length, 1);
    assert.equal(result.defaultModel, "tokenhub/deepseek-v3.2");
    assert.deepEqual(good.notes, []);
    const bad = interactive(BAD);
    await assert.rejects(method.run(bad.ctx), /TokenHub rejected this key \(HTTP 401\)/);
  });

  it("says so when the key is fine but the account or region is not; refuses what cannot be a key", async () => {
    const stored: Array<{ profileId: string; key: string }> = [];
    const method = tokenHubAuthMethod(fakeCreate(stored), deps);
    sim.useScenario("insufficient-balance");
    try {
      const { ctx, out } = nonInteractive(GOOD);
      assert.deepEqual(await method.runNonInteractive?.(ctx), { stored: true });
      assert.match(out.errors.join("\n"), /balance is used up/);
    } finally {
      sim.useScenario("happy");
    }
    const short = nonInteractive("short");
    assert.equal(await method.runNonInteractive?.(short.ctx), null);
    assert.equal(short.out.exitCode, 1);
    assert.equal(stored.length, 1);
  });

  it("a key that cannot be checked (TokenHub unreachable) is stored, with a sentence saying so", async () => {
    const stored: Array<{ profileId: string; key: string }> = [];
    const down = { ...deps, config: resolveConfig({ baseUrl: "http://127.0.0.1:9/v1" }) };
    const method = tokenHubAuthMethod(fakeCreate(stored), down);
    const { ctx, out } = nonInteractive(GOOD);
    assert.deepEqual(await method.runNonInteractive?.(ctx), { stored: true });
    assert.match(out.errors.join("\n"), /could not be checked/);
  });

  it("the catalog: the verified model first, then the chain, at the record's base URL; media rows marked", () => {
    const config = resolveConfig({});
    const verified = record({
      multimodal: {
        image: {
          status: "ok",
          model: "wanx2.1-t2i-turbo",
          task_id: null,
          file: null,
          bytes: 10,
          mime: "image/png",
          sha256: null,
          duration_ms: 1,
          finished_at: "2026-01-02T03:05:00.000Z",
        },
      },
    });
    const provider = providerConfig(verified, config);
    assert.equal(provider.baseUrl, "https://tokenhub.example/v1");
    assert.equal(provider.api, "openai-completions");
    assert.deepEqual(
      provider.models.map((m) => m.id),
      ["alibaba/deepseek-v3.2", "deepseek-v3.2"],
    );
    const rows = catalogRows(verified, config);
    const by = (kind: string) => rows.filter((r) => r.kind === kind);
    assert.deepEqual(
      by("text").map((r) => [r.model, r.capabilities?.verified, r.default ?? false]),
      [
        ["alibaba/deepseek-v3.2", true, true],
        ["deepseek-v3.2", false, false],
      ],
    );
    assert.equal(by("image_generation")[0]?.model, "wanx2.1-t2i-turbo");
    assert.equal(by("image_generation")[0]?.capabilities?.verified, true);
    assert.equal(by("video_generation")[0]?.model, "wan2.6-t2v");
    assert.equal(by("video_generation")[0]?.capabilities?.verified, false);
    // Without a record: the configured chain at the configured base, nothing marked verified.
    assert.equal(providerConfig(undefined, config).baseUrl, config.baseUrl);
    assert.ok(catalogRows(undefined, config).every((r) => r.capabilities?.verified === false));
  });

  it("the picker order: the host's own TokenHub rows handed back unchanged, verified first, others left out", async () => {
    const path = join(dir, "order.json");
    await writeFile(path, JSON.stringify(record({ model: "deepseek-v3.2" })));
    const order = catalogOrder({ ...deps, recordPath: () => path });
    const row = (provider: string, id: string) => ({
      provider,
      id,
      name: `${id} row`,
      api: "openai-completions",
    });
    const entries = [
      row("tokenhub", "alibaba/deepseek-v3.2"),
      row("openai", "gpt-5.4"),
      row("tokenhub", "deepseek-v3.2"),
      row("tokenhub", "retired-model"),
    ];
    const ordered = await order({ entries });
    assert.deepEqual(ordered, [row("tokenhub", "deepseek-v3.2"), row("tokenhub", "alibaba/deepseek-v3.2")]);
    assert.notEqual(ordered?.[0], entries[2], "copies: the host's own rows are not touched");
    assert.equal(
      await order({ entries: [row("openai", "gpt-5.4")] }),
      null,
      "no TokenHub rows (no key): nothing",
    );
  });

  it("registers the provider and its catalog rows when the host has them; the catalog reads the record", async () => {
    const path = join(dir, "status.json");
    await writeFile(path, JSON.stringify(record({ result: { ...record().result, base_url: sim.baseUrl } })));
    let provider: HostProvider | undefined;
    let rows: HostModelCatalogProvider | undefined;
    const api = {
      id: "tokenhub-setup",
      config: {},
      pluginConfig: { statusPath: path },
      logger: { info() {}, warn() {}, error() {} },
      registerTool() {},
      registerCommand() {},
      registerCli() {},
      registerProvider: (p: HostProvider) => {
        provider = p;
      },
      registerModelCatalogProvider: (p: HostModelCatalogProvider) => {
        rows = p;
      },
      get runtime(): never {
        throw new Error("not in register");
      },
    } as unknown as HostApi;
    const sdk: HostSdk = {
      resolveSecret: async () => ({}),
      stateDir: () => dir,
      createApiKeyAuthMethod: fakeCreate([]),
    };
    registerTokenHub(api, sdk);
    assert.equal(provider?.id, "tokenhub");
    assert.deepEqual(provider?.envVars, ["TOKENHUB_API_KEY"]);
    assert.equal(provider?.auth[0]?.id, "api-key");
    const ctx = (apiKey: string | undefined) => ({
      config: {},
      env: {},
      resolveProviderApiKey: () => ({ apiKey }),
    });
    assert.equal(await provider?.catalog?.run(ctx(undefined)), null);
    const built = (await provider?.catalog?.run(ctx("TOKENHUB_API_KEY"))) as {
      provider: { baseUrl: string; apiKey: string; models: Array<{ id: string }> };
    };
    assert.equal(
      await provider?.catalog?.run({ ...ctx("TOKENHUB_API_KEY"), providerIds: ["openai"] }),
      null,
      "a run scoped to other providers gets nothing",
    );
    assert.ok(await provider?.catalog?.run({ ...ctx("TOKENHUB_API_KEY"), providerIds: ["tokenhub"] }));
    assert.equal(built.provider.baseUrl, sim.baseUrl);
    assert.equal(built.provider.models[0]?.id, "alibaba/deepseek-v3.2");
    assert.deepEqual(rows?.kinds, ["text", "image_generation", "video_generation"]);
    assert.equal((await rows?.staticCatalog?.(ctx(undefined)))?.[0]?.model, "alibaba/deepseek-v3.2");
    assert.deepEqual(
      (
        await provider?.augmentModelCatalog?.({
          entries: [{ provider: "tokenhub", id: "deepseek-v3.2", name: "d" }],
        })
      )?.map((e) => e.id),
      ["deepseek-v3.2"],
      "the picker-order hook is registered with the provider",
    );
  });
});
