/**
 * The session's small face: what an adapter needs before, or without, a flow (the CLI's `--help`, `--version`,
 * its argument table and its last-resort error line). Nothing here loads zod, xstate, undici or the chart, so a
 * command that answers from these alone starts like a small tool (pino comes with log.ts: bundlers must see it).
 * src/session/index.ts re-exports all of it: a host that loads the whole face finds the same names there.
 */

/** The skill's typed errors: match on `code`; `toLine()` is one sentence and the remedy. */
export { ConfigError, TokenHubSetupError } from "../errors.ts";
/** pino, scrubbed at the last moment (every line a host's logger receives is key-free). */
export { createLogger, type Logger } from "../log.ts";
/** The exit code a command gives for where the flow stands (the README's table). */
export { EXIT } from "../machine/exit-codes.ts";
/** The agent quickstart's fixed values: base URL, model formats, media defaults, video protocols. */
export { CONTRACT, ENV_VAR, MEDIA, VIDEO_PROTOCOLS } from "../schema/quickstart.ts";
/**
 * Replaces every key this process has seen with `[redacted]`: for text of unknown origin (a foreign error);
 * registerKey adds one before it is loaded (the CLI's TOKENHUB_API_KEY, from the start), by parseKey's rule.
 */
export { registerKey, scrub } from "../secrets/scrubber.ts";
