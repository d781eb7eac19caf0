import { z } from "zod";
import { ConfigSchema, SetupRequestShape } from "../session/index.ts";

export const PLUGIN_ID = "tokenhub-setup";
export const TOOL_NAME = "tokenhub_setup";
export const API_KEY_PATH = `plugins.entries.${PLUGIN_ID}.config.apiKey`;

/** OpenClaw's SecretRef: where the host keeps a secret, never the secret itself. */
export const SecretRefSchema = z
  .object({
    source: z.enum(["env", "file", "exec", "store"]),
    provider: z.string().min(1),
    id: z.string().min(1),
  })
  .strict();
export type SecretRef = z.infer<typeof SecretRefSchema>;

/** Where the secrets tool's masked prompt stores a key named TOKENHUB_API_KEY, when no apiKey is configured. */
export const DEFAULT_STORE_REF: SecretRef = { source: "store", provider: "default", id: "TOKENHUB_API_KEY" };

/** `plugins.entries.tokenhub-setup.config`: the skill's own config plus the key as a secret input. */
export const PluginConfigSchema = ConfigSchema.extend({
  apiKey: z
    .union([z.string(), SecretRefSchema])
    .optional()
    .describe(
      "The TokenHub API key as a SecretRef (recommended: env or store) or a string. Resolved by OpenClaw; never logged.",
    ),
});
export type PluginConfig = z.output<typeof PluginConfigSchema>;

/** Tool parameters; the JSON Schema the model sees is generated from this. */
export const ToolParamsSchema = z
  .object({
    action: z
      .enum(["start", "resume", "status", "cancel", "unwire"])
      .describe(
        "start: verify the TokenHub integration; resume: continue after the user stored the key or a wait ended; status: the last recorded integration; cancel: stop a setup; unwire: take back what wire changed (the default model, the auth profile it added).",
      ),
    ...SetupRequestShape,
    wire: z
      .boolean()
      .optional()
      .describe(
        "After a verified integration, make the verified model usable as tokenhub/<model> (OpenClaw's tokenhub provider gets the key's SecretRef as an auth profile if it has no key). Only after the user agreed.",
      ),
    setDefault: z
      .boolean()
      .optional()
      .describe("With wire: also make the verified model OpenClaw's default model."),
  })
  .strict();
export type ToolParams = z.infer<typeof ToolParamsSchema>;
