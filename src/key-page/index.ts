/**
 * The key page's face: Step-2 in the person's browser, so the key never goes through the chat. `openKeyPage`
 * serves a one-time form on 127.0.0.1; the MCP server sends its URL as a URL-mode elicitation and the CLI prints
 * it (`setup --key-page`). A submitted key goes to the session's `openKeyEntry` (checked with the quickstart's
 * probe, then kept) and nowhere else; the outcome says where it was kept, never the key.
 *
 * ```ts
 * const page = await openKeyPage({ entry: openKeyEntry({ keys, config, env }), consoleUrl: config.consoleUrl });
 * show(page.url); // the person opens it, types the key
 * const outcome = await page.outcome; // { status: "accepted", kept: "keychain", hint: "sk-…9f2c" }, or expired...
 * await page.close();
 * ```
 */
export { openKeyPage } from "./open.ts";
export type { KeyPage, KeyPageOptions, KeyPageOutcome } from "./types.ts";
