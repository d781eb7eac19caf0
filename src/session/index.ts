export { type Clock, createVirtualClock, systemClock } from "./clock.ts";
export {
  createSession,
  type NotificationListener,
  resolveConfig,
  type Session,
  type SessionOptions,
} from "./session.ts";
export { openEnvelope } from "./snapshot.ts";
export { runTurn, type TurnInput, type TurnResult } from "./turn.ts";
