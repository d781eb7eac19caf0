/**
 * tokenhub-setup: from "set up TokenHub" to a verified, recorded integration.
 * Hosts drive it with `createSession` (live) or `runTurn` (one call per turn, snapshot in and out).
 */
export {
  ConfigError,
  EventError,
  KeychainUnavailableError,
  KeyFormatError,
  SnapshotError,
  StatusStoreError,
  TokenHubSetupError,
} from "./errors.ts";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./log.ts";
export { setupMachine } from "./machine/chart.ts";
export { MACHINE_VERSION } from "./machine/version.ts";
export * from "./schema/index.ts";
export { type KeySources, REDACTED, registerSecret, scrub } from "./secrets/index.ts";
export {
  type Clock,
  createSession,
  createVirtualClock,
  openEnvelope,
  runTurn,
  type Session,
  type SessionOptions,
  systemClock,
  type TurnInput,
  type TurnResult,
} from "./session/index.ts";
export {
  createFileStatusStore,
  createMemoryStatusStore,
  defaultStatusPath,
  type StatusStore,
} from "./status/index.ts";
export {
  type ClientOptions,
  classify,
  createTokenHubClient,
  type Outcome,
  type TokenHubClient,
} from "./tokenhub/index.ts";
