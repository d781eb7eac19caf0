/**
 * TokenHub as an OpenClaw model provider (issue 14): the API-key auth method that `openclaw onboard
 * --auth-choice tokenhub-api-key` and `openclaw models auth login --provider tokenhub` run, the provider's
 * catalog (`models.providers.tokenhub` as the host builds it) and the rows of the host's unified model catalog.
 * The key is checked with the quickstart's probe (`openKeyCheck`) before the host stores it; storing it is the
 * host's job (an auth profile holding the key or a SecretRef), never ours.
 */
import { join } from "node:path";
import {
  type CompletionRecord,
  type Config,
  ENV_VAR,
  type KeyCheckAnswer,
  MEDIA,
  openKeyCheck,
  readRecord,
  resolveConfig,
  scrub,
  TokenHubSetupError,
} from "../session/index.ts";
import { PLUGIN_ID, type PluginConfig, PluginConfigSchema } from "./config.ts";
import type {
  ApiKeyAuthOptions,
  AugmentCatalogContext,
  CatalogContext,
  CatalogKind,
  CatalogRow,
  HostApi,
  HostAuthMethod,
  HostCatalogEntry,
  HostModelDefinition,
  HostProviderConfig,
  HostSdk,
  InteractiveAuthContext,
  NonInteractiveAuthContext,
} from "./host.ts";
import { PROVIDER_ID } from "./wiring.ts";

export const AUTH_METHOD_ID = "api-key";
export const AUTH_CHOICE_ID = `${PROVIDER_ID}-api-key`;
export const AUTH_FLAG = "--tokenhub-api-key" as const;
/** The key of `--tokenhub-api-key` in the host's option bag (manifest `providerAuthChoices[].optionKey`). */
export const AUTH_OPTION_KEY = "tokenhubApiKey";
export const PROVIDER_LABEL = "TokenHub";
export const DOCS_PATH = "/providers/tokenhub";

/** What a person reads after the check, and whether the host may store the key. */
export interface KeyVerdict {
  accept: boolean;
  /** Said even when the key is accepted: the check found something to fix (region, balance, no answer). */
  notice: boolean;
  message: string;
}

/** The record's last verified integration: the record itself on success, else the success it kept. */
export function verifiedOf(record: CompletionRecord | undefined): CompletionRecord | undefined {
  if (!record) return undefined;
  if (record.integration_status === "success") return record;
  return (record as { last_success?: CompletionRecord }).last_success;
}

/** The text models, the one that answered first, then the rest of the configured chain. */
export function textModels(verified: CompletionRecord | undefined, config: Config): string[] {
  return [...new Set([...(verified ? [verified.model] : []), ...config.modelChain])];
}

export function baseUrlFor(verified: CompletionRecord | undefined, config: Config): string {
  return verified?.result.base_url ?? config.baseUrl;
}

function modelDefinition(id: string, verified: CompletionRecord | undefined): HostModelDefinition {
  return {
    id,
    name: verified?.model === id ? `${id} (TokenHub, verified)` : `${id} (TokenHub)`,
    reasoning: false,
    input: ["text"],
    // TokenHub publishes no per-token prices to us; zero means "unknown" to the host's cost display.
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 128_000,
    maxTokens: 8_192,
  };
}

/** `models.providers.tokenhub` as the catalog hands it to the host (the key is the host's to add). */
export function providerConfig(verified: CompletionRecord | undefined, config: Config): HostProviderConfig {
  return {
    baseUrl: baseUrlFor(verified, config),
    api: "openai-completions",
    models: textModels(verified, config).map((id) => modelDefinition(id, verified)),
  };
}

