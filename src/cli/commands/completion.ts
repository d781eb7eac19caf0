import { EXIT } from "../../session/basics.ts";
import { listScenarios } from "../../simulator/index.ts";
import { SHELLS } from "../args.ts";
import { completionScript, type Shell } from "../completion.ts";
import type { CliContext } from "../context.ts";
import { closest } from "../suggest.ts";

/** `completion bash|zsh|fish`: the script on stdout, generated from the option table and the scenario list. */
export async function completionCommand(ctx: CliContext): Promise<number> {
  const [shell, ...extra] = ctx.positionals;
  if (!shell || !(SHELLS as readonly string[]).includes(shell) || extra.length > 0) {
    const near = shell && extra.length === 0 ? closest(shell, SHELLS) : undefined;
    const why = near ? `unknown shell '${shell}' (did you mean \`${near}\`?)` : "say bash, zsh or fish";
    ctx.say(`tokenhub-setup completion: ${why}. See \`tokenhub-setup completion --help\`.`);
    return EXIT.usage;
  }
  ctx.io.stdout.write(
    completionScript(
      shell as Shell,
      listScenarios().map((s) => s.name),
    ),
  );
  return EXIT.complete;
}
