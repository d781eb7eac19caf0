/**
 * Step-2 without the chat: when the flow waits for a key, a key page on 127.0.0.1 takes it. A client that
 * supports URL elicitation is asked to open the page (the MCP specification's mode for credentials: form mode
 * must never carry a key) and the call waits for it; every client also gets the link in the result. When the
 * page accepts a key, the flow resumes by itself: inside the waiting call, or in the background, its result kept
 * for the next call, and the client hears `notifications/elicitation/complete`.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { type KeyPage, type KeyPageOutcome, openKeyPage } from "../key-page/index.ts";
import {
  type Config,
  type KeyEntry,
  type Keys,
  type Logger,
  openKeyEntry,
  type TurnResult,
} from "../session/index.ts";
import type { Conversation } from "./conversation.ts";
import type { KeyPageLink } from "./text.ts";

export interface KeyStep {
  /** The page to give the user (absent when the user declined it). */
  link?: KeyPageLink;
  /** The client was asked to open the page and the user agreed. */
  elicited?: boolean;
  /** A sentence for the model (the user declined, the page could not open). */
  note?: string;
  /** The page took a key while the call waited, and the flow went on: its result. */
  resumed?: TurnResult;
}

export interface KeySteps {
  offer(
    conversation: Conversation,
    call: {
      client: Server;
      relatedRequestId: string | number;
      signal: AbortSignal;
      /** A progress line while the call waits for the page. */
      tick(message: string): void;
      /** The resume turn to run once the page took a key (inside the waiting call). */
      resume(): Promise<TurnResult | undefined>;
    },
  ): Promise<KeyStep>;
  /** A key the page accepted and could keep only in this process (no keychain, no file opt-in). */
  heldKey(): string | undefined;
  closePage(conversationId: string): Promise<void>;
  /** Closes every open page: no call can be answered any more (the client went away). */
  closePages(): Promise<void>;
  close(): Promise<void>;
}

interface OpenPage {
  page: KeyPage;
  elicitationId: string;
  /** A call is waiting for this page: it resumes the flow itself. */
  waiting: boolean;
  /** Who to tell when the page took the key (the client that elicited it). */
  complete?: () => Promise<void>;
  settled: boolean;
  /** How the page ended, once it did. */
  outcome?: KeyPageOutcome;
}

const TICK_MS = 5_000;

/** A page that ended without a key, said so: its link must not be offered as if it still worked. */
const PAGE_ENDED: Record<Exclude<KeyPageOutcome["status"], "accepted">, string> = {
  expired:
    'The key page expired before a key was entered; nothing was stored. Call this tool (tokenhub_setup) with {"action":"resume"} for a new link.',
  exhausted:
    'The key page was closed after several keys it could not keep (TokenHub rejected them, or could not check them); nothing was stored. Tell the user to check the key in the TokenHub console, then call this tool (tokenhub_setup) with {"action":"resume"} for a new link.',
  closed: "The key page was closed; nothing was stored.",
};
const SETTLED_PAGE_MS = 60_000;

