// OpenClaw plugin entry (package.json "openclaw.extensions"). Thin on purpose: it hands OpenClaw's api to
// plugin.ts, which speaks the session layer; nothing in the core imports this folder.
import { definePluginEntry, sdk } from "./api.ts";
import { PLUGIN_ID } from "./config.ts";
import type { HostApi } from "./host.ts";
import { registerTokenHub } from "./plugin.ts";

export default definePluginEntry({
  id: PLUGIN_ID,
  name: "TokenHub setup",
  description:
    "Set up, verify and record a TokenHub integration (the TokenHub agent quickstart), and wire TokenHub in as a model provider.",
  register(api: never) {
    registerTokenHub(api as unknown as HostApi, sdk);
  },
});
