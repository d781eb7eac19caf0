// The only module that imports OpenClaw's plugin SDK (resolved from the host at run time).
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { getRuntimeConfigSourceSnapshot } from "openclaw/plugin-sdk/runtime-config-snapshot";
import { resolveConfiguredSecretInputString } from "openclaw/plugin-sdk/secret-input-runtime";
import { resolveStateDir } from "openclaw/plugin-sdk/state-paths";
import type { HostSdk } from "./host.ts";

export { definePluginEntry };

export const sdk: HostSdk = {
  resolveSecret: (params) =>
    resolveConfiguredSecretInputString({ ...params, unresolvedReasonStyle: "detailed" }),
  stateDir: () => resolveStateDir(process.env),
  // Published beside the runtime snapshot by the gateway (at start and on every reload) and by the CLI's config
  // guard; null where nothing published one, and the caller then uses the config it was given.
  sourceConfig: () => getRuntimeConfigSourceSnapshot() ?? undefined,
};
