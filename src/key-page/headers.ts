/**
 * Headers on every answer, refusals included. The page holds a key for a moment and its URL holds the token, so:
 * nothing is cached (a back button or a shared cache must not bring the page or an answer back), nothing runs
 * (no script is allowed at all; the one style is allowed by its hash), the form posts only to this origin, no
 * other site may frame it (clickjacking) or read it, and no Referer carries the token to another site.
 */
import { STYLE_SOURCE } from "./html.ts";

const CSP = [
  "default-src 'none'",
  `style-src ${STYLE_SOURCE}`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Content-Security-Policy": CSP,
  /**
   * Not `no-referrer`: under that policy a browser sends `Origin: null` with the form's own POST (the Fetch
   * standard's "append a request Origin header"), and the Origin check could not tell the form from a sandboxed
   * attacker. `same-origin` sends no Referer to any other site (the console link), so the token still never leaves.
   */
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};
