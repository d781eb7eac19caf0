import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { type CompletionRecord, writeJsonFile } from "../session/index.ts";
import { DEFAULT_STORE_REF, PLUGIN_ID, type SecretRef, SecretRefSchema } from "./config.ts";
import type { HostApi } from "./host.ts";

export const PROVIDER_ID = "tokenhub";
const ENV_REF: SecretRef = { source: "env", provider: "default", id: "TOKENHUB_API_KEY" };

export interface ProviderEntry {
  baseUrl: string;
  api: "openai-completions";
  apiKey: SecretRef;
  models: Array<{ id: string; name: string }>;
}

type Draft = Record<string, unknown>;
const obj = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/**
 * The SecretRef the provider entry should carry: the one the key was read through, never the key. A key that
 * was configured as plain text, or handed over in memory, cannot be wired: there is no reference to copy.
 */
export function keyRefFor(record: CompletionRecord, rawApiKey: unknown): SecretRef | { refusal: string } {
  const source = record.result.key_source;
  if (source === "env") return ENV_REF;
  if (source === "host") {
    if (rawApiKey === undefined) return DEFAULT_STORE_REF;
    const ref = SecretRefSchema.safeParse(rawApiKey);
    if (ref.success) return ref.data;
    return {
      refusal: `The key is configured as plain text in plugins.entries.${PLUGIN_ID}.config.apiKey; store it as a SecretRef first (openclaw config set ... --ref-source env|store), so the provider entry can reference it.`,
    };
  }
  return {
    refusal:
      "The key was handed over for this conversation only; store it with the secrets tool or as an env SecretRef first.",
  };
}

export function providerEntry(record: CompletionRecord, apiKey: SecretRef): ProviderEntry {
  return {
    baseUrl: record.result.base_url,
    api: "openai-completions",
    apiKey,
    models: [{ id: record.model, name: `${record.model} (TokenHub)` }],
  };
}

/** plugins.entries.tokenhub-setup.config.apiKey as written in the config, before any resolution. */
export function rawApiKeyOf(config: unknown): unknown {
  const entry = obj(obj(obj(config).plugins).entries)[PLUGIN_ID];
  return obj(obj(entry).config).apiKey;
}

interface Backup {
  provider: unknown;
  defaultModel: unknown;
  wroteDefault: boolean;
}

/**
 * Writes models.providers.tokenhub (and, when asked, agents.defaults.model.primary) through OpenClaw's own
 * config mutation, which validates, persists and hot-reloads. What was there before is kept in the plugin's
 * state folder, so `unwire` puts it back.
 */
export async function wire(
  api: HostApi,
  stateDir: string,
  record: CompletionRecord,
  setDefault: boolean,
): Promise<{ entry: ProviderEntry; path: string; defaultModel?: string } | { refusal: string }> {
  const backupPath = join(stateDir, "wiring-backup.json");
  const existingBackup = await readBackup(backupPath);
  const written = await api.runtime.config.mutateConfigFile({
    afterWrite: { mode: "auto" },
    mutate(draft: Draft) {
      const ref = keyRefFor(record, rawApiKeyOf(draft));
      if ("refusal" in ref) return ref;
      const models = obj(draft.models);
      const providers = obj(models.providers);
      const defaults = obj(obj(draft.agents).defaults);
      const model = obj(defaults.model);
      const backup: Backup = existingBackup ?? {
        provider: providers[PROVIDER_ID],
        defaultModel: model.primary,
        wroteDefault: setDefault,
      };
      const entry = providerEntry(record, ref);
      providers[PROVIDER_ID] = entry;
      models.providers = providers;
      draft.models = models;
      const defaultModel = `${PROVIDER_ID}/${record.model}`;
      if (setDefault) {
        model.primary = defaultModel;
        defaults.model = model;
        draft.agents = { ...obj(draft.agents), defaults };
        backup.wroteDefault = true;
      }
      return { entry, backup, ...(setDefault ? { defaultModel } : {}) };
    },
  });
  const result = written.result;
  if ("refusal" in result) return result;
  await writeJsonFile(backupPath, result.backup);
  return {
    entry: result.entry,
    path: written.path,
    ...(result.defaultModel ? { defaultModel: result.defaultModel } : {}),
  };
}

export async function unwire(api: HostApi, stateDir: string): Promise<{ restored: boolean; path?: string }> {
  const backupPath = join(stateDir, "wiring-backup.json");
  const backup = await readBackup(backupPath);
  if (!backup) return { restored: false };
  const written = await api.runtime.config.mutateConfigFile({
    afterWrite: { mode: "auto" },
    mutate(draft: Draft) {
      const models = obj(draft.models);
      const providers = obj(models.providers);
      if (backup.provider === undefined) delete providers[PROVIDER_ID];
      else providers[PROVIDER_ID] = backup.provider;
      models.providers = providers;
      draft.models = models;
      const defaults = obj(obj(draft.agents).defaults);
      const model = obj(defaults.model);
      // Put the old default back only if it is still the one we set: the user may have changed it since.
      if (
        backup.wroteDefault &&
        typeof model.primary === "string" &&
        model.primary.startsWith(`${PROVIDER_ID}/`)
      ) {
        if (backup.defaultModel === undefined) delete model.primary;
        else model.primary = backup.defaultModel;
        defaults.model = model;
        draft.agents = { ...obj(draft.agents), defaults };
      }
      return true;
    },
  });
  await rm(backupPath, { force: true });
  return { restored: true, path: written.path };
}

async function readBackup(path: string): Promise<Backup | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Backup;
  } catch {
    return undefined;
  }
}
