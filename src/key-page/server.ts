/**
 * The page's HTTP answers: the guards first (guards.ts), then the token, then what the link's state calls for.
 * Order matters: `Host` before anything (a rebinding page reads our answers), the token before any word about
 * the link (an unknown path gets the same 404 as every other), `Origin` and the body's type before the body is
 * read or the link's state is told.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type KeyEntry, type KeyEntryAnswer, type Logger, scrub } from "../session/index.ts";
import {
  checkFormType,
  checkHost,
  checkMethod,
  checkOrigin,
  METHODS,
  type Refusal,
  RequestAbandoned,
  readForm,
} from "./guards.ts";
import { SECURITY_HEADERS } from "./headers.ts";
import { type Page, renderPage } from "./html.ts";
import type { Link } from "./link.ts";
import {
  acceptedPage,
  brokenPage,
  busyPage,
  closedPage,
  exhaustedPage,
  expiredPage,
  formPage,
  notFoundPage,
  spentPage,
} from "./pages.ts";
import { tokenMatches } from "./token.ts";

/**
 * Largest form body, in bytes. A key is at most 4096 characters, all printable ASCII: percent-encoded that is
 * at most 12288 bytes, plus the field names. Anything larger is not a key.
 */
export const MAX_BODY_BYTES = 16 * 1024;

export interface HandlerContext {
  token: string;
  /** `127.0.0.1:<port>`: the only Host header answered. */
  host: string;
  /** `http://127.0.0.1:<port>`: the only Origin a POST may carry. */
  origin: string;
  link: Link;
  entry: KeyEntry;
  consoleUrl: string;
  keyFile?: string;
  logger: Logger;
  now: () => number;
  /** Aborted when the page closes: a check in flight stops. */
  signal: AbortSignal;
}

export function createHandler(context: HandlerContext) {
  return (req: IncomingMessage, res: ServerResponse) => {
    handle(context, req, res).catch((err: unknown) => {
      if (err instanceof RequestAbandoned) {
        context.logger.info({ reason: "abandoned" }, "request abandoned before its body ended");
        return;
      }
      // A bug of ours, not the person's doing: say so without detail, log it scrubbed.
      context.logger.error({ err }, "key page failed to answer");
      if (!res.headersSent) send(res, { page: brokenPage(), close: true });
      else res.destroy();
    });
  };
}

async function handle(context: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { link, logger } = context;
  const refused = (refusal: Refusal, close: boolean) => {
    logger.warn(
      { reason: refusal.reason, status: refusal.page.status, method: req.method },
      "request refused",
    );
    send(res, { page: refusal.page, close, ...(refusal.reason === "method" ? { allow: true } : {}) });
  };
  const hostRefusal = checkHost(req, context.host);
  if (hostRefusal) return refused(hostRefusal, true);
  if (!tokenMatches(pathOf(req.url), `/${context.token}`)) {
    logger.info({ reason: "unknown-path", status: 404, method: req.method }, "request refused");
    return send(res, { page: notFoundPage(), close: req.method === "POST" });
  }
  const methodRefusal = checkMethod(req);
  if (methodRefusal) return refused(methodRefusal, true);
  if (req.method === "GET") return send(res, { page: await pageFor(context) });

  const postRefusal = checkOrigin(req, context.origin) ?? checkFormType(req);
  if (postRefusal) return refused(postRefusal, true);
  if (link.state() !== "open") {
    logger.info({ reason: link.state(), status: 410 }, "submission refused: the link is no longer open");
    return send(res, { page: await pageFor(context), close: true });
  }
  if (!link.beginCheck()) {
    logger.info({ reason: "busy", status: 409 }, "submission refused: a key is being checked");
    return send(res, { page: busyPage(), close: true });
  }
  try {
    const form = await readForm(req, MAX_BODY_BYTES);
    if (!(form instanceof URLSearchParams)) return refused(form, true);
    send(res, { page: await submit(context, form) });
  } finally {
    link.endCheck();
  }
}

