// TokenHub's agent quickstart, read from the page itself (../shared/quickstart.md beside the project, or where
// TOKENHUB_QUICKSTART_PAGE says) at test time, never copied: for every test that checks a contract against it.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PAGE =
  process.env.TOKENHUB_QUICKSTART_PAGE ??
  fileURLToPath(new URL("../../../shared/quickstart.md", import.meta.url));
/** The page's text, or undefined in a clone without it (the tests that need it skip, saying why). */
export const pageText = existsSync(PAGE) ? readFileSync(PAGE, "utf8") : undefined;
export const NO_PAGE = `the quickstart page is not at ${PAGE} (the team's shared folder beside the project; TOKENHUB_QUICKSTART_PAGE points elsewhere)`;

/** The page's one fenced `text` block: the quickstart as published. */
export function quickstartLines(): string[] {
  const block = /```text\n([\s\S]*?)\n```/.exec(pageText ?? "")?.[1];
  assert.ok(block, "the page holds the quickstart in one ```text block");
  return block.split("\n");
}

/** Section N's lines, from its heading ("N. Title") to the next heading. */
export function section(n: number): string[] {
  const lines = quickstartLines();
  const start = lines.findIndex((l) => l.startsWith(`${n}. `));
  assert.ok(start >= 0, `section ${n} is on the page`);
  const end = lines.findIndex((l, i) => i > start && /^\d+\. \S/.test(l));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** Section 7, the Completion Output Template: the record's first fields and their values ("ISO-8601": a time). */
export function completionTemplate(): Record<string, string> {
  return JSON.parse(section(7).slice(1).join("\n")) as Record<string, string>;
}
