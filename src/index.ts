/**
 * tokenhub-setup: from "set up TokenHub" to a verified, recorded integration.
 * Hosts drive it with `createSession` (live) or `runTurn` (one call per turn, snapshot in and out).
 */
// Importing the package loads none of zod, xstate, undici or pino (issue 15: a bare import cost 6-8x `node -e
// 0`, now about that of node itself). What they serve is loaded on first use, synchronously: a function here
// loads its module when first called, and each schema (and `setupMachine`) is a stand-in that loads and builds
// the real one when first touched (src/schema/stand-in.ts), answering everything as the real one does. `require`
// of our own ES modules (require(esm), Node >= 22.12) shares Node's module map with `import`: whatever else
// imports them (the ./mcp export, the OpenClaw entry) gets the same instances.
import { createRequire } from "node:module";
import type * as Chart from "./machine/chart.ts";
import type * as Schemas from "./schema/index.ts";
import type * as SchemaTools from "./schema/lazy.ts";
import { once, real, standIn } from "./schema/stand-in.ts";
import type * as Flow from "./session/index.ts";
import type * as Status from "./status/index.ts";
import type * as TokenHub from "./tokenhub/index.ts";

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
export { MACHINE_VERSION } from "./machine/version.ts";
export type * from "./schema/index.ts";
export {
  CAPABILITIES,
  COMPLETION_TEMPLATE_FIELDS,
  DEFAULT_CONNECTIONS_PER_ORIGIN,
  LOCAL_FAILURE_CODES,
  MAX_DURATION_MS,
  SNAPSHOT_FORMAT,
  SNAPSHOT_FORMAT_VERSION,
  STEP_TITLES,
} from "./schema/values.ts";
export type { KeySources } from "./secrets/index.ts";
export { REDACTED, registerSecret, scrub } from "./secrets/scrubber.ts";
export { type Clock, createVirtualClock, systemClock } from "./session/clock.ts";
export type { Session, SessionOptions, TurnInput, TurnResult } from "./session/index.ts";
export type { StatusStore } from "./status/index.ts";
export type { ClientOptions, Outcome, TokenHubClient } from "./tokenhub/index.ts";

/** Our module `path` (no extension: .ts from the sources, .js from dist/), loaded now. */
const load = (() => {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const require = createRequire(import.meta.url);
  return <T>(path: string): T => require(`${path}${ext}`) as T;
})();

const flow = once(() => load<typeof Flow>("./session/index"));
const chart = once(() => load<typeof Chart>("./machine/chart"));
const schemas = once(() => load<typeof Schemas>("./schema/index"));
const schemaTools = once(() => load<typeof SchemaTools>("./schema/lazy"));
const status = once(() => load<typeof Status>("./status/index"));
const tokenhub = once(() => load<typeof TokenHub>("./tokenhub/index"));

export const setupMachine: typeof Chart.setupMachine = standIn(() => chart().setupMachine);

export const createSession: typeof Flow.createSession = (...args) => flow().createSession(...args);
export const runTurn: typeof Flow.runTurn = (...args) => flow().runTurn(...args);
export const openEnvelope: typeof Flow.openEnvelope = (...args) => flow().openEnvelope(...args);

export const createFileStatusStore: typeof Status.createFileStatusStore = (...args) =>
  status().createFileStatusStore(...args);
export const defaultStatusPath: typeof Status.defaultStatusPath = (...args) =>
  status().defaultStatusPath(...args);
export const createMemoryStatusStore: typeof Status.createMemoryStatusStore = (...args) =>
  status().createMemoryStatusStore(...args);

export const classify: typeof TokenHub.classify = (...args) => tokenhub().classify(...args);
export const createTokenHubClient: typeof TokenHub.createTokenHubClient = (...args) =>
  tokenhub().createTokenHubClient(...args);