export function openKeySteps(options: {
  keys: Keys;
  config: Config;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** @default 10 minutes */
  pageMs?: number;
  /** @default 50 s: under the 60 s a client's request times out by default */
  waitMs?: number;
}): KeySteps {
  const { logger } = options;
  const pageMs = options.pageMs ?? 10 * 60_000;
  const waitMs = options.waitMs ?? 50_000;
  let entry: KeyEntry | undefined;
  const entryOf = () => {
    entry ??= openKeyEntry({ keys: options.keys, config: options.config, env: options.env });
    return entry;
  };
  const pages = new Map<string, OpenPage>();

  async function pageFor(conversation: Conversation): Promise<OpenPage> {
    const current = pages.get(conversation.id);
    if (current && !current.settled && current.page.expiresAt > Date.now() + 30_000) return current;
    await current?.page.close();
    const page = await openKeyPage({
      entry: entryOf(),
      consoleUrl: options.config.consoleUrl,
      keyFile: options.keys.keyFile,
      expiresInMs: pageMs,
      logger,
    });
    const open: OpenPage = { page, elicitationId: randomUUID(), waiting: false, settled: false };
    pages.set(conversation.id, open);
    void page.outcome.then((outcome) => settled(conversation, open, outcome));
    return open;
  }

  async function settled(conversation: Conversation, open: OpenPage, outcome: KeyPageOutcome) {
    open.settled = true;
    open.outcome = outcome;
    if (pages.get(conversation.id) === open) pages.delete(conversation.id);
    // A settled page answers "already used" or "expired" for a while (a reload shows why), then closes.
    setTimeout(() => void open.page.close(), SETTLED_PAGE_MS).unref();
    if (outcome.status !== "accepted") return;
    await open.complete?.().catch((err: unknown) => logger.debug({ err }, "elicitation complete not sent"));
    if (open.waiting) return;
    // Nobody is asking: the flow goes on by itself, and the next call hears how it ended.
    await conversation
      .serial(async () => {
        const result = await conversation.act("resume", {}, {});
        if (result) conversation.setUnreported(result);
      })
      .catch((err: unknown) => logger.warn({ err }, "the setup could not resume after the key page"));
  }

  return {
    async offer(conversation, call) {
      // One budget for the whole call (the elicitation, then the page): under a client's request timeout.
      const deadline = Date.now() + waitMs;
      let open: OpenPage;
      try {
        open = await pageFor(conversation);
      } catch (err) {
        logger.warn({ err }, "the key page could not open");
        return { note: "(The key page could not be opened on this machine.)" };
      }
      const link = { url: open.page.url, expiresAt: open.page.expiresAt };
      if (!call.client.getClientCapabilities()?.elicitation?.url) return { link };
      let action: string;
      try {
        const answer = await call.client.elicitInput(
          {
            mode: "url",
            message:
              "Enter your TokenHub API key on this page on your own machine (127.0.0.1). It is checked with TokenHub and kept on this machine (your OS keychain where one works); it never goes through the chat.",
            elicitationId: open.elicitationId,
            url: open.page.url,
          },
          {
            relatedRequestId: call.relatedRequestId,
            signal: call.signal,
            timeout: Math.max(1, deadline - Date.now()),
          },
        );
        action = answer.action;
      } catch (err) {
        if (call.signal.aborted) return cancelled(conversation.id);
        // The client could not ask in time (the user has not answered, a bug): the link in the result works.
        logger.warn({ err }, "URL elicitation failed");
        return { link };
      }
      if (action !== "accept") {
        await closePage(conversation.id);
        return {
          note: `The user ${action === "decline" ? "declined" : "dismissed"} the key page; nothing was stored. If they want to enter the key later, call this tool (tokenhub_setup) with {"action":"start"} for a new link.`,
        };
      }
      open.complete = call.client.createElicitationCompletionNotifier(open.elicitationId);
      // The user may have been quicker than their client's answer.
      if (open.outcome?.status === "accepted") void open.complete().catch(() => undefined);
      const outcome = open.outcome ?? (await waitForPage(open, call, deadline));
      if (call.signal.aborted) return cancelled(conversation.id);
      if (outcome === undefined) return { link, elicited: true };
      if (outcome.status === "accepted") {
        const resumed = await call.resume();
        return resumed ? { resumed, elicited: true } : { link, elicited: true };
      }
      return { note: PAGE_ENDED[outcome.status] };
    },
    heldKey: () => entry?.held(),
    closePage,
    closePages: async () => void (await Promise.all([...pages.keys()].map(closePage))),
    async close() {
      await Promise.all([...pages.keys()].map(closePage));
      await entry?.close();
    },
  };

  /** The client cancelled the call: the page it was offered goes too (nothing goes on in the background). */
  async function cancelled(conversationId: string): Promise<KeyStep> {
    await closePage(conversationId);
    return { note: "The call was cancelled; the key page was closed and nothing was stored." };
  }

  async function closePage(conversationId: string) {
    const open = pages.get(conversationId);
    pages.delete(conversationId);
    await open?.page.close();
  }

  /** The page's outcome, or undefined when the call stops waiting first (its time is up, or it was cancelled). */
  async function waitForPage(
    open: OpenPage,
    call: { signal: AbortSignal; tick(message: string): void },
    deadline: number,
  ): Promise<KeyPageOutcome | undefined> {
    open.waiting = true;
    const until = Math.min(deadline, open.page.expiresAt);
    let ticker: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        open.page.outcome,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), Math.max(0, until - Date.now()));
          onAbort = () => resolve(undefined);
          call.signal.addEventListener("abort", onAbort, { once: true });
          ticker = setInterval(
            () =>
              call.tick(
                `Waiting for the key on the key page (${Math.round((until - Date.now()) / 1000)} s left in this call).`,
              ),
            TICK_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      clearInterval(ticker);
      if (onAbort) call.signal.removeEventListener("abort", onAbort);
      // Settled while we waited: this call resumes. Not settled: the background takes over when it does.
      open.waiting = open.settled;
    }
  }
}
