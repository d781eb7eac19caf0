/**
 * `setup --key-page`: Step-2 in a browser, for a person with no terminal to type into (a CI job's web log, an
 * agent's shell tool, a remote session). The link goes to stderr; the page checks the key with TokenHub and
 * keeps it; the flow then goes on as if the person had typed it.
 */
import { openKeyPage } from "../key-page/index.ts";
import { type Config, type HostEvent, type Keys, openKeyEntry } from "../session/index.ts";
import type { CliContext } from "./context.ts";

/** What the page ended with, for the flow: the event to send, or why there is none. */
export type PageAnswer =
  | { event: Extract<HostEvent, { type: "KEY_READY" | "KEY_PROVIDED" }> }
  | { ended: "expired" | "exhausted" | "closed" };

export async function keyFromPage(
  ctx: CliContext,
  options: { keys: Keys; config: Config; signal: AbortSignal },
): Promise<PageAnswer> {
  const { keys, config, signal } = options;
  const entry = openKeyEntry({ keys, config, env: ctx.io.env });
  const page = await openKeyPage({
    entry,
    consoleUrl: config.consoleUrl,
    keyFile: keys.keyFile,
    logger: ctx.logger,
  });
  const stop = () => void page.close();
  signal.addEventListener("abort", stop, { once: true });
  try {
    const minutes = Math.round((page.expiresAt - Date.now()) / 60_000);
    ctx.say(
      `Open this link in a browser on this machine to enter the key (it works for ${minutes} minutes, once):\n  ${page.url}`,
    );
    const outcome = await page.outcome;
    if (outcome.status !== "accepted") {
      if (outcome.status !== "closed")
        ctx.say(
          outcome.status === "expired"
            ? "The key page expired before a key was entered."
            : "The key page was closed after too many keys it could not accept.",
        );
      return { ended: outcome.status };
    }
    ctx.info(`The key page took the key (${outcome.hint}).`);
    // Kept in the keychain or the key file: the flow reads it there. Kept only here: handed over, not stored.
    const held = entry.held();
    return outcome.kept === "memory" && held
      ? { event: { type: "KEY_PROVIDED", key: held, remember: false } }
      : { event: { type: "KEY_READY" } };
  } finally {
    signal.removeEventListener("abort", stop);
    await page.close();
    await entry.close();
  }
}