/** Rows for the host's pickers: text models, then the quickstart's image and video models, each marked. */
export function catalogRows(record: CompletionRecord | undefined, config: Config): CatalogRow[] {
  const verified = verifiedOf(record);
  const row = (kind: CatalogKind, model: string, verifiedAt: string | undefined): CatalogRow => ({
    kind,
    provider: PROVIDER_ID,
    model,
    label: verifiedAt ? `${model} (verified ${verifiedAt})` : `${model} (not verified)`,
    source: "static",
    capabilities: verifiedAt ? { verified: true, verifiedAt } : { verified: false },
    authEnvVars: [ENV_VAR],
    docsPath: DOCS_PATH,
    ...(verifiedAt
      ? {}
      : { warnings: ["Not verified by tokenhub-setup yet: run `openclaw tokenhub setup` to check it."] }),
  });
  const text = textModels(verified, config).map((model, i) => ({
    ...row("text", model, verified?.model === model ? (verified.validated_at ?? undefined) : undefined),
    ...(i === 0 ? { default: true } : {}),
  }));
  const media = verified?.multimodal ?? record?.multimodal;
  const mediaAt = (
    check: { status: string; finished_at: string; model: string } | undefined,
    model: string,
  ) => (check?.status === "ok" && check.model === model ? check.finished_at : undefined);
  return [
    ...text,
    row("image_generation", MEDIA.image.model, mediaAt(media?.image, MEDIA.image.model)),
    row("video_generation", MEDIA.video.model, mediaAt(media?.video, MEDIA.video.model)),
  ];
}

/** A message as a sentence: the probe's messages may lack the closing period. */
const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/** The probe's answer in words for the person at `openclaw onboard` / `models auth login`. */
export function keyVerdict(answer: KeyCheckAnswer, model: string, config: Config): KeyVerdict {
  const status = answer.status === null ? "" : ` (HTTP ${answer.status})`;
  switch (answer.kind) {
    case "ok":
      return {
        accept: true,
        notice: false,
        message: `TokenHub accepted the key: ${model} answered${status}.`,
      };
    case "unauthorized":
      return {
        accept: false,
        notice: true,
        message: `TokenHub rejected this key${status}; nothing was stored. Check that the whole key was copied, or create a new one at ${config.consoleUrl}.`,
      };
    case "routing":
      return {
        accept: true,
        notice: true,
        message: `TokenHub accepted the key, but ${model} cannot be served from here (region or supplier)${status}: ${answer.message} Run \`openclaw tokenhub setup\` to try the other model formats.`,
      };
    case "insufficientBalance":
      return {
        accept: true,
        notice: true,
        message: `TokenHub accepted the key, but the account's balance is used up${status}: top it up at ${config.consoleUrl} before using TokenHub models.`,
      };
    case "invalidResponse":
      return {
        accept: true,
        notice: true,
        message: `TokenHub accepted the key, but its answer did not pass the quickstart's check${status}: ${answer.message}`,
      };
    default:
      return {
        accept: true,
        notice: true,
        message: `The key could not be checked just now${status}: ${sentence(answer.message)} It was stored as given; run \`openclaw tokenhub setup\` later to check it.`,
      };
  }
}

export interface ProviderDeps {
  config: Config;
  /** The record's path (the plugin's state folder unless the config names one). */
  recordPath(): string;
  env: NodeJS.ProcessEnv;
}

/** Reads the record; an unreadable one is no verified integration, not a failure of the host's command. */
async function loadRecord(deps: ProviderDeps): Promise<CompletionRecord | undefined> {
  try {
    return (await readRecord(deps.recordPath())).record;
  } catch {
    return undefined;
  }
}

const loadVerified = async (deps: ProviderDeps) => verifiedOf(await loadRecord(deps));

/** One probe with `key` against where the provider will send it; a key that cannot be one is refused. */
export async function checkKey(deps: ProviderDeps, key: string, signal?: AbortSignal): Promise<KeyVerdict> {
  const verified = await loadVerified(deps);
  const model = verified?.model ?? (deps.config.modelChain[0] as string);
  let check: ReturnType<typeof openKeyCheck> | undefined;
  try {
    check = openKeyCheck({ baseUrl: baseUrlFor(verified, deps.config), env: deps.env, config: deps.config });
    const answer = await check.ask({ key, model, ...(signal ? { signal } : {}) });
    if (!answer)
      return { accept: false, notice: true, message: "The key check was stopped; nothing was stored." };
    return keyVerdict(answer, model, deps.config);
  } catch (err) {
    if (!(err instanceof TokenHubSetupError)) throw err;
    const line = scrub(`${err.message}${err.remedy ? ` ${err.remedy}` : ""}`);
    if (err.code.startsWith("key_"))
      return { accept: false, notice: true, message: `${line} Nothing was stored.` };
    return { accept: true, notice: true, message: `The key could not be checked: ${line}` };
  } finally {
    await check?.close();
  }
}