/** What a GET shows, and what a POST to a link that is no longer open shows. */
async function pageFor(context: HandlerContext): Promise<Page> {
  const state = context.link.state();
  if (state === "spent") return spentPage();
  if (state === "expired") return expiredPage();
  if (state === "exhausted") return exhaustedPage(context.link.failures);
  if (state === "closed") return closedPage();
  return await form(context);
}

async function form(context: HandlerContext, problem?: { message: string; remedy: string }, status = 200) {
  const minutesLeft = Math.max(1, Math.ceil((context.link.expiresAt - context.now()) / 60_000));
  const noKeychain = await context.entry.keychainProblem();
  return formPage(
    {
      action: `/${context.token}`,
      consoleUrl: context.consoleUrl,
      minutesLeft,
      ...(problem ? { problem: { ...problem, attemptsLeft: context.link.attemptsLeft } } : {}),
      ...(noKeychain ? { noKeychain } : {}),
      ...(context.keyFile ? { keyFile: context.keyFile } : {}),
    },
    status,
  );
}

/** Hands the key to the entry, and turns its answer into the next page. The key goes nowhere else. */
async function submit(context: HandlerContext, fields: URLSearchParams): Promise<Page> {
  const { entry, link, logger } = context;
  // The file is an opt-in offered only where no keychain works; a box ticked anywhere else is not one.
  const noKeychain = await entry.keychainProblem();
  const insecureFile = fields.get("insecureFile") === "yes" && noKeychain !== undefined;
  let answer: KeyEntryAnswer;
  try {
    answer = await entry.submit(fields.get("key") ?? "", { insecureFile, signal: context.signal });
  } catch (err) {
    link.fail();
    logger.error({ err, attemptsLeft: link.attemptsLeft }, "key not kept: the entry failed");
    const problem = {
      message: "The setup could not check this key; it was not kept.",
      remedy: "Try again; if it keeps failing, the setup's log says why.",
    };
    return afterFailure(context, problem, 500);
  }
  if (answer.ok) {
    link.accept(answer.kept, answer.hint);
    logger.info({ kept: answer.kept }, "key accepted");
    return acceptedPage({
      kept: answer.kept,
      hint: answer.hint,
      ...(context.keyFile ? { keyFile: context.keyFile } : {}),
      ...(answer.keychainProblem ? { keychainProblem: answer.keychainProblem } : {}),
    });
  }
  if (answer.code === "aborted") return closedPage();
  link.fail();
  logger.info({ code: answer.code, attemptsLeft: link.attemptsLeft }, "key not kept");
  // The entry's words are key-free already; scrubbed again because this page is an output like any other.
  const problem = { message: scrub(answer.message), remedy: scrub(answer.remedy) };
  return afterFailure(context, problem, FAILURE_STATUS[answer.code]);
}

/** The status of the form shown again: the key could not be one or TokenHub refused it (422), no verdict (503). */
const FAILURE_STATUS: Record<Extract<KeyEntryAnswer, { ok: false }>["code"], number> = {
  key_format: 422,
  key_rejected: 422,
  not_checked: 503,
  not_stored: 500,
  aborted: 503,
};

/** The form again with the problem tied to the field, or, after the last allowed try, the link used up. */
async function afterFailure(
  context: HandlerContext,
  problem: { message: string; remedy: string },
  status: number,
): Promise<Page> {
  if (context.link.state() === "exhausted") return exhaustedPage(context.link.failures, problem);
  return await form(context, problem, status);
}

/** The path of a request line, without its query: "" for a form that is not a path ("*", an absolute URL). */
function pathOf(url: string | undefined): string {
  if (!url?.startsWith("/")) return "";
  return url.split(/[?#]/, 1)[0] ?? "";
}

function send(res: ServerResponse, answer: { page: Page; close?: boolean; allow?: boolean }): void {
  const body = renderPage(answer.page);
  res.writeHead(answer.page.status, {
    ...SECURITY_HEADERS,
    "Content-Length": Buffer.byteLength(body),
    // A refused POST's body is left unread: closing is the only way not to read it.
    ...(answer.close ? { Connection: "close" } : {}),
    ...(answer.allow ? { Allow: METHODS.join(", ") } : {}),
  });
  res.end(body);
}
