import { ConfigError } from "../errors.ts";
import { type Config, type ConfigInput, checkConfig } from "../schema/config.ts";
import { type ClientOptions, createTokenHubClient, type TokenHubClient } from "../tokenhub/client.ts";

/** Configs `resolveConfig` returned: handed back in, they are used as they are, not checked a second time. */
const resolved = new WeakSet<object>();

/**
 * Per process, not per session: an input that reads as one seen before resolves to the config it gave then
 * (each session of a host passes a fresh object with the same few keys). "Reads as" is its JSON with the values
 * JSON would drop kept as markers, so a key set to undefined or to a function is a different input. No input:
 * the defaults, checked once. Only configs that passed are kept; a refused one is checked (and refused) again.
 */
const byText = new Map<string, Config>();
/** Bounds the cache: a host that builds a new config per call must not grow it without end. */
const MAX_CACHED = 32;
let defaults: Config | undefined;

function inputText(input: object): string | undefined {
  try {
    return JSON.stringify(input, (_key, value: unknown) =>
      value === undefined || typeof value === "function" || typeof value === "symbol"
        ? `\u0000${typeof value}`
        : value,
    );
  } catch {
    return undefined; // a BigInt or a cycle: not cached, zod says what is wrong with it
  }
}

/**
 * The config with its defaults, or a ConfigError (code `invalid_config`, with the refused `path` and the schema's
 * `detail`). The checking is the contract's (schema/config.ts); the typed, scrubbed error is raised here. A
 * config this function returned is returned as it is (deep-frozen, so it cannot have changed since): an adapter
 * that resolved the config to report a bad flag passes it to `createSession`, which does not resolve it again.
 */
export function resolveConfig(input: ConfigInput | Config | undefined): Config {
  if (input && resolved.has(input)) return input as Config;
  if (input === undefined && defaults) return defaults;
  const text = typeof input === "object" && input !== null ? inputText(input) : undefined;
  const seen = text === undefined ? undefined : byText.get(text);
  if (seen) return seen;
  const resolution = checkConfig(input);
  if (!resolution.ok) {
    const { message, remedy, cause, path, detail } = resolution;
    throw new ConfigError("invalid_config", message, { remedy, cause, path, detail });
  }
  const config = deepFreeze(resolution.config);
  resolved.add(config);
  if (input === undefined) defaults = config;
  else if (text !== undefined) {
    if (byText.size >= MAX_CACHED) byText.delete(byText.keys().next().value as string);
    byText.set(text, config);
  }
  return config;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The TokenHub client a config describes (its base URL, timeouts and response cap), with what a caller adds. */
export function clientFor(config: Config, extra: Partial<ClientOptions> = {}): TokenHubClient {
  return createTokenHubClient({
    baseUrl: config.baseUrl,
    timeouts: config.timeouts,
    maxResponseBytes: config.maxResponseBytes,
    maxConnectionsPerOrigin: config.maxConnectionsPerOrigin,
    ...extra,
  });
}
