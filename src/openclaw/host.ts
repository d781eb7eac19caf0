/**
 * What this adapter needs from an OpenClaw-style host, as plain structural types. Only `api.ts` imports the
 * real SDK; everything else is written against these, so it is unit-tested with a fake host and run for real
 * by the end-to-end test.
 */

import type { Clock } from "../session/index.ts";

export interface HostLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export interface ToolResult {
  content: Array<{ type: "text"; text: string }>;
  details: Record<string, unknown>;
}

export interface HostTool {
  name: string;
  label: string;
  description: string;
  parameters: Record<string, unknown>;
  execute(toolCallId: string, params: unknown, signal?: AbortSignal): Promise<ToolResult>;
}

export interface ToolContext {
  sessionKey?: string;
  sessionId?: string;
  agentId?: string;
  runtimeConfig?: unknown;
  getRuntimeConfig?: () => unknown;
}

export interface CommandContext {
  args?: string;
  sessionKey?: string;
  config?: unknown;
}

/** commander's Command, as far as we use it. */
export interface CliCommand {
  command(nameAndArgs: string): CliCommand;
  description(text: string): CliCommand;
  option(flags: string, description?: string): CliCommand;
  action(fn: (...args: never[]) => void | Promise<void>): CliCommand;
}

export interface ConfigMutation<R> {
  afterWrite: { mode: "auto" };
  mutate(draft: Record<string, unknown>): R;
}

export interface HostApi {
  id: string;
  registrationMode?: string;
  config: unknown;
  pluginConfig?: Record<string, unknown>;
  logger: HostLogger;
  registerTool(factory: (ctx: ToolContext) => HostTool | null, options: { name: string }): void;
  registerCommand(command: {
    name: string;
    description: string;
    acceptsArgs?: boolean;
    handler(ctx: CommandContext): Promise<{ text: string }>;
  }): void;
  registerCli(
    registrar: (ctx: { program: CliCommand }) => void,
    options: { descriptors: Array<{ name: string; description: string; hasSubcommands: boolean }> },
  ): void;
  /** A model provider (OpenClaw 2026.3.24 and later; absent on hosts without provider plugins). */
  registerProvider?(provider: HostProvider): void;
  /** Rows for the host's model pickers and `models list` (newer hosts only). */
  registerModelCatalogProvider?(provider: HostModelCatalogProvider): void;
  /** Touch only inside handlers: in cli-metadata registration it throws. */
  readonly runtime: {
    config: { mutateConfigFile<R>(mutation: ConfigMutation<R>): Promise<{ path: string; result: R }> };
  };
}

/** The SDK functions the adapter calls, injected by api.ts (or by a test). */
export interface HostSdk {
  resolveSecret(params: { config: unknown; env: NodeJS.ProcessEnv; value: unknown; path: string }): Promise<{
    value?: string;
    unresolvedRefReason?: string;
  }>;
  stateDir(): string;
  /**
   * The config as written, SecretRefs intact, when the host has published it. A tool's runtime config has them
   * resolved to values, which would make a key stored by reference look like plain text.
   */
  sourceConfig?(): unknown;
  /** The host's auth-profile store (openclaw/plugin-sdk/provider-auth), where provider credentials live. */
  authProfiles?: HostAuthProfiles;
  /** OpenClaw's `createProviderApiKeyAuthMethod`; absent on a host without provider plugins. */
  createApiKeyAuthMethod?(options: ApiKeyAuthOptions): HostAuthMethod;
  /** The flows' clock; api.ts gives none (the system clock). Tests pass a virtual one so waits take no time. */
  clock?: Clock;
}

/** An API-key credential that holds a SecretRef, never a key (the host resolves it when it calls the provider). */
export interface ApiKeyRefCredential {
  type: "api_key";
  provider: string;
  keyRef: { source: string; provider: string; id: string };
}

/** A stored profile as wiring may see it: where its key comes from, never the key. */
export interface AuthProfileView {
  id: string;
  keyRef?: { source: string; provider: string; id: string };
  /** Whether the profile holds a key itself (plain text in the host's store). */
  holdsKey: boolean;
}

/** The default agent's auth-profile store, by profile id. */
export interface HostAuthProfiles {
  /** The profiles the store holds for `provider`, in the store's order. */
  list(provider: string): AuthProfileView[];
  add(profileId: string, credential: ApiKeyRefCredential): Promise<void>;
  /** Throws when the store could not be changed (the host answers null when its lock is busy). */
  remove(provider: string, profileIds: string[]): Promise<void>;
}

/** The host's runtime, as an auth method sees it (`RuntimeEnv`): `error` then `exit(1)` is its refusal path. */
export interface HostRuntime {
  log(...args: unknown[]): void;
  error(...args: unknown[]): void;
  exit(code: number): void;
}

