/**
 * Step-2 out of band: a key entered somewhere other than the chat (the key page) is checked with the
 * quickstart's probe before it is kept, so a key TokenHub rejects is never stored. Facts back, no words of a page.
 */
import { TokenHubSetupError } from "../errors.ts";
import type { Config } from "../schema/config.ts";
import { maskKey, parseKey, type SecretKey } from "../secrets/key.ts";
import { type KeyCheckAnswer, openKeyCheck } from "./checks.ts";
import type { KeyProblem, Keys } from "./keys.ts";

/** Where an accepted key was kept: the OS keychain, the 0600 key file (the person's opt-in), or this process. */
export type KeptIn = "keychain" | "file" | "memory";

export type KeyEntryAnswer =
  | {
      ok: true;
      kept: KeptIn;
      /** The key masked (`sk-…9f2c`). */
      hint: string;
      /** Why the keychain did not take it, when it was kept in memory instead. */
      keychainProblem?: KeyProblem;
      checked: KeyCheckAnswer;
    }
  | {
      ok: false;
      /** `key_format` (cannot be a key), `key_rejected` (TokenHub said 401), `not_checked` (no verdict), `aborted`. */
      code: "key_format" | "key_rejected" | "not_checked" | "aborted" | "not_stored";
      message: string;
      remedy: string;
      checked?: KeyCheckAnswer;
    };

export interface KeyEntry {
  /** Whether the OS keychain answers here: when not, a page offers the key file (an explicit opt-in). */
  keychainProblem(): Promise<KeyProblem | undefined>;
  /**
   * Checks `raw` with one probe (Step-3/4: no retry, no fallback, no record) and keeps it when TokenHub did not
   * reject it: in the key file when `insecureFile`, else the OS keychain, else this process (`held()`).
   */
  submit(raw: string, options?: { insecureFile?: boolean; signal?: AbortSignal }): Promise<KeyEntryAnswer>;
  /** The last key kept in memory, for the flow's `hostSecret` source; undefined when none. */
  held(): string | undefined;
  close(): Promise<void>;
}

/**
 * Answers that authenticate the key: TokenHub answered, or said the model or balance stands in the way (the flow
 * falls back or escalates; the key is fine). Anything else is no verdict on the key: it is not kept.
 */
const KEY_ACCEPTED = new Set<KeyCheckAnswer["kind"]>(["ok", "routing", "insufficientBalance"]);

export function openKeyEntry(options: {
  keys: Keys;
  config: Config;
  env: Readonly<Record<string, string | undefined>>;
}): KeyEntry {
  const { keys, config } = options;
  const check = openKeyCheck({ env: options.env, config });
  let held: SecretKey | undefined;
  return {
    keychainProblem: () => keys.keychainProblem(),
    async submit(raw, { insecureFile = false, signal } = {}) {
      let key: SecretKey;
      try {
        key = parseKey(raw.trim(), "event", { subject: "The key you entered" });
      } catch (err) {
        if (!(err instanceof TokenHubSetupError)) throw err;
        return { ok: false, code: "key_format", message: err.message, remedy: err.remedy };
      }
      const checked = await check.ask({
        key,
        model: config.modelChain[0] as string,
        ...(signal ? { signal } : {}),
      });
      if (!checked) return { ok: false, code: "aborted", message: "The check was stopped.", remedy: "" };
      if (checked.kind === "unauthorized")
        return {
          ok: false,
          code: "key_rejected",
          message: `TokenHub rejected this key (HTTP ${checked.status ?? 401}); it was not stored.`,
          remedy: `Check that the whole key was copied, or create a new one at ${config.consoleUrl}.`,
          checked,
        };
      if (!KEY_ACCEPTED.has(checked.kind))
        return {
          ok: false,
          code: "not_checked",
          message: `TokenHub could not check the key just now: ${checked.message} It was not stored.`,
          remedy: "Try again in a moment; if it keeps failing, run `tokenhub-setup doctor`.",
          checked,
        };
      const hint = maskKey(key.reveal());
      if (insecureFile) {
        try {
          await keys.store(key.reveal(), { in: "file" });
        } catch (err) {
          if (!(err instanceof TokenHubSetupError)) throw err;
          return { ok: false, code: "not_stored", message: err.message, remedy: err.remedy, checked };
        }
        held = undefined;
        return { ok: true, kept: "file", hint, checked };
      }
      try {
        await keys.store(key.reveal(), { in: "keychain" });
        held = undefined;
        return { ok: true, kept: "keychain", hint, checked };
      } catch (err) {
        if (!(err instanceof TokenHubSetupError)) throw err;
        // Nothing lost: the process keeps it until it ends, and the person hears where to keep it for good.
        held = key;
        return {
          ok: true,
          kept: "memory",
          hint,
          keychainProblem: { code: err.code, message: err.message, remedy: err.remedy },
          checked,
        };
      }
    },
    held: () => held?.reveal(),
    close: () => check.close(),
  };
}
