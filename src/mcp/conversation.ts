/**
 * One MCP client's setup: its stored snapshot (so a restarted server resumes it), its turns one at a time, and
 * a result that finished while nobody was asking (the key page resumed the flow) kept for the next call.
 */
import {
  type ConversationStore,
  type HostEvent,
  restOfSnapshot,
  setupEvent,
  type Turn,
  type TurnResult,
  type TurnRunner,
} from "../session/index.ts";
import type { Action, ToolInput } from "./tool.ts";

/** Long waits end the call; the model is told when to resume instead of holding the call for minutes. */
export const MAX_WAIT_IN_CALL_MS = 15_000;

export interface Conversation {
  readonly id: string;
  /** Runs `work` after every earlier turn of this conversation finished (turns never interleave). */
  serial<T>(work: () => Promise<T>): Promise<T>;
  /** One turn of `action` (start, resume or cancel), stored before it returns; undefined: nothing to cancel. */
  act(
    action: Exclude<Action, "status">,
    input: Pick<ToolInput, "model" | "stream" | "multimodal">,
    live: Pick<Turn, "signal" | "onNotification">,
  ): Promise<TurnResult | undefined>;
  /** Where the stored flow rests (null: none stored, or not ours). */
  rest(): Promise<ReturnType<typeof restOfSnapshot>>;
  /** A result that arrived between calls (the flow resumed by itself), handed out once. */
  takeUnreported(): TurnResult | undefined;
  setUnreported(result: TurnResult): void;
}

export function openConversation(
  id: string,
  deps: { runner: TurnRunner; store: ConversationStore; sources: () => Turn["sources"] },
): Conversation {
  let tail: Promise<unknown> = Promise.resolve();
  let unreported: TurnResult | undefined;

  async function turn(
    event: HostEvent | undefined,
    stored: { snapshot: string; resume: boolean } | undefined,
    live: Pick<Turn, "signal" | "onNotification">,
  ): Promise<TurnResult> {
    const result = await deps.runner.run({
      ...(event ? { event } : {}),
      ...(stored ? stored : {}),
      ...live,
      sources: deps.sources(),
      maxWaitMs: MAX_WAIT_IN_CALL_MS,
    });
    await deps.store.save(id, result.snapshot);
    // A newer turn supersedes what the key page's resume found while nobody asked.
    unreported = undefined;
    return result;
  }

  return {
    id,
    serial(work) {
      const run = tail.then(work, work);
      tail = run.catch(() => undefined);
      return run;
    },
    async act(action, input, live) {
      const stored = await deps.store.load(id);
      const rest = restOfSnapshot(stored);
      if (action === "cancel") {
        if (!stored || !rest || rest.final) return undefined;
        return turn(
          { type: "CANCEL", reason: "cancelled by the user" },
          { snapshot: stored, resume: false },
          live,
        );
      }
      // resume continues a stored flow, or reports one that ended meanwhile (the key page resumed it, perhaps in
      // another process of this server); start (or resume with nothing stored) begins afresh.
      if (action === "resume" && stored !== undefined && rest !== null)
        return turn(rest.final ? undefined : setupEvent(input), { snapshot: stored, resume: true }, live);
      return turn(setupEvent(input), undefined, live);
    },
    rest: async () => restOfSnapshot(await deps.store.load(id)),
    takeUnreported() {
      const result = unreported;
      unreported = undefined;
      return result;
    },
    setUnreported(result) {
      unreported = result;
    },
  };
}
