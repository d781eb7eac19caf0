/**
 * The "wire" step after a verified setup. TokenHub is a registered provider (provider.ts): the host builds
 * `models.providers.tokenhub` from its catalog and keeps provider keys in its auth store, so wiring writes only
 * what the host cannot infer:
 * - a credential the host can resolve for provider `tokenhub`, when it has none: an auth profile holding the
 *   SecretRef the setup read the key through (never the key). A key in TOKENHUB_API_KEY needs nothing: the
 *   provider declares that variable, and the host reads it.
 * - with `setDefault`, `agents.defaults.model.primary` (and the model's entry in an existing model allowlist).
 * Each change is kept with what was there before, in the plugin's state folder, so `unwire` takes back exactly
 * these changes and nothing else.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { type CompletionRecord, ENV_VAR, TokenHubSetupError, writeJsonFile } from "../session/index.ts";
import { DEFAULT_STORE_REF, PLUGIN_ID, type SecretRef, SecretRefSchema } from "./config.ts";
import { applyEdit, type ConfigEdit, type Draft, mergeEdits, revertEdit, valueAt } from "./config-edits.ts";
import type { HostApi, HostAuthProfiles } from "./host.ts";

export const PROVIDER_ID = "tokenhub";
/** The profile id `openclaw onboard` gives a provider's first API key; wiring adds it only when none exists. */
export const WIRED_PROFILE_ID = `${PROVIDER_ID}:default`;

/** How the host will find TokenHub's key once wired. */
export type Credential =
  | { use: "profile"; profileId: string }
  | { use: "env" }
  | { add: string; ref: SecretRef }
  | { refusal: string };

const obj = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

const LOGIN_REMEDY = `run \`openclaw models auth login --provider ${PROVIDER_ID}\` (it checks the key the same way and stores it in OpenClaw's auth store), or give the gateway the key in ${ENV_VAR}`;

/**
 * The credential wiring relies on: a TokenHub profile the host already holds; else the variable the setup read
 * the key from; else a new profile holding the SecretRef the plugin's config names. A key configured as plain
 * text, or handed over in memory, has no reference to copy and is refused with the host's own way to store it.
 */
export function credentialFor(record: CompletionRecord, rawApiKey: unknown, profiles: string[]): Credential {
  const existing = profiles[0];
  if (existing) return { use: "profile", profileId: existing };
  const source = record.result.key_source;
  if (source === "env") return { use: "env" };
  if (source === "host") {
    if (rawApiKey === undefined) return { add: WIRED_PROFILE_ID, ref: DEFAULT_STORE_REF };
    const ref = SecretRefSchema.safeParse(rawApiKey);
    if (ref.success) return { add: WIRED_PROFILE_ID, ref: ref.data };
    return {
      refusal: `the key is configured as plain text in plugins.entries.${PLUGIN_ID}.config.apiKey, and OpenClaw's auth store should not get a copy of it: store it as a SecretRef first (openclaw config set ... --ref-source env|store), or ${LOGIN_REMEDY}.`,
    };
  }
  return { refusal: `the key was handed over for this conversation only; ${LOGIN_REMEDY}.` };
}

/** plugins.entries.tokenhub-setup.config.apiKey as written in the config, before any resolution. */
export function rawApiKeyOf(config: unknown): unknown {
  const entry = obj(obj(obj(config).plugins).entries)[PLUGIN_ID];
  return obj(obj(entry).config).apiKey;
}

export const modelRef = (record: CompletionRecord) => `${PROVIDER_ID}/${record.model}`;

/** The config edits wiring makes on `config` (a copy is edited; the edits say what changes). */
export function planEdits(
  config: unknown,
  record: CompletionRecord,
  credential: Credential,
  setDefault: boolean,
): Array<{ path: string[]; value: unknown }> {
  const edits: Array<{ path: string[]; value: unknown }> = [];
  if ("add" in credential)
    edits.push({
      path: ["auth", "profiles", credential.add],
      value: { provider: PROVIDER_ID, mode: "api_key" },
    });
  if (!setDefault) return edits;
  const ref = modelRef(record);
  const model = valueAt(config, ["agents", "defaults", "model"]);
  // `model` may be written as the bare primary ("provider/model"); that form is kept.
  edits.push(
    typeof model === "string"
      ? { path: ["agents", "defaults", "model"], value: ref }
      : { path: ["agents", "defaults", "model", "primary"], value: ref },
  );
  // An allowlist (agents.defaults.models) would refuse a default it does not list.
  const allow = valueAt(config, ["agents", "defaults", "models"]);
  if (Object.keys(obj(allow)).length > 0 && !Object.hasOwn(obj(allow), ref))
    edits.push({ path: ["agents", "defaults", "models", ref], value: {} });
  return edits;
}

const EditSchema = z.object({
  path: z.array(z.string()).min(1),
  value: z.unknown(),
  existed: z.boolean(),
  before: z.unknown().optional(),
  created: z.number().int().min(0),
});
/** What `wire` did, for `unwire`. */
const WiringSchema = z.object({
  version: z.literal(2),
  edits: z.array(EditSchema),
  /** An auth profile wiring added to the host's store. */
  profile: z.string().optional(),
});
type Wiring = z.infer<typeof WiringSchema>;
/** What versions before the provider registration kept: a models.providers.tokenhub entry and the old default. */
// JSON drops an undefined value: a missing key here means there was nothing before.
const LegacyWiringSchema = z.object({
  provider: z.unknown().optional(),
  defaultModel: z.unknown().optional(),
  wroteDefault: z.boolean(),
});

