import { EventError, TokenHubSetupError } from "../errors.ts";
import type { Rest } from "../machine/face.ts";
import type { HostEvent, Notification, Output } from "../schema/host.ts";
import type { SnapshotEnvelope } from "../schema/snapshot.ts";
import { createSession, type Session, type SessionOptions } from "./session.ts";

export interface TurnInput extends Omit<SessionOptions, "snapshot"> {
  /** The host event for this turn; omit it to resume a stored wait (backoff or video poll). */
  event?: HostEvent;
  /** What the previous turn returned (envelope object or JSON text); omit on the first turn. */
  snapshot?: unknown;
  /**
   * Go on from the snapshot with what its rest needs: KEY_READY where it waits for a key (the user says it is
   * stored now), nothing where it waits for a time. Where there is nothing to go on from (no snapshot, a refused
   * one, a finished flow), `event` (SETUP, the only event that goes with `resume`) starts afresh; without one
   * the turn reports where the flow stands. Any other event is the host's own decision: send it without
   * `resume` (an `invalid_event` error says so, rather than one of the two being dropped).
   */
  resume?: boolean;
  /**
   * A wait longer than this ends the turn: a backoff (state `backingOff`, snapshot with the absolute retry time)
   * or the wait for the next video poll (`multimodal.videoWaiting`, with the task id). The host calls `runTurn`
   * again later with no event. Shorter waits are waited out inside the turn.
   * @default 30000
   */
  maxWaitMs?: number;
  /**
   * Aborting it cancels the flow (CANCEL), as a host does when its own call is cancelled. During the multimodal
   * checks that ends the checks: the verified text integration is still recorded.
   */
  signal?: AbortSignal;
  /**
   * Each notification as it happens (scrubbed), for a host that shows progress live (an MCP progress token);
   * the result lists them all either way.
   */
  onNotification?: (notification: Notification) => void;
}

export interface TurnResult {
  /** The state's name (for logs); decide on `rest`. */
  state: string;
  /** Where the flow stands: what resumes it, until when it waits, the exit code for a run that ends here. */
  rest: Rest;
  notifications: Notification[];
  snapshot: SnapshotEnvelope;
  output?: Output;
  /** A stored snapshot that was refused (foreign, other version, corrupt): the turn started afresh. */
  refusedSnapshot?: { code: string; message: string; remedy: string };
}

/**
 * For hosts that call the skill once per turn: restore, apply one event, run to the next rest state
 * (awaitingKey, a long wait, or a final state), and hand back the notifications and a snapshot to store.
 */
export async function runTurn(input: TurnInput): Promise<TurnResult> {
  const { event, snapshot, resume = false, maxWaitMs = 30_000, signal, onNotification, ...options } = input;
  if (resume && event && event.type !== "SETUP") {
    throw new EventError(
      "invalid_event",
      `runTurn got ${event.type} with resume: resume sends what the stored flow needs, and ${event.type} is an event of its own.`,
      { remedy: `Send ${event.type} without resume (or resume without an event).` },
    );
  }
  let refusedSnapshot: TurnResult["refusedSnapshot"];
  let session: Session;
  try {
    session = createSession({ ...options, ...(snapshot === undefined ? {} : { snapshot }) });
  } catch (err) {
    if (!(err instanceof TokenHubSetupError) || !err.code.startsWith("snapshot_")) throw err;
    refusedSnapshot = { code: err.code, message: err.message, remedy: err.remedy };
    session = createSession(options);
  }
  // What this turn sends: on resume, what the stored rest needs, or (nothing to go on from) a fresh start.
  let send = event;
  if (resume) {
    const resumeWith = session.rest?.resumeWith;
    if (resumeWith === "KEY_READY") send = { type: "KEY_READY" };
    else if (resumeWith === "time") send = undefined;
    else if (event && session.rest?.final) {
      await session.stop();
      session = createSession(options);
    }
  }
  const notifications: Notification[] = [];
  const unsubscribe = session.subscribe((n) => {
    notifications.push(n);
    onNotification?.(n);
  });
  const cancel = () => {
    if (!session.rest?.final) session.send({ type: "CANCEL", reason: "the host cancelled the call" });
  };
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    if (send && !signal?.aborted) session.send(send);
    const state =
      session.rest?.resumeWith === "SETUP"
        ? session.state
        : await session.untilRest({ restOnBackoffLongerThanMs: maxWaitMs });
    const rest = session.rest as Rest;
    const result: TurnResult = { state, rest, notifications, snapshot: session.snapshot() };
    if (rest.final) result.output = await session.done();
    if (refusedSnapshot) result.refusedSnapshot = refusedSnapshot;
    return result;
  } finally {
    signal?.removeEventListener("abort", cancel);
    unsubscribe();
    await session.stop();
  }
}
