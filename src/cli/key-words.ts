import { ENV_VAR, type KeySource } from "../session/index.ts";

/** How the command line speaks of one key source. */
export interface KeySourceWords {
  /** The key itself, in results and warnings: "the key in TOKENHUB_API_KEY". */
  key: string;
  /** Where it is kept, in a list of places (`status --check`, `doctor`): "the OS keychain". */
  place: string;
  /** The answer to `key where`: "environment (TOKENHUB_API_KEY)". */
  where: string;
}

/**
 * The one home of the words for a key source, as a person at the terminal knows it: the session says which
 * source (and the key file's path), this says it in the CLI's voice. `keyFile`, when given, is named where the
 * key file is meant.
 */
export function keySourceWords(source: KeySource, keyFile?: string): KeySourceWords {
  const file = keyFile ? ` ${keyFile}` : "";
  switch (source) {
    case "event":
      return { key: "the key you entered", place: "the key you entered", where: "entered for this run" };
    case "env":
      return { key: `the key in ${ENV_VAR}`, place: ENV_VAR, where: `environment (${ENV_VAR})` };
    case "host":
      return {
        key: "the key from the host's secret store",
        place: "the host's secret store",
        where: "the host's secret store",
      };
    case "keychain":
      return { key: "the key in the OS keychain", place: "the OS keychain", where: "OS keychain" };
    case "file":
      return {
        key: "the key in the key file (--insecure-storage)",
        place: `the key file${file}`,
        where: `key file${file} (plaintext, --insecure-storage)`,
      };
  }
}
