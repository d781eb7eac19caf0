import { EXIT } from "../../session/basics.ts";
import type { CliContext } from "../context.ts";

/** `version`, and `--version`/`-v` on every command: the package version (with --json, also the Node.js one). */
export async function versionCommand(ctx: CliContext): Promise<number> {
  const version = ctx.io.version ?? "unknown";
  ctx.io.stdout.write(
    ctx.json
      ? `${JSON.stringify({ name: "tokenhub-setup", version, node: process.versions.node })}\n`
      : `${version}\n`,
  );
  return EXIT.complete;
}
