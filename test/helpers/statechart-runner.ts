/**
 * Makes a model path (statechart-model.ts) happen for real: a live session with the real services, a real
 * TokenHub client against the simulator, a virtual clock and a memory record store. For each path the runner
 * picks what the world must do:
 *
 * - Step-1 outcomes: a key handed over in KEY_PROVIDED (fresh, or one TokenHub already rejected), or the host
 *   secret callback answering a fresh key or nothing. The sources swallow their own errors, so "resolveKey
 *   failed" is an injected fault in a dependency outside them: the clock throws once.
 * - Probe outcomes: a scenario built from the path, one simulator step per request. "probe failed" is the client
 *   throwing (the edge exists for bugs; the real client reports transport errors as data). "key lost" is a
 *   snapshot taken in backingOff and restored in a fresh session that cannot read the key any more.
 * - Record: the memory store, or a file store whose folder cannot exist (/dev/null/...) for the failure edge.
 * - CANCEL, or the end of a path, in a state that is not a rest state: the runner holds the flow there (a
 *   request the simulator never answers, a sleep or a record write that does not return) and acts then.
 *
 * - Multimodal outcomes: simulator steps on the image, video and media routes ("error" is TokenHub or the media
 *   host refusing; "failed", an actor that throws, is the clock failing once inside the actor, armed when the
 *   state's progress notification arrives). Holds there are requests that are never answered, or the poll wait.
 *
 * The states visited are read back from the notifications the session emits, in order.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { silentLogger } from "../../src/log.ts";
import type { Notification } from "../../src/schema/host.ts";
import { type Clock, createVirtualClock } from "../../src/session/clock.ts";
import { createSession, type Session } from "../../src/session/session.ts";
import type { Step as SimStep, Simulator } from "../../src/simulator/index.ts";
import { createFileStatusStore, createMemoryStatusStore, type StatusStore } from "../../src/status/store.ts";
import type { TokenHubClient } from "../../src/tokenhub/client.ts";
import { type ModelPath, modelStateName, PROBE_OUTCOMES, type ProbeOutcomeName } from "./statechart-model.ts";

/** Where the paths' media files go: one folder for the whole run (the OS cleans tmp). */
const MEDIA_DIR = mkdtempSync(join(tmpdir(), "tokenhub-model-media-"));

const TASK = { output: { task_id: "{{taskId}}", task_status: "RUNNING" }, request_id: "{{requestId}}" };
const REFUSAL: SimStep = {
  status: 400,
  body: { code: "DataInspectionFailed", message: "refused in the model path", request_id: "{{requestId}}" },
};
/** The simulator steps that make each multimodal outcome happen, by route. */
const MEDIA_STEPS: Record<
  string,
  { route: string; step: SimStep; extra?: { route: string; step: SimStep } }
> = {
  "image:ok": {
    route: "POST /v1/images/generations",
    step: { body: { data: [{ url: "{{origin}}/media/image.png" }] } },
    extra: { route: "GET /media/image.png", step: { media: "png" } },
  },
  "image:error": { route: "POST /v1/images/generations", step: REFUSAL },
  "image:failed": {
    route: "POST /v1/images/generations",
    step: { body: { data: [{ b64_json: "{{imageB64}}" }] } },
  },
  "submit:created": {
    route: "POST /v1/video/generations",
    step: {
      body: { output: { task_id: "{{taskId}}", task_status: "PENDING" }, request_id: "{{requestId}}" },
    },
  },
  "submit:error": { route: "POST /v1/video/generations", step: REFUSAL },
  "submit:failed": {
    route: "POST /v1/video/generations",
    step: { body: { output: { task_id: "{{taskId}}", task_status: "PENDING" } } },
  },
  "poll:running": { route: "GET /v1/video/tasks/{id}", step: { body: TASK } },
  "poll:succeeded": {
    route: "GET /v1/video/tasks/{id}",
    step: {
      body: {
        output: { task_id: "{{taskId}}", task_status: "SUCCEEDED", video_url: "{{origin}}/media/video.mp4" },
      },
    },
  },
  "poll:taskFailed": {
    route: "GET /v1/video/tasks/{id}",
    step: {
      body: {
        output: {
          task_id: "{{taskId}}",
          task_status: "FAILED",
          code: "Model",
          message: "failed in the model",
        },
      },
    },
  },
  "poll:failed": { route: "GET /v1/video/tasks/{id}", step: { body: TASK } },
  "download:ok": { route: "GET /media/video.mp4", step: { media: "mp4" } },
  "download:error": { route: "GET /media/video.mp4", step: { status: 404, text: "gone" } },
  "download:failed": { route: "GET /media/video.mp4", step: { media: "mp4" } },
};
/** The route a multimodal state waits on, for holding the flow there (a request never answered). */
const HELD_ROUTE: Record<string, string> = {
  "multimodal.image": "POST /v1/images/generations",
  "multimodal.videoSubmitting": "POST /v1/video/generations",
  "multimodal.videoPolling": "GET /v1/video/tasks/{id}",
  "multimodal.videoDownloading": "GET /media/video.mp4",
};