/** What `ctx.resolveApiKey` gives a non-interactive auth method: the key and where it came from. */
export interface ResolvedApiKey {
  key: string;
  source: "profile" | "env" | "flag";
  envVarName?: string;
}

export interface NonInteractiveAuthContext {
  config: Record<string, unknown>;
  opts: Record<string, unknown>;
  runtime: HostRuntime;
  resolveApiKey(params: {
    provider: string;
    flagValue?: string;
    flagName: `--${string}`;
    envVar: string;
    allowProfile?: boolean;
    required?: boolean;
  }): Promise<ResolvedApiKey | null>;
}

/** The interactive context (`openclaw onboard`, `models auth login`), as far as we use it. */
export interface InteractiveAuthContext {
  config: Record<string, unknown>;
  runtime: HostRuntime;
  prompter: { note(message: string, title?: string): Promise<void> };
  signal?: AbortSignal;
}

/** OpenClaw's ProviderAuthMethod, as far as we wrap it. */
export interface HostAuthMethod {
  id: string;
  label: string;
  kind: string;
  run(ctx: InteractiveAuthContext): Promise<unknown>;
  runNonInteractive?(ctx: NonInteractiveAuthContext): Promise<unknown>;
  [other: string]: unknown;
}

/** The options of OpenClaw's `createProviderApiKeyAuthMethod` (openclaw/plugin-sdk/provider-auth). */
export interface ApiKeyAuthOptions {
  providerId: string;
  methodId: string;
  label: string;
  hint?: string;
  optionKey: string;
  flagName: `--${string}`;
  envVar: string;
  promptMessage: string;
  defaultModel?: string;
  preserveExistingPrimary?: boolean;
  noteTitle?: string;
  noteMessage?: string;
  wizard?: Record<string, unknown>;
  /** Called with the key after it was captured, before the host stores it (interactive) or after (not). */
  resolveDefaultModel?(params: {
    apiKey: string;
    config: unknown;
    signal?: AbortSignal;
  }): Promise<string | undefined>;
}

/** One model of a provider's config entry (`models.providers.<id>.models[]`). */
export interface HostModelDefinition {
  id: string;
  name: string;
  reasoning: boolean;
  input: Array<"text" | "image">;
  cost: { input: number; output: number; cacheRead: number; cacheWrite: number };
  contextWindow: number;
  maxTokens: number;
}

export interface HostProviderConfig {
  baseUrl: string;
  api: "openai-completions";
  apiKey?: string;
  models: HostModelDefinition[];
}

export interface CatalogContext {
  config: unknown;
  env: NodeJS.ProcessEnv;
  /** The providers this run asks for (`models list --provider x`); absent means all. */
  providerIds?: readonly string[];
  resolveProviderApiKey(providerId?: string): { apiKey: string | undefined };
}

export interface HostProvider {
  id: string;
  label: string;
  docsPath?: string;
  envVars?: string[];
  auth: HostAuthMethod[];
  catalog?: { order?: "simple" | "profile" | "paired" | "late"; run(ctx: CatalogContext): Promise<unknown> };
  staticCatalog?: {
    order?: "simple" | "profile" | "paired" | "late";
    run(ctx: CatalogContext): Promise<unknown>;
  };
  /**
   * Supplemental catalog rows (`ProviderPlugin.augmentModelCatalog`). The host gives them its picker order
   * (`providerOrder`) in the order returned, which is the only order a runtime catalog's rows get in 2026.9.6.
   */
  augmentModelCatalog?(ctx: AugmentCatalogContext): Promise<HostCatalogEntry[] | null>;
}

/** A model row as the host's catalog holds it (`ModelCatalogEntry`); the fields we read, the rest kept as is. */
export interface HostCatalogEntry {
  id: string;
  name: string;
  provider: string;
  [field: string]: unknown;
}

export interface AugmentCatalogContext {
  entries: HostCatalogEntry[];
}

export type CatalogKind = "text" | "image_generation" | "video_generation";

/** A row of the host's unified model catalog (`UnifiedModelCatalogEntry`). */
export interface CatalogRow {
  kind: CatalogKind;
  provider: string;
  model: string;
  label?: string;
  source: "static" | "configured";
  default?: boolean;
  capabilities?: { verified: boolean; verifiedAt?: string };
  authEnvVars?: string[];
  docsPath?: string;
  warnings?: string[];
}

export interface HostModelCatalogProvider {
  provider: string;
  kinds: CatalogKind[];
  staticCatalog?(ctx: CatalogContext): Promise<CatalogRow[] | null>;
}
