import pino, { type DestinationStream, type Logger } from "pino";
import { scrub, scrubError } from "./secrets/scrubber.ts";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** @default process.env.TOKENHUB_SETUP_LOG_LEVEL ?? "info" */
  level?: string;
  /** Where JSON lines go. @default stderr, written synchronously so nothing is lost on exit */
  destination?: DestinationStream;
  /** Fields bound to every line (sessionId, say). */
  bindings?: Record<string, unknown>;
}

// `redact` is the first line of defence for known paths; `hooks.streamWrite` is the one that cannot be bypassed.
const REDACT_PATHS = [
  "key",
  "apiKey",
  "authorization",
  "Authorization",
  "*.key",
  "*.apiKey",
  "*.authorization",
  "*.Authorization",
  "headers.authorization",
  "headers.Authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.TOKENHUB_SETUP_LOG_LEVEL ?? "info";
  const logger = pino(
    {
      name: "tokenhub-setup",
      level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      serializers: { err: scrubError, error: scrubError },
      hooks: { streamWrite: (line: string) => scrub(line) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  return options.bindings ? logger.child(options.bindings) : logger;
}

/**
 * A logger that writes nothing: the default inside a library call and in tests. It discards into a no-op
 * destination with the same scrubbing, so a caller that raises its level gets neither stdout noise (stdout may
 * carry the CLI's output) nor a key.
 */
export function silentLogger(): Logger {
  return createLogger({ level: "silent", destination: { write: () => {} } });
}