const WAIT_MS = 2_000;

type Hold =
  | { kind: "sleep"; index: number; restore: boolean }
  | { kind: "chat"; index: number }
  | { kind: "store" }
  | { kind: "media"; route: string; arrivals: number };

interface Plan {
  /** Per client call, in order: a simulator step, or a thrown error. */
  chat: Array<{ step: SimStep; model: string } | { throws: true }>;
  /** The stable state after event i is held (for a CANCEL, a restore or the end of the path). */
  holds: Map<number, Hold>;
  /** Per record write, in order: done, failed (a real store error), or held (never finishes). */
  writes: Array<"ok" | "fail" | "gate">;
  /** The multimodal routes' steps, in order. */
  media: Record<string, SimStep[]>;
  /** Multimodal states (by entry count) in which the actor must throw: the clock fails once there. */
  faults: Set<string>;
}

/** What each event needs from the world, read off the whole path before it runs. */
function planOf(path: ModelPath): Plan {
  const plan: Plan = { chat: [], holds: new Map(), writes: [], media: {}, faults: new Set() };
  let sleeps = 0;
  const entries = new Map<string, number>();
  const addStep = (route: string, step: SimStep) => {
    plan.media[route] ??= [];
    plan.media[route].push(step);
  };
  for (let i = -1; i < path.events.length; i++) {
    const label = path.events[i]?.label;
    const next = path.events[i + 1]?.label;
    const after = path.snapshots[i + 1]?.machine;
    const state = modelStateName(path.snapshots[i + 1]);
    const modelAt = (snapshot: typeof after) =>
      snapshot?.context.settings.modelChain[snapshot.context.run.modelIndex] ?? "";
    if (label === "probe:failed") plan.chat.push({ throws: true });
    else if (label?.startsWith("probe:") && label !== "probe:keyLost") {
      const name = label.slice("probe:".length) as ProbeOutcomeName;
      plan.chat.push({ step: PROBE_OUTCOMES[name].step, model: modelAt(path.snapshots[i]?.machine) });
    }
    if (label === "writeStatus:done" || label === "recordRejection:done") plan.writes.push("ok");
    if (label === "writeStatus:failed" || label === "recordRejection:failed") plan.writes.push("fail");
    const held = next === undefined || next === "CANCEL";
    // Multimodal: each state entered counts, so a fault or a hold applies to that visit only.
    const entered = path.snapshots[i] && modelStateName(path.snapshots[i]) !== state ? 1 : 0;
    if (state.startsWith("multimodal.")) entries.set(state, (entries.get(state) ?? 0) + entered);
    const visit = `${state}#${entries.get(state) ?? 0}`;
    if (next && MEDIA_STEPS[next]) {
      const { route, step, extra } = MEDIA_STEPS[next];
      addStep(route, step);
      if (extra) addStep(extra.route, extra.step);
      if (next.endsWith(":failed")) plan.faults.add(visit);
    }
    if (held && HELD_ROUTE[state]) {
      const route = HELD_ROUTE[state];
      addStep(route, { never: true });
      plan.holds.set(i, { kind: "media", route, arrivals: plan.media[route]?.length ?? 0 });
    }
    if (state === "multimodal.videoWaiting") {
      if (held) plan.holds.set(i, { kind: "sleep", index: sleeps, restore: false });
      sleeps += 1;
    }
    if (state === "backingOff") {
      const restore = next === "sleep:done" && path.events[i + 2]?.label === "probe:keyLost";
      if (held || restore) plan.holds.set(i, { kind: "sleep", index: sleeps, restore });
      // A restored session invokes the sleep again.
      sleeps += restore ? 2 : 1;
    }
    if (state === "requesting" && held) {
      plan.holds.set(i, { kind: "chat", index: plan.chat.length });
      plan.chat.push({ step: { never: true }, model: modelAt(after) });
    }
    if (WRITING_STATES.has(state) && held) {
      plan.holds.set(i, { kind: "store" });
      plan.writes.push("gate");
    }
  }
  return plan;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The virtual clock, with a sleep that does not return (until aborted) and a `now()` that fails once. */
function faultyClock(holds: Iterable<Hold>) {
  const base = createVirtualClock();
  const held = new Map<number, ReturnType<typeof deferred>>();
  for (const hold of holds) if (hold.kind === "sleep") held.set(hold.index, deferred());
  let calls = 0;
  let failNow = false;
  const clock: Clock & { failNextNow(): void; entered(index: number): Promise<void> } = {
    now() {
      if (failNow) {
        failNow = false;
        throw new Error("injected clock failure");
      }
      return base.now();
    },
    sleepUntil(until, signal) {
      const gate = held.get(calls++);
      if (!gate) return base.sleepUntil(until, signal);
      gate.resolve();
      return new Promise((_, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    },
    failNextNow() {
      failNow = true;
    },
    entered: (index) => held.get(index)?.promise ?? Promise.reject(new Error(`sleep ${index} is not held`)),
  };
  return clock;
}

/** The shared real client, with the path's injected failures and a signal when a held request has started. */
function scriptedClient(real: TokenHubClient, plan: Plan) {
  const started = plan.chat.map(() => deferred());
  let calls = 0;
  const client: TokenHubClient & { entered(index: number): Promise<void> } = {
    baseUrl: real.baseUrl,
    endpoint: real.endpoint,
    close: async () => {},
    async chat(request) {
      const index = calls++;
      started[index]?.resolve();
      if (plan.chat[index] && "throws" in plan.chat[index]) throw new TypeError("injected client failure");
      return real.chat(request);
    },
    call: (request) => real.call(request),
    entered: (index) => started[index]?.promise ?? Promise.reject(new Error(`no request ${index}`)),
  };
  return client;
}

/** The states whose actor writes the record. */
const WRITING_STATES = new Set(["writingStatus", "cancelling", "unauthorized"]);

/** A memory store whose writes go as planned: done, failed by a real file store's error, or held forever. */
function storeFor(writes: Plan["writes"]) {
  const memory = createMemoryStatusStore();
  const failing = createFileStatusStore("/dev/null/tokenhub-setup/status.json");
  const entered = deferred();
  let index = 0;
  const store: StatusStore = {
    location: "planned",
    read: () => memory.read(),
    write: (record) => {
      const plan = writes[index++] ?? "ok";
      if (plan === "ok") return memory.write(record);
      if (plan === "fail") return failing.write(record);
      entered.resolve();
      return new Promise<void>(() => {});
    },
  };
  return { store, entered };
}

/** The state each notification announces. */
export function statesFromNotifications(
  notifications: readonly Notification[],
  cancelledAt: ReadonlySet<number> = new Set(),
): string[] {
  const states: string[] = [];
  for (const [index, n] of notifications.entries()) {
    let state: string | undefined;
    // Every poll is decided in multimodal.videoPolled (transient, silent), unless a CANCEL ended the checks.
    const polled = () => {
      if (states.at(-1) === "multimodal.videoPolling" && !cancelledAt.has(index))
        states.push("multimodal.videoPolled");
    };
    if (n.type === "progress" && n.capability) {
      state = mediaStateOf(n.detail ?? "");
      if (state === undefined) continue; // download progress
      polled();
      // multimodal.choosing (transient, silent) comes before each check starts.
      if (state === "multimodal.image" || state === "multimodal.videoSubmitting")
        states.push("multimodal.choosing");
      states.push(state);
      continue;
    }
    // Leaving the checks: their machine ends in done, through choosing unless a CANCEL ended them.
    if (n.type === "progress" && n.step === 5 && states.at(-1)?.startsWith("multimodal.")) {
      polled();
      states.push(...(cancelledAt.has(index) ? [] : ["multimodal.choosing"]), "multimodal.done");
    }
    if (n.type === "progress") {
      const detail = n.detail ?? "";
      if (n.step === 1) state = "resolvingKey";
      else if (n.step === 2) state = "awaitingKey";
      else if (n.step === 4) state = "validating";
      else if (n.step === 5) state = "writingStatus";
      else if (/\(attempt \d+\)$/.test(detail)) state = "requesting";
      else if (/: waiting [\d.]+ s before attempt \d+$/.test(detail)) state = "backingOff";
      else if (/: trying the next model format$/.test(detail)) state = "fallingBack";
      else state = `unknown progress: ${detail}`;
    } else if (n.type === "completed") state = "complete";
    else if (n.type === "escalated") state = "escalated";
    else if (n.type === "cancelled") state = "cancelled";
    if (state === undefined) continue;
    // Step 5 again, for the records a cancel and a 401 leave.
    const detail = n.type === "progress" ? (n.detail ?? "") : "";
    if (state === "writingStatus" && detail.startsWith("recording that the check was cancelled"))
      state = "cancelling";
    if (state === "writingStatus" && detail.startsWith("recording that TokenHub rejected the key"))
      state = "unauthorized";
    states.push(state);
  }
  return states;
}

/** The multimodal state a progress line announces (undefined for download progress). */
function mediaStateOf(detail: string): string | undefined {
  if (/^image check: generating/.test(detail)) return "multimodal.image";
  if (/^video check: creating a task/.test(detail)) return "multimodal.videoSubmitting";
  if (/^video check: task \S+ is .*; next poll in/.test(detail)) return "multimodal.videoWaiting";
  if (/^video check: polling task/.test(detail)) return "multimodal.videoPolling";
  if (/^video check: task \S+ succeeded; downloading/.test(detail)) return "multimodal.videoDownloading";
  return undefined;
}

export interface PathRun {
  /** States visited, from idle, as the notifications tell them. */
  states: string[];
  /** The session's state at the end. */
  finalState: string;
  output: unknown;
  /** Models of the requests the simulator saw, and the ones the model expected. */
  requestedModels: string[];
  expectedModels: string[];
  notifications: Notification[];
}

let keyCounter = 0;
const freshKey = () => `sk-model-${process.pid}-${++keyCounter}-${Math.random().toString(36).slice(2, 10)}`;

/** Runs one model path against the simulator; the simulator's scenario is replaced for the path. */
export async function runPath(path: ModelPath, sim: Simulator, real: TokenHubClient): Promise<PathRun> {
  const plan = planOf(path);
  const simSteps = plan.chat.flatMap((c) => ("step" in c ? [c.step] : []));
  sim.useScenario({
    name: "model-path",
    description: path.description,
    routes: {
      "POST /v1/chat/completions": simSteps.length > 0 ? simSteps : [{ template: "chat" }],
      ...plan.media,
    },
  });
  sim.reset();
  const clock = faultyClock(plan.holds.values());
  const client = scriptedClient(real, plan);
  const { store, entered: storeEntered } = storeFor(plan.writes);
  let hostAnswer: string | undefined;
  let handedKey: string | undefined;
  let currentKey: string | undefined;
  const rejectedKeys: string[] = [];
  const notifications: Notification[] = [];
  const visits = new Map<string, number>();
  const open = (snapshot?: unknown) => {
    const s = createSession({
      config: { baseUrl: sim.baseUrl, multimodal: { outputDir: MEDIA_DIR } },
      sources: { env: {}, hostSecret: () => hostAnswer, keychain: false },
      store,
      clock,
      client,
      logger: silentLogger(),
      ...(snapshot === undefined ? {} : { snapshot }),
    });
    s.subscribe((n) => {
      notifications.push(n);
      // A multimodal state announces itself on entry, before its actor runs: arm the fault for this visit.
      const state = n.type === "progress" && n.capability ? mediaStateOf(n.detail ?? "") : undefined;
      if (state) {
        const visit = (visits.get(state) ?? 0) + 1;
        visits.set(state, visit);
        if (plan.faults.has(`${state}#${visit}`)) clock.failNextNow();
      }
    });
    return s;
  };
  let session: Session = open();
  /** Where each CANCEL landed in the notifications: a CANCEL in the checks leaves them without `done`. */
  const cancelledAt = new Set<number>();

  /** Brings the session to the stable state the model is in after event i (undefined when already there). */
  const reach = (i: number): Promise<void> | undefined => {
    const want = i < 0 ? "idle" : modelStateName(path.snapshots[i + 1]);
    const hold = plan.holds.get(i);
    const check = () => {
      if (session.state !== want) throw new Error(`expected ${want}, the session is in ${session.state}`);
    };
    if (want === "idle" || want === "resolvingKey") return void check();
    if (hold?.kind === "sleep") return within(clock.entered(hold.index), `sleep ${hold.index}`).then(check);
    if (hold?.kind === "chat") {
      // Held until the simulator has the request, so the request log is complete when the flow is cancelled.
      const arrived = plan.chat.slice(0, hold.index + 1).filter((c) => "step" in c).length;
      const waitArrival = async () => {
        await client.entered(hold.index);
        while (sim.requests.length < arrived) await new Promise((r) => setTimeout(r, 1));
      };
      return within(waitArrival(), `request ${hold.index}`).then(check);
    }
    if (hold?.kind === "store") return within(storeEntered.promise, "the record write").then(check);
    if (hold?.kind === "media") {
      const [method, route] = hold.route.split(" ") as [string, string];
      const prefix = route.replace("{id}", "");
      const arrived = () =>
        sim.requests.filter((r) => r.method === method && r.path.startsWith(prefix)).length >= hold.arrivals;
      const waitArrival = async () => {
        while (!arrived()) await new Promise((r) => setTimeout(r, 1));
      };
      return within(waitArrival(), `the held ${hold.route}`).then(check);
    }
    return within(session.untilRest(), want).then(check);
  };

  try {
    for (const [i, event] of path.events.entries()) {
      const next = path.events[i + 1]?.label;
      // Host events wait for the state the model says they arrive in; actor outcomes happen on their own.
      const restore = plan.holds.get(i - 1);
      if (!event.type.startsWith("xstate.") || (restore?.kind === "sleep" && restore.restore)) {
        const pending = reach(i - 1);
        if (pending) await pending;
      }
      const world = path.snapshots[i]?.world;
      switch (event.label) {
        case "SETUP:media":
          hostAnswer = freshKey();
          currentKey = hostAnswer;
          session.send({ type: "SETUP", preferences: { multimodal: ["image", "video"] } });
          break;
        case "SETUP":
        case "KEY_READY":
        case "KEY_PROVIDED": {
          if (event.label === "KEY_PROVIDED") {
            const known = rejectedKeys[0];
            if (next === "resolveKey:missing" && known === undefined)
              throw new Error("no rejected key to hand over");
            handedKey = next === "resolveKey:missing" ? known : freshKey();
          }
          const handedFirst = event.label === "KEY_PROVIDED" || world?.handedLive === true;
          hostAnswer = next === "resolveKey:found" && !handedFirst ? freshKey() : undefined;
          if (next === "resolveKey:found") currentKey = handedFirst ? handedKey : hostAnswer;
          if (event.label === "KEY_PROVIDED")
            session.send({ type: "KEY_PROVIDED", key: handedKey as string });
          else session.send({ type: event.label });
          // Synchronously, before the resolveKey actor reaches its clock.now().
          if (next === "resolveKey:failed") clock.failNextNow();
          break;
        }
        case "CANCEL":
          cancelledAt.add(notifications.length);
          session.send({ type: "CANCEL", reason: "model path" });
          break;
        case "probe:unauthorized":
          if (currentKey) rejectedKeys.push(currentKey);
          break;
        case "sleep:done": {
          const hold = plan.holds.get(i - 1);
          if (hold?.kind === "sleep" && hold.restore) {
            // Persist in backingOff and restore in a fresh session that cannot read the key: Step-2 (lost).
            const snapshot = JSON.stringify(session.snapshot());
            await session.stop();
            hostAnswer = undefined;
            handedKey = undefined;
            session = open(snapshot);
          }
          break;
        }
      }
    }
    const last = path.events.length - 1;
    const pending = reach(last);
    if (pending) await pending;
    const finalState = session.state;
    const output = ["complete", "escalated", "cancelled"].includes(finalState)
      ? await within(session.done(), "the output")
      : undefined;
    return {
      states: ["idle", ...statesFromNotifications(notifications, cancelledAt)],
      finalState,
      output,
      requestedModels: sim.requests
        .filter((r) => r.path === "/v1/chat/completions")
        .map((r) => (r.body as { model?: string } | undefined)?.model ?? ""),
      expectedModels: plan.chat.flatMap((c) => ("model" in c ? [c.model] : [])),
      notifications,
    };
  } finally {
    await session.stop();
    // Let aborted requests and sleeps settle before the next path reuses the simulator.
    await tick();
  }
}
