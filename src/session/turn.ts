import { TokenHubSetupError } from "../errors.ts";
import { FINAL_STATES } from "../machine/setup-machine.ts";
import type { HostEvent, Notification, Output } from "../schema/host.ts";
import type { SnapshotEnvelope } from "../schema/snapshot.ts";
import { createSession, type Session, type SessionOptions } from "./session.ts";

export interface TurnInput extends Omit<SessionOptions, "snapshot"> {
  /** The host event for this turn; omit it to resume a stored wait (backoff or video poll). */
  event?: HostEvent;
  /** What the previous turn returned (envelope object or JSON text); omit on the first turn. */
  snapshot?: unknown;
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
}

export interface TurnResult {
  state: string;
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
  const { event, snapshot, maxWaitMs = 30_000, signal, ...options } = input;
  let refusedSnapshot: TurnResult["refusedSnapshot"];
  let session: Session;
  try {
    session = createSession({ ...options, ...(snapshot === undefined ? {} : { snapshot }) });
  } catch (err) {
    if (!(err instanceof TokenHubSetupError) || !err.code.startsWith("snapshot_")) throw err;
    refusedSnapshot = { code: err.code, message: err.message, remedy: err.remedy };
    session = createSession(options);
  }
  const notifications: Notification[] = [];
  const unsubscribe = session.subscribe((n) => notifications.push(n));
  const cancel = () => {
    if (!FINAL_STATES.has(session.state))
      session.send({ type: "CANCEL", reason: "the host cancelled the call" });
  };
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    if (event && !signal?.aborted) session.send(event);
    const state =
      session.state === "idle" ? "idle" : await session.untilRest({ restOnBackoffLongerThanMs: maxWaitMs });
    const result: TurnResult = { state, notifications, snapshot: session.snapshot() };
    if (FINAL_STATES.has(state)) result.output = await session.done();
    if (refusedSnapshot) result.refusedSnapshot = refusedSnapshot;
    return result;
  } finally {
    signal?.removeEventListener("abort", cancel);
    unsubscribe();
    await session.stop();
  }
}
