// Benchmark 3: 10,000 sessions parked in awaitingKey (no key anywhere), kept alive: heap per session, and the
// time to persist (snapshot() + JSON text) and restore (createSession({snapshot}) until at rest) all of them.
// Side by side, round by round: the same machine as bare xstate actors (one bound machine, createActor, SETUP,
// getPersistedSnapshot, createActor({snapshot})), to say what the session layer adds.
//   node --expose-gc bench/parked.ts [--smoke] [--json]

import { performance } from "node:perf_hooks";
import { type AnyActor, createActor, fromPromise } from "xstate";
import { silentLogger } from "../src/log.ts";
import { setupMachine } from "../src/machine/chart.ts";
import type { ResolveKeyInput, ResolveKeyOutput } from "../src/machine/effects.ts";
import { createSession, machineSettings, resolveConfig, type Session } from "../src/session/session.ts";
import { createMemoryStatusStore } from "../src/status/store.ts";
import { createTokenHubClient } from "../src/tokenhub/client.ts";
import {
  type BenchReport,
  benchArgs,
  emit,
  kb,
  median,
  ms,
  note,
  type Row,
  spreadOf,
  spreadText,
  x,
} from "./lib/stats.ts";

/** Sessions per round in the full run; the smoke run parks fewer and scales the totals (said in the table). */
export const PARKED = 10_000;
const SMOKE_PARKED = 1_000;
/** Issue 15's goals: a parked session takes at most 8 KB of heap; restoring 10,000 takes at most 250 ms. */
const PARKED_GOAL_BYTES = 8 * 1024;
const RESTORE_GOAL_MS = 250;
const BASE_URL = "http://127.0.0.1:9/v1"; // never contacted: no key, so no request

const gc = (globalThis as { gc?: () => void }).gc;

async function settle(): Promise<void> {
  // Let finished promise chains and timers run, then collect twice (weak refs, finalizers).
  await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  gc?.();
}

interface Measured {
  parkMs: number;
  bytesPer: number;
  persistMs: number;
  restoreMs: number;
  restoredBytesPer: number;
}

type Shared = ReturnType<typeof sharedDeps>;

function sharedDeps() {
  const config = resolveConfig({ baseUrl: BASE_URL });
  const client = createTokenHubClient({
    baseUrl: config.baseUrl,
    timeouts: config.timeouts,
    maxResponseBytes: config.maxResponseBytes,
  });
  const logger = silentLogger();
  const store = createMemoryStatusStore();
  const sources = { env: {}, keychain: false as const };
  return { config, client, logger, store, sources };
}

async function sessionsRound(shared: Shared, count: number): Promise<Measured> {
  const { client, logger, store, sources } = shared;
  const common = { config: { baseUrl: BASE_URL }, client, logger, store, sources };
  await settle();
  const heap0 = process.memoryUsage().heapUsed;
  let t0 = performance.now();
  const sessions: Session[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const s = createSession(common);
    s.send({ type: "SETUP" });
    sessions[i] = s;
  }
  const states = await Promise.all(sessions.map((s) => s.untilRest()));
  const parkMs = performance.now() - t0;
  if (states.some((s) => s !== "awaitingKey")) throw new Error("a session did not park in awaitingKey");
  await settle();
  const bytesPer = (process.memoryUsage().heapUsed - heap0) / count;

  t0 = performance.now();
  const texts = sessions.map((s) => JSON.stringify(s.snapshot()));
  const persistMs = performance.now() - t0;

  // The originals stay alive while the copies are made: a host restoring in the same process would too.
  await settle();
  const heap1 = process.memoryUsage().heapUsed;
  t0 = performance.now();
  const restored = texts.map((snapshot) => createSession({ ...common, snapshot }));
  const again = await Promise.all(restored.map((s) => s.untilRest()));
  const restoreMs = performance.now() - t0;
  if (again.some((s) => s !== "awaitingKey")) throw new Error("a restored session is not in awaitingKey");
  await settle();
  const restoredBytesPer = (process.memoryUsage().heapUsed - heap1) / count;

  await Promise.all([...sessions, ...restored].map((s) => s.stop()));
  return { parkMs, bytesPer, persistMs, restoreMs, restoredBytesPer };
}

/**
 * The statechart alone: one machine for all actors (provided once, with a resolveKey that finds no key, as the
 * real one does here), plain actors, no session wrapper.
 */
async function actorsRound(shared: Shared, count: number): Promise<Measured> {
  const { config, client } = shared;
  const machine = setupMachine.provide({
    actors: {
      resolveKey: fromPromise<ResolveKeyOutput, ResolveKeyInput>(async () => ({
        found: false,
        sawRejected: false,
        notices: [],
        at: Date.now(),
      })),
    },
  });
  const settings = machineSettings(config, client.baseUrl);
  const parked = (actor: AnyActor) =>
    new Promise<void>((resolve) => {
      if (actor.getSnapshot().value === "awaitingKey") return resolve();
      const sub = actor.subscribe((s) => {
        if (s.value === "awaitingKey") {
          sub.unsubscribe();
          resolve();
        }
      });
    });

  await settle();
  const heap0 = process.memoryUsage().heapUsed;
  let t0 = performance.now();
  const actors: AnyActor[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const a = createActor(machine, { input: { settings } });
    a.start();
    a.send({ type: "SETUP", at: Date.now(), seed: i });
    actors[i] = a;
  }
  await Promise.all(actors.map(parked));
  const parkMs = performance.now() - t0;
  await settle();
  const bytesPer = (process.memoryUsage().heapUsed - heap0) / count;

  t0 = performance.now();
  const texts = actors.map((a) => JSON.stringify(a.getPersistedSnapshot()));
  const persistMs = performance.now() - t0;

  await settle();
  const heap1 = process.memoryUsage().heapUsed;
  t0 = performance.now();
  const restored = texts.map((text) => {
    const a = createActor(machine, { snapshot: JSON.parse(text), input: { settings } });
    a.start();
    return a;
  });
  await Promise.all(restored.map(parked));
  const restoreMs = performance.now() - t0;
  await settle();
  const restoredBytesPer = (process.memoryUsage().heapUsed - heap1) / count;

  for (const a of [...actors, ...restored]) a.stop();
  return { parkMs, bytesPer, persistMs, restoreMs, restoredBytesPer };
}

