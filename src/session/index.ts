/**
 * The session layer's public face: everything an adapter (src/cli, src/openclaw, the MCP server, the key page) may use. An
 * adapter imports this file and its own folder, nothing else of ours (test/architecture/imports.test.ts holds
 * it to that), so what the skill does lives here and below, and an adapter only translates its host's world:
 *
 * - driving the flow: `createSession` (live), `runTurn` (one call per turn), `createTurnRunner` (the turns of a
 *   long-lived host, sharing one client), `createConversationStore` (a stored snapshot per conversation);
 * - where the flow stands: `Rest` from the machine's one face (`EXIT` by ./basics.ts), `restOfSnapshot` for a stored one;
 * - effects with plain facts back, the words being the adapter's: the key's places (`openKeys`), the record
 *   (`readRecord`, `recordFile`, `noteUnverifiedRun`), checks outside a flow (`openKeyCheck`, `probeReach`);
 * - re-exported: the contract's types and constants, the error hierarchy, the scrubber, the logger (the last
 *   three and the quickstart's constants by way of ./basics.ts, the small face an adapter may load alone).
 */

/** Where the flow stands at rest. */
export type { Rest } from "../machine/face.ts";
/** The skill's config: its schema (a host may extend it), the capabilities, the input type. */
export {
  CAPABILITIES,
  type Capability,
  CapabilitySchema,
  type Config,
  type ConfigInput,
  ConfigSchema,
} from "../schema/config.ts";
/** Host events in, notifications and the final output out. */
export {
  EscalationSchema,
  type HostEvent,
  type Notification,
  type Output,
  type SetupRequest,
  SetupRequestShape,
} from "../schema/host.ts";
/** The Step-5 record, and where a key came from. */
export { type CompletionRecord, CompletionRecordSchema, type KeySource } from "../schema/record.ts";
export type { SnapshotEnvelope } from "../schema/snapshot.ts";
export { readStateFile } from "../status/read-state-file.ts";
/** Whether a process with this pid exists (one of another user counts): for folders named by a run's pid. */
export { isAlive as processIsAlive } from "../status/temp-files.ts";
/** An agent tool's shared half: the SETUP event a call asks for, what a model reads after it (host words added). */
export {
  type AgentTextOptions,
  agentText,
  type NeedKeyNotification,
  needKeyOf,
  recordText,
  refusedSnapshotLines,
  setupEvent,
  statusExitCode,
} from "./agent-text.ts";
/**
 * The small face (./basics.ts): the typed errors, the logger, the exit codes, the quickstart's constants, the
 * scrubber; what an adapter may load without the rest of this file.
 */
export {
  CONTRACT,
  ConfigError,
  createLogger,
  EXIT,
  type Logger,
  MEDIA,
  scrub,
  TokenHubSetupError,
  VIDEO_PROTOCOLS,
} from "./basics.ts";
/** Checks outside a flow: one probe with a key (`status --check`), whether a base URL answers (`doctor`). */
export {
  type KeyCheck,
  type KeyCheckAnswer,
  openKeyCheck,
  probeReach,
  proxySettings,
  type Reachability,
  readBaseUrl,
  type TransportFailure,
} from "./checks.ts";
/** Time for the flow; a virtual clock makes waits take no real time. */
export { type Clock, createVirtualClock, systemClock } from "./clock.ts";
/** One stored snapshot per conversation, and an atomic JSON write, in a host's state folder. */
export { type ConversationStore, createConversationStore, writeJsonFile } from "./conversations.ts";
/** Step-2 out of band (the key page): a key checked with the quickstart's probe, then kept, never echoed. */
export { type KeptIn, type KeyEntry, type KeyEntryAnswer, openKeyEntry } from "./key-entry.ts";
/** The key's places (TOKENHUB_API_KEY, the OS keychain, the key file): find, store, clear, probe the keychain. */
export {
  ENV_VAR,
  type KeyFindings,
  type KeyPlace,
  type KeyProblem,
  type Keys,
  keyFormatProblem,
  openKeys,
  type PlaceReport,
} from "./keys.ts";
/** The Step-5 record: where it is kept, reading it (with a later unverified run's note), noting such a run. */
export {
  defaultStateDir,
  defaultStatusPath,
  type LastAttempt,
  noteUnverifiedRun,
  readRecord,
  recordFile,
  recordInMemory,
  type StatusStore,
} from "./records.ts";
/** A live flow for long-running hosts; `resolveConfig` checks a config once (the session takes it as it is). */
export {
  createSession,
  type NotificationListener,
  resolveConfig,
  type Session,
  type SessionOptions,
} from "./session.ts";
/** A stored snapshot: opened (refused with a SnapshotError when not ours), or read for where it stands. */
export { openEnvelope, restOfSnapshot } from "./snapshot.ts";
/** One call per turn: restore, apply one event, run to the next rest, hand back a snapshot to store. */
export { runTurn, type TurnInput, type TurnResult } from "./turn.ts";
/** The turns of a long-lived host with one config: resolved once, one shared client, the record read back. */
export { createTurnRunner, type Turn, type TurnRunner, type TurnRunnerOptions } from "./turn-runner.ts";
