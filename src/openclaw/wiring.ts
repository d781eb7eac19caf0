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
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import {
  type CompletionRecord,
  ENV_VAR,
  readStateFile,
  TokenHubSetupError,
  writeJsonFile,
} from "../session/index.ts";
import { DEFAULT_STORE_REF, PLUGIN_ID, type SecretRef, SecretRefSchema } from "./config.ts";
import {
  applyEdit,
  type ConfigEdit,
  type Draft,
  isObject,
  mergeEdits,
  revertEdit,
  valueAt,
} from "./config-edits.ts";
import type { AuthProfileView, HostApi, HostAuthProfiles } from "./host.ts";

export const PROVIDER_ID = "tokenhub";
/** The profile id `openclaw onboard` gives a provider's first API key; wiring uses it when it is free. */
export const WIRED_PROFILE_ID = `${PROVIDER_ID}:default`;
/** The id wiring uses when the user already has a `tokenhub:default` holding another key. */
export const SETUP_PROFILE_ID = `${PROVIDER_ID}:tokenhub-setup`;
const ENV_REF: SecretRef = { source: "env", provider: "default", id: ENV_VAR };

/** How the host will find TokenHub's key once wired. */
export type Credential =
  | { use: "profile"; profileId: string; unchecked?: true }
  | { use: "env" }
  | { add: string; ref: SecretRef; first: boolean }
  | { refusal: string };

const obj = (value: unknown): Record<string, unknown> => (isObject(value) ? value : {});

const LOGIN_REMEDY = `run \`openclaw models auth login --provider ${PROVIDER_ID}\` (it checks the key the same way and stores it in OpenClaw's auth store), or give the gateway the key in ${ENV_VAR}`;

/** The reference the verified key was read through: none for a key in plain text or handed over in memory. */
export function verifiedRef(record: CompletionRecord, rawApiKey: unknown): SecretRef | { refusal: string } {
  const source = record.result.key_source;
  if (source === "env") return ENV_REF;
  if (source === "host") {
    if (rawApiKey === undefined) return DEFAULT_STORE_REF;
    const ref = SecretRefSchema.safeParse(rawApiKey);
    if (ref.success) return ref.data;
    return {
      refusal: `the key is configured as plain text in plugins.entries.${PLUGIN_ID}.config.apiKey, and OpenClaw's auth store should not get a copy of it: store it as a SecretRef first (openclaw config set ... --ref-source env|store), or ${LOGIN_REMEDY}.`,
    };
  }
  return { refusal: `the key was handed over for this conversation only; ${LOGIN_REMEDY}.` };
}

/**
 * The credential wiring relies on: the key the setup verified, by its reference. A profile already holding that
 * reference is used as it is; with no TokenHub profile at all, a key in TOKENHUB_API_KEY needs nothing (the
 * provider declares the variable); otherwise a new profile holds the reference, put first in the provider's
 * auth order when other TokenHub profiles exist (their keys were not checked here, and may be others). A key
 * with no reference can only use a profile the user made, and that is said to be unchecked.
 */
export function credentialFor(
  record: CompletionRecord,
  rawApiKey: unknown,
  profiles: readonly AuthProfileView[],
): Credential {
  const ref = verifiedRef(record, rawApiKey);
  if ("refusal" in ref) {
    const existing = profiles[0];
    return existing ? { use: "profile", profileId: existing.id, unchecked: true } : ref;
  }
  const same = profiles.find((p) => !p.holdsKey && isDeepStrictEqual(p.keyRef, ref));
  if (same) return { use: "profile", profileId: same.id };
  if (profiles.length === 0 && record.result.key_source === "env") return { use: "env" };
  const taken = new Set(profiles.map((p) => p.id));
  return {
    add: taken.has(WIRED_PROFILE_ID) ? SETUP_PROFILE_ID : WIRED_PROFILE_ID,
    ref,
    first: profiles.length > 0,
  };
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
  profileIds: readonly string[] = [],
): Array<{ path: string[]; value: unknown }> {
  const edits: Array<{ path: string[]; value: unknown }> = [];
  if ("add" in credential) {
    edits.push({
      path: ["auth", "profiles", credential.add],
      value: { provider: PROVIDER_ID, mode: "api_key" },
    });
    if (credential.first) {
      const order = valueAt(config, ["auth", "order", PROVIDER_ID]);
      const rest = Array.isArray(order) ? order.filter((id) => id !== credential.add) : profileIds;
      edits.push({ path: ["auth", "order", PROVIDER_ID], value: [credential.add, ...rest] });
    }
  }
  if (!setDefault) return edits;
  const ref = modelRef(record);
  const model = valueAt(config, ["agents", "defaults", "model"]);
  // `model` may be written as the bare primary ("provider/model"); that form is kept.
  edits.push(
    typeof model === "string"
      ? { path: ["agents", "defaults", "model"], value: ref }
      : { path: ["agents", "defaults", "model", "primary"], value: ref },
  );
  // A legacy allowlist (agents.defaults.models, until `openclaw doctor --fix` moves it to modelPolicy.allow) would
  // refuse a default it does not list. modelPolicy.allow itself is the user's: see policyNote.
  const allow = valueAt(config, ["agents", "defaults", "models"]);
  if (Object.keys(obj(allow)).length > 0 && !Object.hasOwn(obj(allow), ref))
    edits.push({ path: ["agents", "defaults", "models", ref], value: {} });
  return edits;
}

