import { TokenHubSetupError } from "../../errors.ts";
import { maskKey, parseKey } from "../../secrets/key.ts";
import { keyFilePath, removeKeyFile, writeKeyFile } from "../../secrets/key-file.ts";
import { createKeychain, type Keychain } from "../../secrets/keychain.ts";
import { ENV_VAR, resolveKey } from "../../secrets/sources.ts";
import { EXIT } from "../../session/index.ts";
import { resolveConfig } from "../../session/session.ts";
import { KEY_ACTIONS } from "../args.ts";
import type { CliContext } from "../context.ts";
import { keyOrigin } from "../render.ts";
import { closest } from "../suggest.ts";

/**
 * `key set | clear | where`: the stored key, managed without the key ever being printed. The OS keychain is the
 * place; a plaintext file (0600) only with `--insecure-storage`, asked for by name and warned about.
 */
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
  const file = keyFilePath(ctx.io.env);
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
    const found = await resolveKey({ env: ctx.io.env, keychain, keyFile: file }, {});
    const where = found.key
      ? found.key.source === "env"
        ? `environment (${ENV_VAR})`
        : found.key.source === "file"
          ? `key file ${file} (plaintext, --insecure-storage)`
          : "OS keychain"
      : "none";
    const masked = ctx.values["show-masked"] === true && found.key ? maskKey(found.key.reveal()) : undefined;
    if (ctx.json) {
      answer({ source: found.key?.source ?? null, ...(masked ? { masked } : {}), notices: found.notices });
    } else {
      ctx.out(
        [
          `Key source: ${where}${masked ? ` (${masked})` : ""}`,
          ...found.notices.map((n) => `  note: ${n}`),
        ].join("\n"),
      );
    }
    return found.key ? EXIT.complete : EXIT.failure;
  }

  if (action === "clear") {
    const said: string[] = [];
    let removed = false;
    let unreachable: TokenHubSetupError | undefined;
    try {
      removed = await keychain.delete();
      said.push(
        removed
          ? "Removed the TokenHub key from the OS keychain."
          : "No TokenHub key was stored in the OS keychain.",
      );
    } catch (err) {
      if (!(err instanceof TokenHubSetupError)) return fail(err, { removed: false });
      // No keychain here: nothing it could hold, so `clear` goes on to the key file and says so.
      unreachable = err;
      said.push(err.message);
    }
    const fileRemoved = await removeKeyFile(file).catch(() => false);
    if (fileRemoved) said.push(`Removed the key file ${file}.`);
    answer({
      removed,
      fileRemoved,
      ...(unreachable ? { keychain: { code: unreachable.code, message: unreachable.message } } : {}),
    });
    if (!ctx.json) ctx.out(said.join("\n"));
    return EXIT.complete;
  }

  // set: how the key will come in, then where it can go, before asking for it.
  if (ctx.values.stdin !== true && !ctx.interactive) {
    ctx.say("tokenhub-setup key set: no terminal to ask on; pipe the key in with --stdin.");
    return EXIT.usage;
  }
  const insecure = ctx.values["insecure-storage"] === true;
  if (!insecure) {
    const problem = await keychainProblem(keychain);
    if (problem) {
      answer({
        stored: false,
        error: { code: problem.code, message: problem.message, remedy: problem.remedy },
      });
      ctx.say(
        [
          `tokenhub-setup key set: ${problem.message} Nothing was asked for or stored.`,
          `  Why and how to get one: ${problem.remedy}`,
          `  Meanwhile: put the key in ${ENV_VAR} yourself (\`export ${ENV_VAR}=...\` in your shell profile or CI secrets),`,
          `  or store it in a plaintext file readable only by you: \`npx tokenhub-setup key set --insecure-storage\`.`,
        ].join("\n"),
      );
      return EXIT.failure;
    }
  } else {
    ctx.say(
      `Warning: --insecure-storage keeps the key in plaintext in ${file} (mode 0600). Anyone who can read your files as you, and your backups, can read it. Prefer the OS keychain where one works.`,
    );
  }
  let raw: string;
  if (ctx.values.stdin === true) {
    raw = await readAll(ctx.io.stdin);
  } else {
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
  }
  try {
    const key = parseKey(raw, insecure ? "file" : "keychain", {
      subject: ctx.values.stdin === true ? "The key on standard input" : "The key you typed",
    });
    const where = insecure ? "file" : "keychain";
    if (insecure) await writeKeyFile(file, key.reveal());
    else await keychain.set(key.reveal());
    const stored =
      where === "file"
        ? `Stored in plaintext in ${file} (mode 0600); \`tokenhub-setup key clear\` removes it.`
        : `Stored in the OS keychain (service ${config.keychainService}, account ${config.keychainAccount}).`;
    // The variable is read first: a stored key is not used while it is set.
    const shadowed = ctx.io.env[ENV_VAR]?.trim()
      ? ` Note: ${ENV_VAR} is set in this shell and is read first; unset it for ${keyOrigin(where)} to be used.`
      : "";
    if (ctx.json)
      ctx.io.stdout.write(
        `${JSON.stringify({ stored: where, ...(where === "file" ? { path: file } : {}) })}\n`,
      );
    ctx.say(`${stored}${shadowed}`);
    return EXIT.complete;
  } catch (err) {
    return fail(err, { stored: false });
  }
}

/** Why the keychain cannot take a key here (with the remedy), or undefined when it answers. */
async function keychainProblem(
  keychain: Keychain,
): Promise<{ code: string; message: string; remedy: string } | undefined> {
  try {
    await keychain.get();
    return undefined;
  } catch (err) {
    if (err instanceof TokenHubSetupError)
      return { code: err.code, message: err.message, remedy: err.remedy };
    return {
      code: "keychain_error",
      message: "The OS keychain could not be reached.",
      remedy: "Run `tokenhub-setup doctor`.",
    };
  }
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}
