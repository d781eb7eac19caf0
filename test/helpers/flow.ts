// Drives one whole flow against the simulator with a virtual clock and an in-memory record store.

import { silentLogger } from "../../src/log.ts";
import type { ConfigInput } from "../../src/schema/config.ts";
import type { Notification, Output } from "../../src/schema/host.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { createSession, type SessionOptions } from "../../src/session/session.ts";
import {
  type Scenario,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";

export const TEST_KEY = "sk-test-flow-0123456789abcdef";

export interface FlowResult {
  state: string;
  output: Output | undefined;
  notifications: Notification[];
  requests: Simulator["requests"];
  sleeps: number[];
  records: ReturnType<typeof createMemoryStatusStore>["records"];
  /** The base URL the flow was pointed at. */
  baseUrl: string;
}

export interface FlowOptions {
  config?: ConfigInput;
  env?: Record<string, string>;
  session?: Partial<SessionOptions>;
  /** Simulator options besides the scenario (e.g. `redirectTo`). */
  simulator?: Omit<SimulatorOptions, "scenario">;
  /** Point the flow elsewhere than the simulator (a closed port, a host that does not resolve). */
  baseUrl?: string;
}

export async function runFlow(scenario: string | Scenario, options: FlowOptions = {}): Promise<FlowResult> {
  const sim = await startSimulator({ ...options.simulator, scenario });
  const clock = createVirtualClock();
  const store = createMemoryStatusStore();
  const baseUrl = options.baseUrl ?? sim.baseUrl;
  const session = createSession({
    config: { baseUrl, ...options.config },
    sources: { env: options.env ?? { TOKENHUB_API_KEY: TEST_KEY }, keychain: false },
    store,
    clock,
    logger: silentLogger(),
    ...options.session,
  });
  const notifications: Notification[] = [];
  session.subscribe((n) => notifications.push(n));
  try {
    session.send({ type: "SETUP" });
    const state = await session.untilRest();
    const output = state === "awaitingKey" ? undefined : await session.done();
    return {
      state,
      output,
      notifications,
      requests: [...sim.requests],
      sleeps: clock.sleeps,
      records: store.records,
      baseUrl,
    };
  } finally {
    await session.stop();
    await sim.close();
  }
}

export function failureCode(output: Output | undefined): string | undefined {
  return output?.status === "escalated" ? output.escalation.failure.code : undefined;
}