export const checkConfig: typeof Schemas.checkConfig = (...args) => schemas().checkConfig(...args);
export const replyText: typeof Schemas.replyText = (...args) => schemas().replyText(...args);
export const upgradeLegacyRecord: typeof Schemas.upgradeLegacyRecord = (...args) =>
  schemas().upgradeLegacyRecord(...args);

/** The names of src/schema's schemas (and SetupRequestShape): its exported objects. */
type SchemaName = {
  [K in keyof typeof Schemas]: (typeof Schemas)[K] extends object
    ? (typeof Schemas)[K] extends (...args: never[]) => unknown
      ? never
      : K
    : never;
}[keyof typeof Schemas];

/** A stand-in for one of src/schema's schemas, loading and building it when first touched. */
const schema = <K extends SchemaName>(name: K): (typeof Schemas)[K] =>
  standIn<(typeof Schemas)[K]>(() => real(schemas()[name]), {
    onResolve: (stand, target) => schemaTools().sameMetadata(stand, target),
    answer: (key, value, stand, target) => schemaTools().asSchema(key, value, stand, target),
  });

export const ChatRequestSchema = schema("ChatRequestSchema");
export const ChatCompletionSchema = schema("ChatCompletionSchema");
export const ChoiceSchema = schema("ChoiceSchema");
export const ChatCompletionChunkSchema = schema("ChatCompletionChunkSchema");
export const ChunkChoiceSchema = schema("ChunkChoiceSchema");
export const OpenAIErrorBodySchema = schema("OpenAIErrorBodySchema");
export const DashScopeErrorBodySchema = schema("DashScopeErrorBodySchema");
export const RoutingRuleSchema = schema("RoutingRuleSchema");
export const TimeoutsSchema = schema("TimeoutsSchema");
export const RetrySchema = schema("RetrySchema");
export const CapabilitySchema = schema("CapabilitySchema");
export const ImageCheckSchema = schema("ImageCheckSchema");
export const VideoCheckSchema = schema("VideoCheckSchema");
export const MultimodalSchema = schema("MultimodalSchema");
export const ConfigSchema = schema("ConfigSchema");
export const PreferencesSchema = schema("PreferencesSchema");
export const SetupRequestShape = schema("SetupRequestShape");
export const SetupEventSchema = schema("SetupEventSchema");
export const KeyProvidedEventSchema = schema("KeyProvidedEventSchema");
export const KeyReadyEventSchema = schema("KeyReadyEventSchema");
export const CancelEventSchema = schema("CancelEventSchema");
export const HostEventSchema = schema("HostEventSchema");
export const ProgressNotificationSchema = schema("ProgressNotificationSchema");
export const KeyHintSchema = schema("KeyHintSchema");
export const NeedKeyNotificationSchema = schema("NeedKeyNotificationSchema");
export const EscalationSchema = schema("EscalationSchema");
export const CompletedNotificationSchema = schema("CompletedNotificationSchema");
export const EscalatedNotificationSchema = schema("EscalatedNotificationSchema");
export const CancelledNotificationSchema = schema("CancelledNotificationSchema");
export const NotificationSchema = schema("NotificationSchema");
export const OutputSchema = schema("OutputSchema");
export const KeySourceSchema = schema("KeySourceSchema");
export const ProviderModeSchema = schema("ProviderModeSchema");
export const FailureCodeSchema = schema("FailureCodeSchema");
export const AttemptSchema = schema("AttemptSchema");
export const FailureSchema = schema("FailureSchema");
export const ResultSummarySchema = schema("ResultSummarySchema");
export const MediaCheckSchema = schema("MediaCheckSchema");
export const MultimodalSectionSchema = schema("MultimodalSectionSchema");
export const LastSuccessSchema = schema("LastSuccessSchema");
export const CompletionRecordSchema = schema("CompletionRecordSchema");
export const StoredRecordSchema = schema("StoredRecordSchema");
export const SnapshotEnvelopeSchema = schema("SnapshotEnvelopeSchema");