/**
 * Whether OpenClaw's override policy (`agents.defaults.modelPolicy.allow`, docs/concepts/models.md: exact refs or
 * trailing prefix wildcards such as `provider/*`; omitted or empty allows any model) lets `/model` and `--model`
 * pick `ref`.
 */
function admits(allow: unknown, ref: string): boolean {
  if (!Array.isArray(allow) || allow.length === 0) return true;
  return allow.some(
    (entry) =>
      typeof entry === "string" &&
      (entry === ref || entry === "*" || (entry.endsWith("/*") && ref.startsWith(entry.slice(0, -1)))),
  );
}

/**
 * What a person runs to let `/model` pick TokenHub models, when the policy does not: wiring never edits the policy
 * itself, as OpenClaw's own provider setup does not ("they never change modelPolicy.allow").
 */
export function policyNote(config: unknown, ref: string): string | undefined {
  const allow = valueAt(config, ["agents", "defaults", "modelPolicy", "allow"]);
  if (admits(allow, ref)) return undefined;
  const json = JSON.stringify([...(allow as unknown[]), `${PROVIDER_ID}/*`]).replaceAll("'", "'\\''");
  return `OpenClaw's model policy (agents.defaults.modelPolicy.allow) does not list ${ref}, so /model and --model refuse it. To allow TokenHub's models: openclaw config set agents.defaults.modelPolicy.allow '${json}' --strict-json`;
}

/** The only paths wiring writes; a record naming any other is not ours, and nothing of it is undone. */
const WIRED_PATHS: ReadonlyArray<ReadonlyArray<string | RegExp>> = [
  ["auth", "profiles", /^tokenhub:[\w.-]+$/],
  ["auth", "order", PROVIDER_ID],
  ["agents", "defaults", "model"],
  ["agents", "defaults", "model", "primary"],
  ["agents", "defaults", "models", /^tokenhub\/\S+$/],
];
const isWiredPath = (path: readonly string[]) =>
  WIRED_PATHS.some(
    (shape) =>
      shape.length === path.length &&
      shape.every((part, i) => (typeof part === "string" ? part === path[i] : part.test(path[i] as string))),
  );
/** A record larger than this is not one wiring wrote (a few hundred bytes). */
const MAX_WIRING_BYTES = 64 * 1024;

