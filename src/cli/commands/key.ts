import { ENV_VAR, EXIT, openKeys, TokenHubSetupError } from "../../session/index.ts";
import { KEY_ACTIONS } from "../args.ts";
import type { CliContext } from "../context.ts";
import { keySourceWords } from "../key-words.ts";
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
  const keys = openKeys({ env: ctx.io.env });
  const file = keys.keyFile;
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
    const found = await keys.find();
    const where = found.used ? keySourceWords(found.used.source, file).where : "none";
    const masked = ctx.values["show-masked"] === true ? found.used?.hint : undefined;
    if (ctx.json) {
      answer({ source: found.used?.source ?? null, ...(masked ? { masked } : {}), notices: found.notices });
    } else {
      ctx.out(
        [
          `Key source: ${where}${masked ? ` (${masked})` : ""}`,
          ...found.notices.map((n) => `  note: ${n}`),
        ].join("\n"),
      );
    }
    return found.used ? EXIT.complete : EXIT.failure;
  }

  if (action === "clear") {
    let cleared: Awaited<ReturnType<typeof keys.clear>>;
    try {
      cleared = await keys.clear();
    } catch (err) {
      return fail(err, { removed: false });
    }
    const { removed, fileRemoved, keychainProblem } = cleared;
    // No keychain here: nothing it could hold, so `clear` went on to the key file and says so.
    const said = [
      keychainProblem
        ? keychainProblem.message
        : removed
          ? "Removed the TokenHub key from the OS keychain."
          : "No TokenHub key was stored in the OS keychain.",
      ...(fileRemoved ? [`Removed the key file ${file}.`] : []),
    ];
    answer({
      removed,
      fileRemoved,
      ...(keychainProblem
        ? { keychain: { code: keychainProblem.code, message: keychainProblem.message } }
        : {}),
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
    const problem = await keys.keychainProblem();
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
    const where = insecure ? "file" : "keychain";
    await keys.store(raw, {
      in: where,
      subject: ctx.values.stdin === true ? "The key on standard input" : "The key you typed",
    });
    const stored =
      where === "file"
        ? `Stored in plaintext in ${file} (mode 0600); \`tokenhub-setup key clear\` removes it.`
        : `Stored in the OS keychain (service ${keys.keychainEntry.service}, account ${keys.keychainEntry.account}).`;
    // The variable is read first: a stored key is not used while it is set.
    const shadowed = ctx.io.env[ENV_VAR]?.trim()
      ? ` Note: ${ENV_VAR} is set in this shell and is read first; unset it for ${keySourceWords(where).key} to be used.`
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

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}