export type WireResult =
  | { refusal: string }
  | {
      path: string;
      credential: Exclude<Credential, { refusal: string }>;
      defaultModel?: string;
      previous?: unknown;
    };

/**
 * Makes the verified integration usable as `tokenhub/<model>`: the credential first (so the config never names a
 * profile the store lacks), then the config through OpenClaw's own mutation, which validates, persists and
 * hot-reloads.
 */
export async function wire(
  api: HostApi,
  auth: HostAuthProfiles,
  stateDir: string,
  record: CompletionRecord,
  rawApiKey: unknown,
  setDefault: boolean,
): Promise<WireResult> {
  const credential = credentialFor(record, rawApiKey, auth.list(PROVIDER_ID));
  if ("refusal" in credential) return credential;
  const backupPath = join(stateDir, "wiring-backup.json");
  const earlier = await readWiring(backupPath);
  if ("add" in credential)
    await auth.add(credential.add, { type: "api_key", provider: PROVIDER_ID, keyRef: credential.ref });
  let written: { path: string; result: { edits: ConfigEdit[]; previous: unknown } };
  try {
    written = await api.runtime.config.mutateConfigFile({
      afterWrite: { mode: "auto" },
      mutate(draft: Draft) {
        const previous = structuredClone(valueAt(draft, ["agents", "defaults", "model"]));
        const edits: ConfigEdit[] = [];
        for (const { path, value } of planEdits(draft, record, credential, setDefault)) {
          const edit = applyEdit(draft, path, value);
          if (edit) edits.push(edit);
        }
        return { edits, previous };
      },
    });
  } catch (err) {
    if ("add" in credential) await auth.remove(PROVIDER_ID, [credential.add]).catch(() => undefined);
    throw err;
  }
  const wiring: Wiring = {
    version: 2,
    edits: mergeEdits(earlier && "edits" in earlier ? earlier.edits : [], written.result.edits),
    ...("add" in credential
      ? { profile: credential.add }
      : earlier && "profile" in earlier && earlier.profile
        ? { profile: earlier.profile }
        : {}),
  };
  await writeJsonFile(backupPath, wiring);
  return {
    path: written.path,
    credential,
    ...(setDefault ? { defaultModel: modelRef(record), previous: written.result.previous } : {}),
  };
}

/** Takes back what `wire` did (edits the user has changed since are left as they are) and nothing else. */
export async function unwire(
  api: HostApi,
  auth: HostAuthProfiles | undefined,
  stateDir: string,
): Promise<{ restored: boolean; path?: string; kept: string[] }> {
  const backupPath = join(stateDir, "wiring-backup.json");
  const wiring = await readWiring(backupPath);
  if (!wiring) return { restored: false, kept: [] };
  const written = await api.runtime.config.mutateConfigFile({
    afterWrite: { mode: "auto" },
    mutate(draft: Draft) {
      if (!("edits" in wiring)) return revertLegacy(draft, wiring);
      // Newest first, so an edit inside an object another edit created is undone before that object is pruned.
      return [...wiring.edits]
        .reverse()
        .filter((edit) => !revertEdit(draft, edit))
        .map((edit) => edit.path.join("."));
    },
  });
  if ("profile" in wiring && wiring.profile) await auth?.remove(PROVIDER_ID, [wiring.profile]);
  await rm(backupPath, { force: true });
  return { restored: true, path: written.path, kept: written.result };
}

/** Undoes what versions before the provider registration wrote: models.providers.tokenhub and the default. */
function revertLegacy(draft: Draft, legacy: z.infer<typeof LegacyWiringSchema>): string[] {
  const models = obj(draft.models);
  const providers = obj(models.providers);
  if (legacy.provider === undefined) delete providers[PROVIDER_ID];
  else providers[PROVIDER_ID] = legacy.provider;
  models.providers = providers;
  draft.models = models;
  const model = obj(valueAt(draft, ["agents", "defaults", "model"]));
  if (
    legacy.wroteDefault &&
    typeof model.primary === "string" &&
    model.primary.startsWith(`${PROVIDER_ID}/`)
  ) {
    if (legacy.defaultModel === undefined) delete model.primary;
    else model.primary = legacy.defaultModel;
  }
  return [];
}

/** The wiring record, none when there is no file; one that cannot be read is an error and stays in place. */
async function readWiring(path: string): Promise<Wiring | z.infer<typeof LegacyWiringSchema> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw wiringError(path, (err as Error).message, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw wiringError(path, "it is not JSON", err);
  }
  const current = WiringSchema.safeParse(json);
  if (current.success) return current.data;
  const legacy = LegacyWiringSchema.safeParse(json);
  if (legacy.success) return legacy.data;
  throw wiringError(path, current.error.issues[0]?.message ?? "it does not match", current.error);
}

function wiringError(path: string, detail: string, cause: unknown): TokenHubSetupError {
  return new TokenHubSetupError(
    "wiring_record_unreadable",
    `The record of what wiring changed (${path}) cannot be read: ${detail}.`,
    {
      remedy:
        "It was left in place. Undo the wiring by hand (openclaw config get agents.defaults.model; openclaw models auth list --provider tokenhub), then delete that file.",
      cause,
    },
  );
}
