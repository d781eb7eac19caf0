// Many flows in one process share one connection pool per origin, capped (maxConnectionsPerOrigin): thousands
// of concurrent flows queue for a connection instead of each opening its own until the process runs out of file
// descriptors (EMFILE). Connections are counted where undici opens them (its diagnostics channel).
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../../src/log.ts";
import { type ConfigInput, DEFAULT_CONNECTIONS_PER_ORIGIN } from "../../src/schema/config.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { createSession } from "../../src/session/session.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";
import { TEST_KEY } from "../helpers/flow.ts";

/** Connections undici opened and has not closed yet, and the most that were open at once. */
function connectionCounter() {
  let open = 0;
  let most = 0;
  let onIdle: (() => void) | undefined;
  const onConnected = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    open += 1;
    most = Math.max(most, open);
    socket.once("close", () => {
      open -= 1;
      if (open === 0) onIdle?.();
    });
  };
  subscribe("undici:client:connected", onConnected);
  return {
    get most() {
      return most;
    },
    /** Resolves once every connection opened is closed again. */
    allClosed: () =>
      new Promise<void>((resolve) => {
        if (open === 0) resolve();
        else onIdle = resolve;
      }),
    stop: () => unsubscribe("undici:client:connected", onConnected),
  };
}

/** `count` flows started together against `sim`, each its own session; the states they rest in. */
async function concurrentFlows(sim: Simulator, count: number, config: ConfigInput = {}): Promise<string[]> {
  const sessions = Array.from({ length: count }, () =>
    createSession({
      config: { baseUrl: sim.baseUrl, ...config },
      sources: { env: { TOKENHUB_API_KEY: TEST_KEY }, keychain: false },
      store: createMemoryStatusStore(),
      clock: createVirtualClock(),
      logger: silentLogger(),
    }),
  );
  try {
    for (const session of sessions) session.send({ type: "SETUP" });
    return await Promise.all(sessions.map((session) => session.untilRest()));
  } finally {
    await Promise.all(sessions.map((session) => session.stop()));
  }
}

describe("concurrent flows in one process", () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ scenario: "happy" });
  });
  after(() => sim.close());

  it("2,000 flows started at once all complete, over at most the default cap of connections", async () => {
    const connections = connectionCounter();
    try {
      const states = await concurrentFlows(sim, 2_000);
      assert.deepEqual(
        states.filter((state) => state !== "complete"),
        [],
      );
      assert.ok(connections.most > 0, "the counter saw undici connect");
      assert.ok(
        connections.most <= DEFAULT_CONNECTIONS_PER_ORIGIN,
        `${connections.most} connections were open at once`,
      );
      // The last session's client gives the shared pool back, which closes it: no socket is left behind.
      await connections.allClosed();
    } finally {
      connections.stop();
    }
  });

  it("takes its cap from the config (maxConnectionsPerOrigin)", async () => {
    const connections = connectionCounter();
    try {
      const states = await concurrentFlows(sim, 200, { maxConnectionsPerOrigin: 4 });
      assert.ok(
        states.every((state) => state === "complete"),
        states.join(),
      );
      assert.ok(connections.most > 0 && connections.most <= 4, `${connections.most} connections at once`);
      await connections.allClosed();
    } finally {
      connections.stop();
    }
  });
});