/**
 * The host's API-key method (flag, env variable, prompt, SecretRef storage: all the host's), with our check in
 * front of the host's storing. Non-interactive: the key is resolved as the host would, checked, and a refusal
 * takes the host's own path (`runtime.error`, `runtime.exit(1)`, null) before anything is written. Interactive:
 * the host's method captures the key and hands it to `resolveDefaultModel` before it returns the profile to be
 * stored; a refused key then ends the method with an error, so the profile is never stored.
 */
export function tokenHubAuthMethod(
  create: (options: ApiKeyAuthOptions) => HostAuthMethod,
  deps: ProviderDeps,
): HostAuthMethod {
  const defaultModel = async () => `${PROVIDER_ID}/${textModels(await loadVerified(deps), deps.config)[0]}`;
  const options: ApiKeyAuthOptions = {
    providerId: PROVIDER_ID,
    methodId: AUTH_METHOD_ID,
    label: "TokenHub API key",
    hint: "Key from the TokenHub console, checked with one minimal request",
    optionKey: AUTH_OPTION_KEY,
    flagName: AUTH_FLAG,
    envVar: ENV_VAR,
    promptMessage: "Enter your TokenHub API key",
    defaultModel: `${PROVIDER_ID}/${deps.config.modelChain[0]}`,
    noteTitle: PROVIDER_LABEL,
    noteMessage: `Create a key at ${deps.config.consoleUrl}; it is shown only once. It is checked with one minimal chat completion before it is stored.`,
    wizard: {
      choiceId: AUTH_CHOICE_ID,
      choiceLabel: "TokenHub API key",
      groupId: PROVIDER_ID,
      groupLabel: PROVIDER_LABEL,
      groupHint: "TokenHub LLM gateway",
      methodId: AUTH_METHOD_ID,
    },
    resolveDefaultModel: defaultModel,
  };
  const base = create(options);
  return {
    ...base,
    async run(ctx: InteractiveAuthContext) {
      let verdict: KeyVerdict | undefined;
      const inner = create({
        ...options,
        async resolveDefaultModel({ apiKey, signal }) {
          // The host swallows an error thrown here, so the verdict is carried out and acted on below.
          verdict = await checkKey(deps, apiKey, signal).catch((err: unknown) => ({
            accept: true,
            notice: true,
            message: `The key could not be checked: ${scrub(String((err as Error)?.message ?? err))}`,
          }));
          return defaultModel();
        },
      });
      const result = await inner.run(ctx);
      if (verdict && !verdict.accept) throw new Error(verdict.message);
      // The check rides on the host handing the key to resolveDefaultModel before storing it (OpenClaw
      // 2026.9.6 does); a host that stops doing so must not store the key silently unchecked.
      if (!verdict && result)
        await ctx.prompter.note(
          "This OpenClaw stored the key without handing it to TokenHub's check first. Run `openclaw tokenhub setup` to check it.",
          PROVIDER_LABEL,
        );
      if (verdict?.notice) await ctx.prompter.note(verdict.message, PROVIDER_LABEL);
      return result;
    },
    async runNonInteractive(ctx: NonInteractiveAuthContext) {
      const flagValue = ctx.opts[AUTH_OPTION_KEY];
      const resolved = await ctx.resolveApiKey({
        provider: PROVIDER_ID,
        ...(typeof flagValue === "string" && flagValue.trim() ? { flagValue: flagValue.trim() } : {}),
        flagName: AUTH_FLAG,
        envVar: ENV_VAR,
      });
      // A key already kept in a profile is checked too: `models auth paste-api-key` stores keys unchecked.
      if (resolved) {
        const verdict = await checkKey(deps, resolved.key);
        if (!verdict.accept) {
          ctx.runtime.error(verdict.message);
          ctx.runtime.exit(1);
          return null;
        }
        if (verdict.notice) ctx.runtime.error(verdict.message);
        else ctx.runtime.log(verdict.message);
      }
      return base.runNonInteractive ? base.runNonInteractive(ctx) : null;
    },
  };
}

