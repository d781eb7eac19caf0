import { TokenHubSetupError } from "../../errors.ts";
import { maskKey, parseKey } from "../../secrets/key.ts";
import { createKeychain } from "../../secrets/keychain.ts";
import { resolveKey } from "../../secrets/sources.ts";
import { resolveConfig } from "../../session/session.ts";
import { KEY_ACTIONS } from "../args.ts";
import type { CliContext } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { closest } from "../suggest.ts";

/** `key set | clear | where`: the keychain entry, managed without the key ever being printed. */
export async function keyCommand(ctx: CliContext): Promise<number> {
  const [action, ...extra] = ctx.positionals;
  if (!action || !(KEY_ACTIONS as readonly string[]).includes(action) || extra.length > 0) {
    const near = action && extra.length === 0 ? closest(action, KEY_ACTIONS) : undefined;
    const why = near ? `unknown action '${action}' (did you mean \`${near}\`?)` : "say set, clear or where";
    ctx.say(`tokenhub-setup key: ${why}. See \`tokenhub-setup key --help\`.`);
    return EXIT.usage;
  }
  const config = resolveConfig({});
  const keychain = createKeychain(config.keychainService, config.keychainAccount);
  // With --json every answer is one JSON object on stdout, a failure too (with its code); the line stays on stderr.
  const answer = (value: object) => {
    if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(value)}\n`);
  };
  const fail = (err: unknown, what: object) => {
    const typed = err instanceof TokenHubSetupError ? err : undefined;
    const message = typed ? typed.message : (err as Error).message;
    answer({ ...what, error: { code: typed?.code ?? "unexpected", message, remedy: typed?.remedy ?? null } });
    ctx.say(`tokenhub-setup: ${typed ? typed.toLine() : message}`);
    return EXIT.failure;
  };

  if (action === "where") {
    const found = await resolveKey({ env: ctx.io.env, keychain }, {});
    const where =
      found.key?.source === "env" ? "environment (TOKENHUB_API_KEY)" : found.key ? "OS keychain" : "none";
    const masked = ctx.values["show-masked"] === true && found.key ? maskKey(found.key.reveal()) : undefined;
    if (ctx.json) {
      answer({ source: found.key?.source ?? null, ...(masked ? { masked } : {}), notices: found.notices });
    } else {
      ctx.say(`Key source: ${where}${masked ? ` (${masked})` : ""}`);
      for (const notice of found.notices) ctx.info(`  note: ${notice}`);
    }
    return found.key ? EXIT.complete : EXIT.failure;
  }

  if (action === "clear") {
    try {
      const removed = await keychain.delete();
      answer({ removed });
      ctx.say(
        removed
          ? "Removed the TokenHub key from the OS keychain."
          : "No TokenHub key was stored in the OS keychain.",
      );
      return EXIT.complete;
    } catch (err) {
      return fail(err, { removed: false });
    }
  }

  // set
  let raw: string;
  if (ctx.values.stdin === true) {
    raw = await readAll(ctx.io.stdin);
  } else if (ctx.interactive) {
    const clack = await import("@clack/prompts");
    const answer = await clack.password({
      output: ctx.io.stderr,
      ...(ctx.io.stdin ? { input: ctx.io.stdin } : {}),
      message: "TokenHub API key (hidden)",
    });
    if (clack.isCancel(answer)) {
      ctx.say("Cancelled. Nothing was stored.");
      return EXIT.cancelled;
    }
    raw = answer;
  } else {
    ctx.say("tokenhub-setup key set: no terminal to ask on; pipe the key in with --stdin.");
    return EXIT.usage;
  }
  try {
    const key = parseKey(raw, "keychain");
    await keychain.set(key.reveal());
    answer({ stored: true, service: config.keychainService, account: config.keychainAccount });
    ctx.say(
      `Stored in the OS keychain (service ${config.keychainService}, account ${config.keychainAccount}).`,
    );
    return EXIT.complete;
  } catch (err) {
    return fail(err, { stored: false });
  }
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}
