import type { Logger } from "../log.ts";
import type { Config, ConfigInput } from "../schema/config.ts";
import type { CompletionRecord } from "../schema/record.ts";
import { defaultStatusPath } from "../status/paths.ts";
import { createFileStatusStore } from "../status/store.ts";
import type { TokenHubClient } from "../tokenhub/client.ts";
import type { Clock } from "./clock.ts";
import { clientFor, resolveConfig } from "./config.ts";
import { runTurn, type TurnInput, type TurnResult } from "./turn.ts";

export interface TurnRunnerOptions {
  /** The skill's pino logger for every turn. @default runTurn's: pino on stderr at the config's level */
  logger?: Logger;
  /** @default the system clock */
  clock?: Clock;
}

/** What one turn brings: the event, the stored snapshot, and the key sources as the host sees them now. */
export type Turn = Pick<
  TurnInput,
  "event" | "snapshot" | "resume" | "signal" | "sources" | "maxWaitMs" | "onNotification"
>;

/**
 * `runTurn` for a long-lived host with one config (a gateway plugin, an MCP server): the config is resolved
 * once, and the turns share one TokenHub client (one connection pool, proxy-aware) instead of each opening its
 * own. It also reads the record those turns write.
 */
export interface TurnRunner {
  /** The config as resolved, defaults filled in. */
  readonly config: Config;
  /** Where the turns write the Step-5 record: `config.statusPath`, else the default path. */
  readonly recordPath: string;
  run(turn: Turn): Promise<TurnResult>;
  /** The record at `recordPath`, or undefined when none was written yet; a StatusStoreError when unreadable. */
  readRecord(): Promise<CompletionRecord | undefined>;
  /** Closes the shared client's connections; a later turn opens a new one. */
  close(): Promise<void>;
}

/** Throws a ConfigError when `config` is refused; nothing is opened until the first turn. */
export function createTurnRunner(config: ConfigInput | Config, options: TurnRunnerOptions = {}): TurnRunner {
  const resolved = resolveConfig(config);
  const recordPath = resolved.statusPath ?? defaultStatusPath();
  let client: TokenHubClient | undefined;
  return {
    config: resolved,
    recordPath,
    run(turn) {
      client ??= clientFor(resolved);
      return runTurn({
        ...turn,
        // Resolved already: the session takes it as it is (and finds the record where recordPath says).
        config: resolved,
        client,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      });
    },
    readRecord: () => createFileStatusStore(recordPath).read(),
    async close() {
      const open = client;
      client = undefined;
      await open?.close();
    },
  };
}
