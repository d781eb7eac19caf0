// The part of OpenClaw's plugin SDK this plugin uses, declared here so the package builds without installing
// OpenClaw (650 MB). At run time these modules resolve to the host's own copy. Checked against
// openclaw@2026.9.6 by the end-to-end test (test/e2e/openclaw.e2e.ts); on a version bump, compare with
// node_modules/openclaw/dist/plugin-sdk/*.d.ts.

declare module "openclaw/plugin-sdk/plugin-entry" {
  export function definePluginEntry<T extends { id: string; register(api: never): void }>(entry: T): T;
}

declare module "openclaw/plugin-sdk/secret-input-runtime" {
  export function resolveConfiguredSecretInputString(params: {
    config: unknown;
    env: NodeJS.ProcessEnv;
    value: unknown;
    path: string;
    unresolvedReasonStyle?: "generic" | "detailed";
  }): Promise<{ value?: string; unresolvedRefReason?: string; unresolvedRefCode?: string }>;
}

declare module "openclaw/plugin-sdk/runtime-config-snapshot" {
  export function getRuntimeConfigSourceSnapshot(): unknown;
}

declare module "openclaw/plugin-sdk/state-paths" {
  export function resolveStateDir(env?: NodeJS.ProcessEnv, homedir?: () => string): string;
}

declare module "openclaw/plugin-sdk/provider-auth" {
  export function createProviderApiKeyAuthMethod(params: {
    providerId: string;
    methodId: string;
    label: string;
    optionKey: string;
    flagName: `--${string}`;
    envVar: string;
    promptMessage: string;
    [option: string]: unknown;
  }): unknown;
  /** The default agent's auth-profile store when no agentDir is given. */
  export function ensureAuthProfileStore(agentDir?: string): { profiles: Record<string, unknown> };
  export function listProfilesForProvider(
    store: { profiles: Record<string, unknown> },
    provider: string,
  ): string[];
  export function upsertAuthProfileWithLock(params: {
    profileId: string;
    credential: {
      type: "api_key";
      provider: string;
      keyRef: { source: string; provider: string; id: string };
    };
    agentDir?: string;
  }): Promise<unknown>;
  export function removeProviderAuthProfilesWithLock(params: {
    provider: string;
    profileIds?: readonly string[];
    agentDir?: string;
  }): Promise<unknown>;
}