export async function run(smoke: boolean): Promise<BenchReport> {
  if (!gc) throw new Error("run with --expose-gc: memory is measured after a forced collection");
  const shared = sharedDeps();
  const rounds = smoke ? 1 : 5;
  const count = smoke ? SMOKE_PARKED : PARKED;
  const scale = PARKED / count;
  const sessions: Measured[] = [];
  const actors: Measured[] = [];
  note(
    `parked: ${rounds} interleaved rounds of ${count} sessions / ${count} bare actors (plus a warm-up each)`,
  );
  // Warm-up (JIT, xstate internals) with both kinds, then alternate, swapping which goes first each round.
  await sessionsRound(shared, Math.min(count, 300));
  await actorsRound(shared, Math.min(count, 300));
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      sessions.push(await sessionsRound(shared, count));
      actors.push(await actorsRound(shared, count));
    } else {
      actors.push(await actorsRound(shared, count));
      sessions.push(await sessionsRound(shared, count));
    }
  }
  await shared.client.close();
  // Totals are for PARKED sessions: measured as such in the full run, scaled from `count` in the smoke run.
  const med = (list: Measured[], k: keyof Measured) =>
    median(list.map((m) => m[k])) * (k.endsWith("Ms") ? scale : 1);
  const s = {
    bytesPer: med(sessions, "bytesPer"),
    restoredBytesPer: med(sessions, "restoredBytesPer"),
    parkMs: med(sessions, "parkMs"),
    persistMs: med(sessions, "persistMs"),
    restoreMs: med(sessions, "restoreMs"),
  };
  const a = {
    bytesPer: med(actors, "bytesPer"),
    restoredBytesPer: med(actors, "restoredBytesPer"),
    parkMs: med(actors, "parkMs"),
    persistMs: med(actors, "persistMs"),
    restoreMs: med(actors, "restoreMs"),
  };
  const n =
    scale === 1
      ? PARKED.toLocaleString("en")
      : `${PARKED.toLocaleString("en")} (smoke: ${count.toLocaleString("en")} measured, times x${scale})`;
  const spread = (list: Measured[], k: keyof Measured, unit: (v: number) => string) =>
    spreadText(spreadOf(list.map((m) => m[k] * (k.endsWith("Ms") ? scale : 1))), unit);
  const kbUnit = (v: number) => kb(v);
  const msUnit = (v: number) => ms(v, 1);
  const rows: Row[] = [
    {
      bench: "parked",
      measurement: `heap per parked session (${count.toLocaleString("en")} in awaitingKey, after gc)`,
      value: kb(s.bytesPer),
      against: `goal 8 KB; bare xstate actor ${kb(a.bytesPer)} (${x(s.bytesPer / a.bytesPer)})`,
      ratio: `${x(s.bytesPer / PARKED_GOAL_BYTES)} goal`,
      spread: spread(sessions, "bytesPer", kbUnit),
      goal: "<= 8 KB",
      met: s.bytesPer <= PARKED_GOAL_BYTES,
    },
    {
      bench: "parked",
      measurement: `restore all ${n}: createSession({snapshot: text}) until at rest`,
      value: ms(s.restoreMs, 1),
      against: `goal 250 ms; bare createActor({snapshot}) ${ms(a.restoreMs, 1)} (${x(s.restoreMs / a.restoreMs)})`,
      ratio: `${x(s.restoreMs / RESTORE_GOAL_MS)} goal`,
      spread: spread(sessions, "restoreMs", msUnit),
      goal: "<= 250 ms",
      met: s.restoreMs <= RESTORE_GOAL_MS,
    },
    {
      bench: "parked",
      measurement: `persist all ${n}: snapshot() + JSON.stringify`,
      value: ms(s.persistMs, 1),
      against: `bare getPersistedSnapshot+stringify ${ms(a.persistMs, 1)}`,
      ratio: x(s.persistMs / a.persistMs),
      spread: spread(sessions, "persistMs", msUnit),
      goal: "",
      met: null,
    },
    {
      bench: "parked",
      measurement: `park all ${n}: createSession + SETUP until awaitingKey`,
      value: ms(s.parkMs, 1),
      against: `bare createActor + SETUP ${ms(a.parkMs, 1)}`,
      ratio: x(s.parkMs / a.parkMs),
      spread: spread(sessions, "parkMs", msUnit),
      goal: "",
      met: null,
    },
    {
      bench: "parked",
      measurement: "heap per restored session",
      value: kb(s.restoredBytesPer),
      against: `bare restored actor ${kb(a.restoredBytesPer)}`,
      ratio: x(s.restoredBytesPer / a.restoredBytesPer),
      spread: spread(sessions, "restoredBytesPer", kbUnit),
      goal: "",
      met: null,
    },
  ];
  return {
    bench: "parked",
    mode: smoke ? "smoke" : "full",
    rows,
    details: { rounds, parked: count, scaledTo: PARKED, sessions, actors },
  };
}

if (import.meta.main) {
  const { smoke, json } = benchArgs();
  emit(await run(smoke), json);
}
