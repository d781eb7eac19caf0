import { EXIT, scrub, TokenHubSetupError } from "../session/index.ts";
import { COMMANDS, helpText, type Parsed, parseCommandLine } from "./args.ts";
import { completionCommand } from "./commands/completion.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { helpCommand } from "./commands/help.ts";
import { keyCommand } from "./commands/key.ts";
import { mcpCommand } from "./commands/mcp.ts";
import { setupCommand } from "./commands/setup.ts";
import { simulateCommand } from "./commands/simulate.ts";
import { statusCommand } from "./commands/status.ts";
import { versionCommand } from "./commands/version.ts";
import { type CliIo, createContext } from "./context.ts";

export type { CliIo } from "./context.ts";

const HANDLERS = {
  setup: setupCommand,
  status: statusCommand,
  key: keyCommand,
  doctor: doctorCommand,
  simulate: simulateCommand,
  mcp: mcpCommand,
  help: helpCommand,
  completion: completionCommand,
  version: versionCommand,
} as const;

/** The `tokenhub-setup` command line. Returns the exit code; errors are one line with a remedy, never a stack. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    const command = argv[0] && COMMANDS[argv[0]] ? ` ${argv[0]}` : "";
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
    if (parsed.values.version === true) return await versionCommand(ctx);
    return await HANDLERS[parsed.command as keyof typeof HANDLERS](ctx);
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
