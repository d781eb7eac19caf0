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
import { type KeyPageLink, TOOL_CALL } from "./text.ts";

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
      /** When the call's answer is due (a client's request timeout is usually 60 s from its start). */
      deadline: number;
      /** A progress line while the call waits for the page. */
      tick(message: string): void;
      /** The resume turn to run once the page took a key (inside the waiting call). */
      resume(): Promise<TurnResult | undefined>;
    },
  ): Promise<KeyStep>;
  /** A key the conversation's page accepted and could keep only in this process (no keychain, no file). */
  heldKey(conversationId: string): string | undefined;
  closePage(conversationId: string): Promise<void>;
  /** Closes every open page: no call can be answered any more (the client went away). */
  closePages(): Promise<void>;
  /** Forgets a conversation: its page closed, its held key dropped (an HTTP session that ended). */
  forget(conversationId: string): Promise<void>;
  close(): Promise<void>;
}

interface OpenPage {
  page: KeyPage;
  /** A call is running with this page: if the page takes a key meanwhile, that call resumes the flow. */
  waiting: boolean;
  /** Who to tell when the page took the key: one notifier per elicitation that offered it. */
  completions: Array<() => Promise<void>>;
  /** How the page ended, once it did. */
  outcome?: KeyPageOutcome;
  /** Aborted when the page settles: an elicitation still open for it has nothing left to ask. */
  settledSignal: AbortSignal;
}

const TICK_MS = 5_000;

