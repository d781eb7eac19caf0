/**
 * The checks every request passes before the page does anything for it. The token keeps out whoever lacks the
 * link; these keep out a page in the person's own browser that has it or guesses the port:
 * - `Host` must be exactly 127.0.0.1:<port>. A DNS-rebinding page (evil.example resolving to 127.0.0.1) sends its
 *   own name, and it can read our answers, so the refusal says nothing of the link.
 * - `Origin` on a POST must be the page's own. A cross-site form sends its origin (or `null`), so a page elsewhere
 *   cannot submit a key of its choosing; a POST without Origin did not come from the form in a browser.
 * - only a form body (no JSON a script could send as a simple request), and only as much as a key needs.
 */
import type { IncomingMessage } from "node:http";
import type { Page } from "./html.ts";
import { contentTypePage, crossSitePage, methodPage, tooLargePage, wrongHostPage } from "./pages.ts";

/** A refusal: the page to answer with, and the reason the log line gives (a word, never a request's value). */
export interface Refusal {
  page: Page;
  reason: "host" | "origin" | "method" | "content-type" | "too-large";
}

/** The request's sender went away before its body ended. Settles nothing: a promise settles once. */
export class RequestAbandoned extends Error {
  constructor(options?: ErrorOptions) {
    super("the request was closed before its body ended", options);
    this.name = "RequestAbandoned";
  }
}

/** The methods the page answers: its form (GET) and the form back (POST). */
export const METHODS = ["GET", "POST"] as const;

const FORM_TYPE = "application/x-www-form-urlencoded";

export function checkHost(req: IncomingMessage, host: string): Refusal | undefined {
  return req.headers.host === host ? undefined : { page: wrongHostPage(), reason: "host" };
}

export function checkMethod(req: IncomingMessage): Refusal | undefined {
  return (METHODS as readonly string[]).includes(req.method ?? "")
    ? undefined
    : { page: methodPage(), reason: "method" };
}

export function checkOrigin(req: IncomingMessage, origin: string): Refusal | undefined {
  return req.headers.origin === origin ? undefined : { page: crossSitePage(), reason: "origin" };
}

export function checkFormType(req: IncomingMessage): Refusal | undefined {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  return type === FORM_TYPE ? undefined : { page: contentTypePage(), reason: "content-type" };
}

/**
 * The form's fields, or a refusal once more than `maxBytes` arrived (by Content-Length before reading, or
 * counted while reading a chunked body). The rest of a refused body is left unread, and the answer closes the
 * connection: nothing more is buffered, and a slow sender is cut off by the server's request timeout.
 */
export function readForm(req: IncomingMessage, maxBytes: number): Promise<URLSearchParams | Refusal> {
  const tooLarge: Refusal = { page: tooLargePage(), reason: "too-large" };
  const declared = Number(req.headers["content-length"] ?? 0);
  if (!Number.isSafeInteger(declared) || declared > maxBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      // Stop reading, not destroy: the socket must still carry the 413 back.
      req.off("data", onData);
      req.pause();
      resolve(tooLarge);
    };
    req.on("data", onData);
    req.once("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
    // A sender that goes away mid-body (Node says so with an "aborted" error, then "close") must not leave the
    // link "checking": every later POST would get a 409.
    req.once("error", (cause) => reject(new RequestAbandoned({ cause })));
    req.once("close", () => reject(new RequestAbandoned()));
  });
}
