/**
 * The document every answer of the key page is: one small HTML page, no script at all (a plain form works with a
 * keyboard and a screen reader), one inline style that the Content-Security-Policy allows by its hash.
 */
import { createHash } from "node:crypto";

/** One answer: its HTTP status and what the person reads. `body` is HTML built with `html` below. */
export interface Page {
  status: number;
  title: string;
  body: Html;
}

/** HTML that is safe to put in a page: every value in it went through `escapeHtml`. */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** A template tag: literal parts are ours, every `${value}` is escaped (Html values are already safe). */
export function html(parts: TemplateStringsArray, ...values: ReadonlyArray<Html | string | number>): Html {
  let out = parts[0] ?? "";
  values.forEach((value, i) => {
    out += (value instanceof Html ? value.text : escapeHtml(String(value))) + (parts[i + 1] ?? "");
  });
  return new Html(out);
}

/** Joins pieces of HTML (a list of paragraphs, an optional block). */
export function join(pieces: ReadonlyArray<Html | undefined | false>): Html {
  return new Html(
    pieces
      .filter((p): p is Html => p instanceof Html)
      .map((p) => p.text)
      .join("\n"),
  );
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * Readable on a phone: the column never exceeds the screen, long words (a URL, a file path) wrap anywhere, the
 * field is as wide as the column. Focus is always visible; colours follow the system's light or dark scheme.
 */
const STYLE = [
  ":root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.5}",
  "body{margin:0;padding:1rem}",
  "main{max-width:36rem;margin:0 auto}",
  "h1{font-size:1.5rem;line-height:1.25}",
  "p,li,a,code{overflow-wrap:anywhere}",
  "label{display:block;font-weight:600;margin-top:1rem}",
  "input[type=password]{box-sizing:border-box;width:100%;font:inherit;padding:.6rem;margin:.25rem 0}",
  "fieldset{margin:1rem 0;padding:.5rem .75rem}",
  ".choice{display:flex;gap:.5rem;align-items:flex-start}",
  ".choice input{margin-top:.35rem}",
  ".choice label{display:inline;font-weight:400;margin:0}",
  "button{font:inherit;padding:.6rem 1.2rem;margin-top:1rem}",
  ".problem{border-left:4px solid #c5221f;padding:.25rem .75rem}",
  ":focus-visible{outline:3px solid #1a73e8;outline-offset:2px}",
].join("");

/** The CSP source that allows STYLE and nothing else. */
export const STYLE_SOURCE = `'sha256-${createHash("sha256").update(STYLE, "utf8").digest("base64")}'`;

/** The whole document: language set, viewport for phones, the one heading level the body starts from. */
export function renderPage(page: Page): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(page.title)} - TokenHub setup</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${page.body.text}
</main>
</body>
</html>
`;
}