const EditSchema = z.object({
  path: z.array(z.string()).min(1).refine(isWiredPath, "not a path wiring writes"),
  value: z.unknown(),
  existed: z.boolean(),
  before: z.unknown().optional(),
  created: z.number().int().min(0),
});
/** What `wire` did, for `unwire`. */
const WiringSchema = z.object({
  version: z.literal(2),
  edits: z.array(EditSchema).max(16),
  /** An auth profile wiring added to the host's store, and the reference it holds. */
  profile: z
    .string()
    .regex(/^tokenhub:[\w.-]+$/)
    .optional(),
  ref: SecretRefSchema.optional(),
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
      /** Set when OpenClaw's model policy refuses the wired model as an override (see `policyNote`). */
      policy?: string;
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
  const profiles = auth.list(PROVIDER_ID);
  const credential = credentialFor(record, rawApiKey, profiles);
  if ("refusal" in credential) return credential;
  const backupPath = join(stateDir, "wiring-backup.json");
  const earlier = await readWiring(backupPath);
  if ("add" in credential)
    await auth.add(credential.add, { type: "api_key", provider: PROVIDER_ID, keyRef: credential.ref });
  let written: {
    path: string;
    result: { edits: ConfigEdit[]; previous: unknown; policy: string | undefined };
  };
  try {
    written = await api.runtime.config.mutateConfigFile({
      afterWrite: { mode: "auto" },
      mutate(draft: Draft) {
        const previous = structuredClone(valueAt(draft, ["agents", "defaults", "model"]));
        const edits: ConfigEdit[] = [];
        const ids = profiles.map((p) => p.id);
        for (const { path, value } of planEdits(draft, record, credential, setDefault, ids)) {
          const edit = applyEdit(draft, path, value);
          if (edit) edits.push(edit);
        }
        return { edits, previous, policy: policyNote(draft, modelRef(record)) };
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
      ? { profile: credential.add, ref: credential.ref }
      : earlier && "profile" in earlier && earlier.profile
        ? { profile: earlier.profile, ...(earlier.ref ? { ref: earlier.ref } : {}) }
        : {}),
  };
  await writeJsonFile(backupPath, wiring);
  return {
    path: written.path,
    credential,
    ...(setDefault ? { defaultModel: modelRef(record), previous: written.result.previous } : {}),
    ...(written.result.policy ? { policy: written.result.policy } : {}),
  };
}

const isAuthEdit = (edit: ConfigEdit) => edit.path[0] === "auth";
/** Whether the config still picks a TokenHub model by default (primary or a fallback). */
const defaultUsesTokenHub = (draft: Draft) =>
  JSON.stringify(valueAt(draft, ["agents", "defaults", "model"]) ?? null).includes(`"${PROVIDER_ID}/`);

/**
 * Takes back what `wire` did, and nothing else. Left as they are, and named: a value the user changed since; the
 * profile wiring added when it holds something else now (a `models auth login` under the same id), or when the
 * default model is still a TokenHub one (removing its key would break it).
 */
export async function unwire(
  api: HostApi,
  auth: HostAuthProfiles | undefined,
  stateDir: string,
): Promise<{ restored: boolean; path?: string; kept: string[] }> {
  const backupPath = join(stateDir, "wiring-backup.json");
  const wiring = await readWiring(backupPath);
  if (!wiring) return { restored: false, kept: [] };
  const profile = "profile" in wiring ? wiring.profile : undefined;
  const now = profile ? auth?.list(PROVIDER_ID).find((p) => p.id === profile) : undefined;
  const replaced =
    profile !== undefined &&
    now !== undefined &&
    (now.holdsKey || !("ref" in wiring) || !isDeepStrictEqual(now.keyRef, wiring.ref));
  const written = await api.runtime.config.mutateConfigFile({
    afterWrite: { mode: "auto" },
    mutate(draft: Draft) {
      if (!("edits" in wiring)) return { kept: revertLegacy(draft, wiring), keepProfile: false };
      // Newest first, so an edit inside an object another edit created is undone before that object is pruned.
      const newestFirst = [...wiring.edits].reverse();
      const kept = newestFirst
        .filter((edit) => !isAuthEdit(edit) && !revertEdit(draft, edit))
        .map((edit) => `${edit.path.join(".")} (changed since wiring)`);
      const stillUsed = defaultUsesTokenHub(draft);
      if (profile && (replaced || stillUsed)) {
        kept.push(
          replaced
            ? `auth profile ${profile} (it holds another key since wiring, e.g. from models auth login)`
            : `auth profile ${profile} (the default model is still a TokenHub model, which needs it; remove it with openclaw models auth logout ${profile} --yes)`,
        );
        return { kept, keepProfile: true };
      }
      for (const edit of newestFirst.filter(isAuthEdit))
        if (!revertEdit(draft, edit)) kept.push(`${edit.path.join(".")} (changed since wiring)`);
      return { kept, keepProfile: false };
    },
  });
  if (profile && !written.result.keepProfile && now) await auth?.remove(PROVIDER_ID, [profile]);
  await rm(backupPath, { force: true });
  return { restored: true, path: written.path, kept: written.result.kept };
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
    text = await readStateFile(path, MAX_WIRING_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EFBIG")
      throw wiringError(
        path,
        `it is ${(err as { size?: number }).size} bytes, not a record wiring wrote`,
        err,
      );
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
