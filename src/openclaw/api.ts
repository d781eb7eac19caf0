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
import type { AuthProfileView, HostAuthMethod, HostSdk } from "./host.ts";

export { definePluginEntry };

export const sdk: HostSdk = {
  resolveSecret: (params) =>
    resolveConfiguredSecretInputString({ ...params, unresolvedReasonStyle: "detailed" }),
  createApiKeyAuthMethod: (options) =>
    createProviderApiKeyAuthMethod({ ...options }) as unknown as HostAuthMethod,
  stateDir: () => resolveStateDir(process.env),
  // The default agent's store (no agentDir), the one `openclaw onboard` and `models auth login` write.
  authProfiles: {
    list: (provider) => {
      const store = ensureAuthProfileStore();
      return listProfilesForProvider(store, provider).map((id) => {
        const credential = (store.profiles[id] ?? {}) as {
          keyRef?: AuthProfileView["keyRef"];
          key?: unknown;
        };
        return {
          id,
          ...(credential.keyRef ? { keyRef: credential.keyRef } : {}),
          holdsKey: typeof credential.key === "string" && credential.key.length > 0,
        };
      });
    },
    add: async (profileId, credential) => {
      if (!(await upsertAuthProfileWithLock({ profileId, credential })))
        throw new Error(`OpenClaw's auth store is busy; the profile ${profileId} was not added.`);
    },
    remove: async (provider, profileIds) => {
      if (!(await removeProviderAuthProfilesWithLock({ provider, profileIds })))
        throw new Error(`OpenClaw's auth store is busy; ${profileIds.join(", ")} was not removed.`);
    },
  },
  // Published beside the runtime snapshot by the gateway (at start and on every reload) and by the CLI's config
  // guard; null where nothing published one, and the caller then uses the config it was given.
  sourceConfig: () => getRuntimeConfigSourceSnapshot() ?? undefined,
};
