import { TokenHubSetupError } from "../errors.ts";
import { ENV_VAR } from "../schema/quickstart.ts";
import type { KeySource } from "../schema/record.ts";
import { describeSource, maskKey, parseKey, type SecretKey } from "./key.ts";
import { readKeyFile } from "./key-file.ts";
import type { Keychain } from "./keychain.ts";

export { ENV_VAR };

/** Where Step-1 may find a key, besides one the host hands over in an event. */
export interface KeySources {
  env?: Readonly<Record<string, string | undefined>>;
  /** A secret the host resolved for us (OpenClaw's SecretRef, say). */
  hostSecret?: () => Promise<string | undefined> | string | undefined;
  /** `false` switches the keychain off. */
  keychain?: Keychain | false;
  /** The plaintext key file a person chose with `key set --insecure-storage` (secrets/key-file.ts); read last. */
  keyFile?: string;
}

export interface Resolution {
  key?: SecretKey;
  /** Sentences for the user about sources that could not be used; never contain a key. */
  notices: string[];
  /** A key was found but it is one TokenHub already rejected in this flow. */
  sawRejected: boolean;
}

/**
 * Step-1: the explicit key first, then TOKENHUB_API_KEY, the host's secret, the OS keychain. A later source is
 * read only when the earlier ones gave nothing usable, so keytar is not even loaded when the env has a key.
 */
export async function resolveKey(
  sources: KeySources,
  options: { explicit?: SecretKey; rejected?: readonly string[]; only?: KeySource },
): Promise<Resolution> {
  const rejected = new Set(options.rejected ?? []);
  const notices: string[] = [];
  let sawRejected = false;
  const order: KeySource[] = options.only ? [options.only] : ["event", "env", "host", "keychain", "file"];
  for (const source of order) {
    let key: SecretKey | undefined;
    try {
      key = source === "event" ? options.explicit : await readSource(sources, source);
    } catch (err) {
      notices.push(
        err instanceof TokenHubSetupError ? err.toLine() : `${describeSource(source)} could not be read.`,
      );
      continue;
    }
    if (!key) continue;
    if (rejected.has(key.fingerprint)) {
      sawRejected = true;
      notices.push(
        `The key from ${describeSource(source)} was already rejected by TokenHub; it was skipped.`,
      );
      continue;
    }
    return { key, notices, sawRejected };
  }
  return { notices, sawRejected };
}

/**
 * One source's key, or undefined when it holds none (an empty value counts as none). Throws the source's typed
 * error when it cannot be read (keychain unavailable, a key file others can read) and a KeyFormatError when what
 * it holds cannot be a key.
 */
export async function readSource(
  sources: KeySources,
  source: Exclude<KeySource, "event">,
): Promise<SecretKey | undefined> {
  let raw: string | undefined;
  if (source === "env") raw = (sources.env ?? process.env)[ENV_VAR];
  else if (source === "host") raw = sources.hostSecret ? await sources.hostSecret() : undefined;
  else if (source === "file") raw = sources.keyFile ? await readKeyFile(sources.keyFile) : undefined;
  else raw = sources.keychain ? await sources.keychain.get() : undefined;
  // An empty variable counts as "not set": that is what people mean by `TOKENHUB_API_KEY=`.
  if (raw === undefined || raw.trim() === "") return undefined;
  return parseKey(raw, source);
}

/**
 * Every source's key, masked, except those already rejected: what a person could switch to after a 401. A source
 * that cannot be read is left out (the flow already said why when it resolved the key).
 */
export async function surveyKeys(
  sources: KeySources,
  rejected: readonly string[],
): Promise<Array<{ source: Exclude<KeySource, "event">; hint: string }>> {
  const skip = new Set(rejected);
  const found: Array<{ source: Exclude<KeySource, "event">; hint: string }> = [];
  for (const source of ["env", "host", "keychain", "file"] as const) {
    const key = await readSource(sources, source).catch(() => undefined);
    if (key && !skip.has(key.fingerprint)) found.push({ source, hint: maskKey(key.reveal()) });
  }
  return found;
}
