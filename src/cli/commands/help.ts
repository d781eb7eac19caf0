import { EXIT } from "../../session/basics.ts";
import { COMMAND_NAMES, helpText, unknownWord } from "../args.ts";
import type { CliContext } from "../context.ts";

/** `help [command]`: the same text as `<command> --help` (the default command's without one). */
export async function helpCommand(ctx: CliContext): Promise<number> {
  const [command = "setup", ...extra] = ctx.positionals;
  if (!COMMAND_NAMES.includes(command) || extra.length > 0) {
    const why = extra.length > 0 ? "name one command" : unknownWord("command", command, COMMAND_NAMES);
    ctx.say(`tokenhub-setup help: ${why}. See \`tokenhub-setup --help\`.`);
    return EXIT.usage;
  }
  ctx.io.stdout.write(helpText(command));
  return EXIT.complete;
}
