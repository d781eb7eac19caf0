export { EXIT, type Rest } from "../machine/face.ts";
export { type Clock, createVirtualClock, systemClock } from "./clock.ts";
export {
  createSession,
  type NotificationListener,
  resolveConfig,
  type Session,
  type SessionOptions,
} from "./session.ts";
export { openEnvelope, restOfSnapshot } from "./snapshot.ts";
export { runTurn, type TurnInput, type TurnResult } from "./turn.ts";