/** The catalog: null without a key, as the host's own API-key providers do (the key is the host's to add). */
export function providerCatalog(deps: ProviderDeps) {
  return {
    order: "simple" as const,
    async run(ctx: CatalogContext) {
      // As the host's own catalogs do (matchesProviderCatalogScope): a run scoped to other providers gets nothing.
      if (ctx.providerIds && !ctx.providerIds.includes(PROVIDER_ID)) return null;
      const apiKey = ctx.resolveProviderApiKey(PROVIDER_ID).apiKey;
      if (!apiKey) return null;
      return { provider: { ...providerConfig(await loadVerified(deps), deps.config), apiKey } };
    },
  };
}

/**
 * The verified model first in `openclaw models list`. The host sorts a provider's rows by `providerOrder`,
 * then id, and gives that order only to rows a manifest declares (ours are discovered at run time) or that
 * this hook returns, in the order returned. So the hook hands back the host's own TokenHub rows, unchanged,
 * verified model first: the host merges them onto themselves and keeps only the order. The host's docs mark
 * the hook deprecated with `catalog`; a host without it lists the rows by id, the verified one still named so.
 */
export function catalogOrder(deps: ProviderDeps) {
  return async (ctx: AugmentCatalogContext): Promise<HostCatalogEntry[] | null> => {
    const ours = ctx.entries.filter((entry) => entry.provider === PROVIDER_ID);
    if (ours.length === 0) return null;
    const byId = new Map(ours.map((entry) => [entry.id, entry]));
    const ordered = textModels(await loadVerified(deps), deps.config).flatMap((id) => {
      const entry = byId.get(id);
      return entry ? [{ ...entry }] : [];
    });
    return ordered.length > 0 ? ordered : null;
  };
}

/**
 * Registers the provider and its catalog rows. Every host this plugin declares (openclaw.compat.pluginApi) has
 * provider registration; a host without it still gets the tool, but nothing to wire into. Called from
 * `register`, so nothing here touches `api.runtime`.
 */
export function registerTokenHubProvider(api: HostApi, sdk: HostSdk): boolean {
  if (!api.registerProvider || !sdk.createApiKeyAuthMethod) {
    api.logger.debug?.(
      "tokenhub-setup: this OpenClaw has no provider registration; the tokenhub_setup tool works, wiring does not.",
    );
    return false;
  }
  const parsed = PluginConfigSchema.safeParse(api.pluginConfig ?? {});
  const { apiKey: _apiKey, ...coreInput }: PluginConfig = parsed.success
    ? parsed.data
    : PluginConfigSchema.parse({});
  let config: Config;
  try {
    config = resolveConfig(coreInput);
  } catch {
    // An invalid plugin config is reported by the tool; the provider falls back to the quickstart's defaults.
    config = resolveConfig({});
  }
  const deps: ProviderDeps = {
    config,
    env: process.env,
    recordPath: () => config.statusPath ?? join(sdk.stateDir(), "plugins", PLUGIN_ID, "status.json"),
  };
  api.registerProvider({
    id: PROVIDER_ID,
    label: PROVIDER_LABEL,
    docsPath: DOCS_PATH,
    envVars: [ENV_VAR],
    auth: [tokenHubAuthMethod(sdk.createApiKeyAuthMethod, deps)],
    catalog: providerCatalog(deps),
    staticCatalog: {
      order: "simple",
      run: async () => ({ provider: providerConfig(await loadVerified(deps), deps.config) }),
    },
    augmentModelCatalog: catalogOrder(deps),
  });
  api.registerModelCatalogProvider?.({
    provider: PROVIDER_ID,
    kinds: ["text", "image_generation", "video_generation"],
    staticCatalog: async () => catalogRows(await loadRecord(deps), deps.config),
  });
  return true;
}
