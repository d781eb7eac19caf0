// The only module that imports OpenClaw's plugin SDK (resolved from the host at run time).
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import {
  createProviderApiKeyAuthMethod,
  ensureAuthProfileStore,
  listProfilesForProvider,
  removeProviderAuthProfilesWithLock,
  upsertAuthProfileWithLock,
} from "openclaw/plugin-sdk/provider-auth";
import { getRuntimeConfigSourceSnapshot } from "openclaw/plugin-sdk/runtime-config-snapshot";
import { resolveConfiguredSecretInputString } from "openclaw/plugin-sdk/secret-input-runtime";
import { resolveStateDir } from "openclaw/plugin-sdk/state-paths";
import type { HostAuthMethod, HostSdk } from "./host.ts";

export { definePluginEntry };

export const sdk: HostSdk = {
  resolveSecret: (params) =>
    resolveConfiguredSecretInputString({ ...params, unresolvedReasonStyle: "detailed" }),
  createApiKeyAuthMethod: (options) =>
    createProviderApiKeyAuthMethod({ ...options }) as unknown as HostAuthMethod,
  stateDir: () => resolveStateDir(process.env),
  // The default agent's store (no agentDir), the one `openclaw onboard` and `models auth login` write.
  authProfiles: {
    list: (provider) => listProfilesForProvider(ensureAuthProfileStore(), provider),
    add: async (profileId, credential) => {
      await upsertAuthProfileWithLock({ profileId, credential });
    },
    remove: async (provider, profileIds) => {
      await removeProviderAuthProfilesWithLock({ provider, profileIds });
    },
  },
  // Published beside the runtime snapshot by the gateway (at start and on every reload) and by the CLI's config
  // guard; null where nothing published one, and the caller then uses the config it was given.
  sourceConfig: () => getRuntimeConfigSourceSnapshot() ?? undefined,
};