/** A page that ended without a key, said so: its link must not be offered as if it still worked. */
const PAGE_ENDED: Record<Exclude<KeyPageOutcome["status"], "accepted">, string> = {
  expired: `The key page expired before a key was entered; nothing was stored. Call ${TOOL_CALL} with {"action":"resume"} for a new link.`,
  exhausted: `The key page was closed after several keys it could not keep (TokenHub rejected them, or could not check them); nothing was stored. Tell the user to check the key in the TokenHub console, then call ${TOOL_CALL} with {"action":"resume"} for a new link.`,
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
}): KeySteps {
  const { logger } = options;
  const pageMs = options.pageMs ?? 10 * 60_000;
  // One entry per conversation: a key one conversation's page holds in memory is that conversation's alone.
  const entries = new Map<string, KeyEntry>();
  const entryOf = (conversationId: string) => {
    let entry = entries.get(conversationId);
    if (!entry) {
      entry = openKeyEntry({ keys: options.keys, config: options.config, env: options.env });
      entries.set(conversationId, entry);
    }
    return entry;
  };
  const pages = new Map<string, OpenPage>();

  async function pageFor(conversation: Conversation): Promise<OpenPage> {
    const current = pages.get(conversation.id);
    if (current && !current.outcome && current.page.expiresAt > Date.now() + 30_000) return current;
    await current?.page.close();
    const page = await openKeyPage({
      entry: entryOf(conversation.id),
      consoleUrl: options.config.consoleUrl,
      keyFile: options.keys.keyFile,
      expiresInMs: pageMs,
      logger,
    });
    const settledAbort = new AbortController();
    const open: OpenPage = { page, waiting: false, completions: [], settledSignal: settledAbort.signal };
    pages.set(conversation.id, open);
    void page.outcome.then((outcome) => {
      open.outcome = outcome;
      settledAbort.abort();
      if (pages.get(conversation.id) === open) pages.delete(conversation.id);
      // A settled page answers "already used" or "expired" for a while (a reload shows why), then closes.
      setTimeout(() => void open.page.close(), SETTLED_PAGE_MS).unref();
      if (outcome.status !== "accepted") return;
      for (const complete of open.completions)
        void complete().catch((err: unknown) => logger.debug({ err }, "elicitation complete not sent"));
      if (!open.waiting) resumeInBackground(conversation);
    });
    return open;
  }

  /** Nobody is asking: the flow goes on by itself, and the next call hears how it ended. */
  function resumeInBackground(conversation: Conversation) {
    void conversation
      .serial(async () => {
        const result = await conversation.act("resume", {}, {});
        if (result) conversation.setUnreported(result);
      })
      .catch((err: unknown) => logger.warn({ err }, "the setup could not resume after the key page"));
  }

  return {
    async offer(conversation, call) {
      let open: OpenPage;
      try {
        open = await pageFor(conversation);
      } catch (err) {
        logger.warn({ err }, "the key page could not open");
        return { note: "(The key page could not be opened on this machine.)" };
      }
      const link = { url: open.page.url, expiresAt: open.page.expiresAt };
      if (!call.client.getClientCapabilities()?.elicitation?.url) return { link };
      // From here to the end of this call, a key the page takes is this call's to resume with.
      open.waiting = true;
      let resumed = false;
      try {
        const answer = await elicit(open, call);
        if (call.signal.aborted) return await cancelled(conversation.id);
        if ((answer === "decline" || answer === "cancel") && !open.outcome) {
          await closePage(conversation.id);
          return {
            note: `The user ${answer === "decline" ? "declined" : "dismissed"} the key page; nothing was stored. If they want to enter the key later, call ${TOOL_CALL} with {"action":"start"} for a new link.`,
          };
        }
        const outcome = open.outcome ?? (answer === "accept" ? await waitForPage(open, call) : undefined);
        if (call.signal.aborted) return await cancelled(conversation.id);
        if (outcome === undefined) return { link, elicited: answer === "accept" };
        if (outcome.status !== "accepted") return { note: PAGE_ENDED[outcome.status] };
        resumed = true;
        const result = await call.resume();
        return result ? { resumed: result, elicited: true } : { link, elicited: true };
      } finally {
        open.waiting = false;
        // Taken while this call was on its way out without resuming: the flow goes on by itself.
        if (!resumed && open.outcome?.status === "accepted") resumeInBackground(conversation);
      }
    },
    heldKey: (conversationId) => entries.get(conversationId)?.held(),
    closePage,
    closePages,
    async forget(conversationId) {
      await closePage(conversationId);
      await entries.get(conversationId)?.close();
      entries.delete(conversationId);
    },
    async close() {
      await closePages();
      await Promise.all([...entries.values()].map((entry) => entry.close()));
      entries.clear();
    },
  };

  /**
   * Asks the client to open the page: "accept" (the user agreed to open it), "decline", "cancel", or "none"
   * when it could not ask in time. Ends early when the page settles (nothing left to ask) or the call is cancelled.
   */
  async function elicit(
    open: OpenPage,
    call: Parameters<KeySteps["offer"]>[1],
  ): Promise<"accept" | "decline" | "cancel" | "none"> {
    const elicitationId = randomUUID();
    try {
      const answer = await call.client.elicitInput(
        {
          mode: "url",
          message:
            "Enter your TokenHub API key on this page on your own machine (127.0.0.1). It is checked with TokenHub and kept on this machine (your OS keychain where one works); it never goes through the chat.",
          elicitationId,
          url: open.page.url,
        },
        {
          relatedRequestId: call.relatedRequestId,
          signal: AbortSignal.any([call.signal, open.settledSignal]),
          timeout: Math.max(1, call.deadline - Date.now()),
        },
      );
      if (answer.action === "accept") {
        const complete = call.client.createElicitationCompletionNotifier(elicitationId);
        // The user may have been quicker than their client's answer.
        if (open.outcome?.status === "accepted") void complete().catch(() => undefined);
        else open.completions.push(complete);
      }
      return answer.action;
    } catch (err) {
      // The page settled or the call was cancelled (both looked at by the caller), or the client did not answer
      // in time: the link in the result still works.
      if (!open.outcome && !call.signal.aborted) logger.warn({ err }, "URL elicitation failed");
      return "none";
    }
  }

  /** The client cancelled the call: the page it was offered goes too (nothing goes on in the background). */
  async function cancelled(conversationId: string): Promise<KeyStep> {
    await closePage(conversationId);
    return { note: "The call was cancelled; the key page was closed and nothing was stored." };
  }

  async function closePages() {
    await Promise.all([...pages.keys()].map(closePage));
  }

  async function closePage(conversationId: string) {
    const open = pages.get(conversationId);
    pages.delete(conversationId);
    await open?.page.close();
  }

  /** The page's outcome, or undefined when the call stops waiting first (its time is up, or it was cancelled). */
  async function waitForPage(
    open: OpenPage,
    call: { signal: AbortSignal; deadline: number; tick(message: string): void },
  ): Promise<KeyPageOutcome | undefined> {
    const until = Math.min(call.deadline, open.page.expiresAt);
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
    }
  }
}
