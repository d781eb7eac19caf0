import { ENV_VAR, EXIT, registerKey, scrub, TokenHubSetupError } from "../session/basics.ts";
import { helpText, isCommand, type Parsed, parseCommandLine } from "./args.ts";
import type { CliContext } from "./context.ts";
import { type CliIo, createContext } from "./context.ts";

export type { CliIo } from "./context.ts";

type Handler = (ctx: CliContext) => Promise<number>;

/**
 * Each command's module is loaded when that command runs: `--help` and `--version` then load neither the MCP
 * server, the simulator, the key page (each of which pulls node:http, and with it Node's own undici) nor the
 * prompt library.
 */
const HANDLERS = {
  setup: async () => (await import("./commands/setup.ts")).setupCommand,
  status: async () => (await import("./commands/status.ts")).statusCommand,
  key: async () => (await import("./commands/key.ts")).keyCommand,
  doctor: async () => (await import("./commands/doctor.ts")).doctorCommand,
  simulate: async () => (await import("./commands/simulate.ts")).simulateCommand,
  mcp: async () => (await import("./commands/mcp.ts")).mcpCommand,
  help: async () => (await import("./commands/help.ts")).helpCommand,
  completion: async () => (await import("./commands/completion.ts")).completionCommand,
  version: async () => (await import("./commands/version.ts")).versionCommand,
} satisfies Record<string, () => Promise<Handler>>;

/** The `tokenhub-setup` command line. Returns the exit code; errors are one line with a remedy, never a stack. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // The key in the environment is kept out of every line from the start, not only once Step-1 has loaded it: an
  // unexpected error before then may quote it (helper-26 showed one, by fault injection).
  // By parseKey's rule: a value too short to be a key ("success", "TokenHub") is never redacted (helper-27).
  const envKey = io.env[ENV_VAR];
  if (envKey) registerKey(envKey);
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    const command = argv[0] && isCommand(argv[0]) ? ` ${argv[0]}` : "";
    io.stderr.write(
      `tokenhub-setup${command}: ${(err as Error).message}. See \`tokenhub-setup${command} --help\`.\n`,
    );
    return EXIT.usage;
  }
  if (parsed.values.help === true) {
    io.stdout.write(helpText(parsed.command));
    return EXIT.complete;
  }
  const ctx = createContext(parsed, io);
  try {
    // --version on any command is the version command (as JSON when that command takes --json).
    const command = parsed.values.version === true ? "version" : parsed.command;
    const handler = await HANDLERS[command as keyof typeof HANDLERS]();
    return await handler(ctx);
  } catch (err) {
    const line =
      err instanceof TokenHubSetupError
        ? err.toLine()
        : // Not ours, so not scrubbed at construction: it may quote anything, a loaded key included.
          `unexpected error: ${scrub(String((err as Error)?.message ?? err))}`;
    ctx.say(`tokenhub-setup: ${line}${ctx.values.verbose === true ? "" : " (--verbose for details)"}`);
    ctx.logger.debug({ err }, "unexpected error");
    return EXIT.failure;
  }
}
