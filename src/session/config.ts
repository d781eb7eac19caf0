import { ConfigError } from "../errors.ts";
import { type Config, type ConfigInput, checkConfig } from "../schema/config.ts";
import { type ClientOptions, createTokenHubClient, type TokenHubClient } from "../tokenhub/client.ts";

/** Configs `resolveConfig` returned: handed back in, they are used as they are, not checked a second time. */
const resolved = new WeakSet<object>();

/**
 * The config with its defaults, or a ConfigError (code `invalid_config`, with the refused `path` and the schema's
 * `detail`). The checking is the contract's (schema/config.ts); the typed, scrubbed error is raised here. A
 * config this function returned is returned as it is (deep-frozen, so it cannot have changed since): an adapter
 * that resolved the config to report a bad flag passes it to `createSession`, which does not resolve it again.
 */
export function resolveConfig(input: ConfigInput | Config | undefined): Config {
  if (input && resolved.has(input)) return input as Config;
  const resolution = checkConfig(input);
  if (!resolution.ok) {
    const { message, remedy, cause, path, detail } = resolution;
    throw new ConfigError("invalid_config", message, { remedy, cause, path, detail });
  }
  const config = deepFreeze(resolution.config);
  resolved.add(config);
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
    ...extra,
  });
}
