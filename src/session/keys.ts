import { TokenHubSetupError } from "../errors.ts";
import type { Config } from "../schema/config.ts";
import { describeSource, maskKey, parseKey, type SecretKey } from "../secrets/key.ts";
import { keyFilePath, removeKeyFile, writeKeyFile } from "../secrets/key-file.ts";
import { createKeychain } from "../secrets/keychain.ts";
import { type KeySources, readSource } from "../secrets/sources.ts";
import { resolveConfig } from "./config.ts";

export { ENV_VAR } from "../secrets/sources.ts";

/**
 * The places a person keeps a key for the command line, in the order Step-1 reads them: TOKENHUB_API_KEY, the
 * OS keychain, then the plaintext key file (`key set --insecure-storage`). A host's own secret store is the
 * host's business and not among them.
 */
export type KeyPlace = "env" | "keychain" | "file";
const PLACES: readonly KeyPlace[] = ["env", "keychain", "file"];

/** Why a place gave no key: a stable code, one sentence, and what to do (never the key). */
export interface KeyProblem {
  code: string;
  message: string;
  remedy: string;
}

/** One place as it stands now. */
export interface PlaceReport {
  source: KeyPlace;
  /** It holds a usable key. */
  found: boolean;
  /** That key, masked (`sk-…9f2c`): enough to recognise it, not to use it. */
  hint?: string;
  /** It could not be read (no keychain, a key file others can read), or what it holds cannot be a key. */
  problem?: KeyProblem;
}

export interface KeyFindings {
  /** The places read, in order: up to the one a run would use, or all of them with `readAll`. */
  places: PlaceReport[];
  /**
   * The key a run would use and where it is. The key itself is a SecretKey: it prints `[redacted]` everywhere
   * and goes only to a check (`openKeyCheck`).
   */
  used?: { source: KeyPlace; hint: string; key: SecretKey };
  /** A sentence (problem and remedy) for each place before the used one that could not be used. */
  notices: string[];
}

/** The key's places for one user: find a key, store one, clear them, and whether the OS keychain answers. */
export interface Keys {
  /** The plaintext key file, used only when a person asks for it (`key set --insecure-storage`). */
  readonly keyFile: string;
  /** The OS keychain entry the key is stored under. */
  readonly keychainEntry: { service: string; account: string };
  /** These places as Step-1's sources, for `createSession`: one keychain, shared. */
  readonly sources: KeySources;
  /**
   * Reads the places in order. By default it stops at the first usable key, as a run does (so the keychain,
   * which may ask to be unlocked, is not touched when TOKENHUB_API_KEY has a key); `readAll` reads every place.
   */
  find(options?: { readAll?: boolean }): Promise<KeyFindings>;
  /** Why the OS keychain cannot be used here (with the remedy), or undefined when it answers. */
  keychainProblem(): Promise<KeyProblem | undefined>;
  /**
   * Stores a key in the OS keychain, or in the key file when `in: "file"` (mode 0600). Throws a KeyFormatError
   * for what cannot be a key (`subject` names it in the message: "The key you typed"), and the place's own
   * typed error when it cannot take the key.
   */
  store(raw: string, options: { in: "keychain" | "file"; subject?: string }): Promise<void>;
  /**
   * Removes the key from the OS keychain and the key file. A keychain that cannot be reached had nothing to hold:
   * its problem is reported and the file is still removed.
   */
  clear(): Promise<{ removed: boolean; fileRemoved: boolean; keychainProblem?: KeyProblem }>;
}

/** The places of the person whose environment this is. `config` names the keychain entry. @default {} */
export function openKeys(options: {
  env: Readonly<Record<string, string | undefined>>;
  config?: Config;
}): Keys {
  const config = options.config ?? resolveConfig({});
  const keychain = createKeychain(config.keychainService, config.keychainAccount);
  const keyFile = keyFilePath(options.env);
  const sources: KeySources = { env: options.env, keychain, keyFile };
  return {
    keyFile,
    keychainEntry: { service: config.keychainService, account: config.keychainAccount },
    sources,
    async find({ readAll = false } = {}) {
      const places: PlaceReport[] = [];
      const notices: string[] = [];
      let used: KeyFindings["used"];
      for (const source of PLACES) {
        if (used && !readAll) break;
        let key: SecretKey | undefined;
        try {
          key = await readSource(sources, source);
        } catch (err) {
          const problem = problemOf(err, {
            code: "key_source_unreadable",
            message: `${describeSource(source)} could not be read.`,
            remedy: "",
          });
          places.push({ source, found: false, problem });
          if (!used) notices.push(`${problem.message} ${problem.remedy}`.trim());
          continue;
        }
        if (!key) {
          places.push({ source, found: false });
          continue;
        }
        const hint = maskKey(key.reveal());
        places.push({ source, found: true, hint });
        used ??= { source, hint, key };
      }
      return { places, ...(used ? { used } : {}), notices };
    },
    async keychainProblem() {
      try {
        await keychain.get();
        return undefined;
      } catch (err) {
        return problemOf(err, {
          code: "keychain_error",
          message: "The OS keychain could not be reached.",
          remedy: "Run `tokenhub-setup doctor`.",
        });
      }
    },
    async store(raw, { in: where, subject }) {
      const key = parseKey(raw, where, subject ? { subject } : {});
      if (where === "file") await writeKeyFile(keyFile, key.reveal());
      else await keychain.set(key.reveal());
    },
    async clear() {
      let removed = false;
      let keychainProblem: KeyProblem | undefined;
      try {
        removed = await keychain.delete();
      } catch (err) {
        if (!(err instanceof TokenHubSetupError)) throw err;
        keychainProblem = { code: err.code, message: err.message, remedy: err.remedy };
      }
      const fileRemoved = await removeKeyFile(keyFile).catch(() => false);
      return { removed, fileRemoved, ...(keychainProblem ? { keychainProblem } : {}) };
    },
  };
}

/**
 * Why `raw` cannot be a key, in one sentence naming it as `subject` ("The key you typed"), or undefined when it
 * could be one: for a prompt that checks what is typed before handing it over.
 */
export function keyFormatProblem(raw: string, subject: string): string | undefined {
  try {
    parseKey(raw, "event", { subject });
    return undefined;
  } catch (err) {
    return err instanceof TokenHubSetupError ? err.message : "That is not a key.";
  }
}

/** A typed error's problem; `otherwise` for anything else (every key place throws typed errors; a bug may not). */
function problemOf(err: unknown, otherwise: KeyProblem): KeyProblem {
  return err instanceof TokenHubSetupError
    ? { code: err.code, message: err.message, remedy: err.remedy }
    : otherwise;
}
