/**
 * A test model of the statechart for `xstate/graph`, and the bookkeeping that says which of the machine's
 * transitions a path takes.
 *
 * Why a composite logic and not `createTestModel(setupMachine)`: xstate/graph refuses machines with `invoke`
 * ("Invocations on test machines are not supported"), and its traversal uses the machine's pure `transition`,
 * which never runs an actor. So actor completions are modelled as the events xstate itself delivers for them,
 * `xstate.done.actor.<id>` (with an `output`) and `xstate.error.actor.<id>` (with an `error`), with payloads
 * chosen so that every guard is taken both ways. Next to the machine snapshot the model keeps a little of the
 * world outside it (is a handed-over key live, has a key been rejected, how was this state entered), so it
 * only offers outcomes that the real services can produce from that point; the runner in
 * `statechart-runner.ts` then makes each path happen against the simulator.
 */
import {
  fromTransition,
  getInitialMicrosteps,
  getMicrosteps,
  initialTransition,
  type SnapshotFrom,
  type TransitionSnapshot,
  transition,
} from "xstate";
import { MEDIA_CHECKS_ID, setupMachine } from "../../src/machine/chart.ts";
import type { Settings } from "../../src/machine/context.ts";
import { statechartEdges } from "../../src/machine/diagram.ts";
import { KEY_LOST } from "../../src/machine/effects.ts";
import { invokedMachine, stateName } from "../../src/machine/face.ts";
import { mediaChecksMachine } from "../../src/machine/media-checks.ts";
import { machineSettings, resolveConfig } from "../../src/session/session.ts";
import type { Step as SimStep } from "../../src/simulator/index.ts";
import type { Outcome } from "../../src/tokenhub/classify.ts";

export type MachineSnapshot = SnapshotFrom<typeof setupMachine>;
export type ChecksSnapshot = SnapshotFrom<typeof mediaChecksMachine>;

/** What the model knows about the world outside the machine. */
export interface World {
  /** The session holds a handed-over key that TokenHub has not rejected: Step-1 finds it first. */
  handedLive: boolean;
  /** A key was rejected (401) in this flow, so the host can hand over a key that is known to be bad. */
  rejectedKey: boolean;
  /** How the current state was entered, where it decides which outcomes are possible next. */
  entry: "SETUP" | "KEY_PROVIDED" | "KEY_READY" | "sleep" | "other";
  /**
   * The flow asked for the image and video checks (SETUP with preferences). Such a flow takes the text path's
   * happy route only: the text path's own branches are covered without it, and crossing them with every
   * multimodal branch would multiply the paths for no transition not already taken.
   */
  media: boolean;
}

/** The chart's snapshot, and while it runs them, the multimodal checks' own (a machine the chart invokes). */
export interface ModelState {
  machine: MachineSnapshot;
  checks: ChecksSnapshot | null;
  world: World;
}

/** A model state's name as the session reports it: `requesting`, `multimodal.videoWaiting`. */
export function modelStateName(state: Pick<ModelState, "machine" | "checks"> | undefined): string {
  if (!state) return "undefined";
  const name = stateName(state.machine.value);
  return state.checks ? `${name}.${stateName(state.checks.value)}` : name;
}
export type ModelSnapshot = TransitionSnapshot<ModelState>;

export type ProbeOutcomeName = "ok" | "unauthorized" | "retryable" | "routing" | "insufficientBalance";
export type StepLabel =
  | "SETUP"
  | "SETUP:media"
  | "KEY_PROVIDED"
  | "KEY_READY"
  | "CANCEL"
  | "resolveKey:found"
  | "resolveKey:missing"
  | "resolveKey:failed"
  | `probe:${ProbeOutcomeName}`
  | "probe:keyLost"
  | "probe:failed"
  | "sleep:done"
  | "writeStatus:done"
  | "writeStatus:failed"
  | "recordRejection:done"
  | "recordRejection:failed"
  | `${MediaActor}:${"ok" | "error" | "failed"}`
  | "submit:created"
  | "poll:running"
  | "poll:succeeded"
  | "poll:taskFailed";

/** The multimodal actors, by the short name their labels use. */
export type MediaActor = "image" | "submit" | "poll" | "download";

/** A machine event (host event or actor completion) plus the label the runner realises it from. */
export interface ModelEvent {
  type: string;
  label: StepLabel;
  at?: number;
  seed?: number;
  remember?: boolean;
  preferences?: { multimodal: Array<"image" | "video"> };
  actorId?: string;
  output?: unknown;
  error?: unknown;
}

const common = { requestId: "req-model", latencyMs: 1 };

/** Each probe outcome the model offers, with the simulator step that makes TokenHub answer that way. */
export const PROBE_OUTCOMES: Record<ProbeOutcomeName, { outcome: Outcome; step: SimStep }> = {
  ok: {
    outcome: {
      ...common,
      status: 200,
      kind: "ok",
      id: "chatcmpl-model",
      model: "m",
      content: "OK",
      streamed: false,
      message: "ok",
    },
    step: { template: "chat" },
  },
  unauthorized: {
    outcome: { ...common, status: 401, kind: "unauthorized", message: "Invalid API key provided" },
    step: {
      status: 401,
      body: {
        error: { message: "Invalid API key provided", type: "authentication_error", code: "invalid_api_key" },
      },
    },
  },
  retryable: {
    outcome: {
      ...common,
      status: 503,
      kind: "retryable",
      reason: "server_error",
      retryAfterMs: null,
      message: "Service temporarily unavailable",
    },
    step: {
      status: 503,
      body: { error: { message: "Service temporarily unavailable", type: "server_error", code: null } },
    },
  },
  routing: {
    outcome: {
      ...common,
      status: 503,
      kind: "routing",
      reason: "region_unavailable",
      code: "RegionUnavailable",
      message: "The model is not available in the selected region",
    },
    step: {
      status: 503,
      body: {
        code: "RegionUnavailable",
        message: "The model is not available in the selected region",
        request_id: "{{requestId}}",
      },
    },
  },
  insufficientBalance: {
    outcome: { ...common, status: 402, kind: "insufficientBalance", message: "Insufficient account balance" },
    step: {
      status: 402,
      body: {
        error: {
          message: "Insufficient account balance",
          type: "billing_error",
          code: "insufficient_balance",
        },
      },
    },
  },
};

/** The settings a session builds from the default configuration (the endpoint does not matter here). */
export function modelSettings(): Settings {
  return machineSettings(resolveConfig({}), "http://127.0.0.1/v1/chat/completions");
}

/** A state node by its name (`multimodal.videoWaiting` is a state of the machine `multimodal` invokes). */
export function nodeOf(name: string) {
  const [top, child] = name.split(".");
  const node = setupMachine.root.states[top as string];
  if (child === undefined) return node;
  return (invokedMachine(node?.invoke[0]?.src)?.root ?? node)?.states[child];
}

function invokeId(state: string): string {
  const id = nodeOf(state)?.invoke[0]?.id;
  if (!id) throw new Error(`${state} invokes nothing`);
  return id;
}

/** The events the model offers in a state: host events, and actor outcomes the real services can produce. */
export function eventsFor({ machine, checks, world }: ModelState): ModelEvent[] {
  if (machine.status !== "active") return [];
  const state = modelStateName({ machine, checks });
  const at = checks?.context.now ?? machine.context.now;
  const cancel: ModelEvent = { type: "CANCEL", at, label: "CANCEL" };
  const done = (label: StepLabel, output: unknown): ModelEvent => ({
    type: `xstate.done.actor.${invokeId(state)}`,
    actorId: invokeId(state),
    output,
    label,
  });
  const failed = (label: StepLabel, error: unknown): ModelEvent => ({
    type: `xstate.error.actor.${invokeId(state)}`,
    actorId: invokeId(state),
    error,
    label,
  });
  const setup: ModelEvent = { type: "SETUP", at, seed: 7, label: "SETUP" };
  const provided: ModelEvent = { type: "KEY_PROVIDED", at, seed: 7, remember: false, label: "KEY_PROVIDED" };
  const ready: ModelEvent = { type: "KEY_READY", at, seed: 7, label: "KEY_READY" };
  const setupMedia: ModelEvent = {
    type: "SETUP",
    at,
    seed: 7,
    preferences: { multimodal: ["image", "video"] },
    label: "SETUP:media",
  };
  const saved = { saved: { file: "/model/file", bytes: 1, mime: "image/png", sha256: "0" }, at };
  const refused = { error: { code: "media_model", message: "refused in the model", remedy: "none" }, at };
  const poll = (status: string, url: string | null) => ({
    status,
    rawStatus: status.toUpperCase(),
    url,
    reason: null,
    error: null,
    at,
  });

  if (world.media) {
    // The text path's happy route only (see World.media), then every multimodal outcome.
    switch (state) {
      case "resolvingKey":
        return [
          done("resolveKey:found", { found: true, source: "host", fingerprint: "fp-host", notices: [], at }),
          cancel,
        ];
      case "requesting":
        return [done("probe:ok", { outcome: PROBE_OUTCOMES.ok.outcome, at }), cancel];
      case "writingStatus":
      case "cancelling":
        return [done("writeStatus:done", { record: machine.context.record, at }), cancel];
      case "multimodal.image":
        return [
          done("image:ok", saved),
          done("image:error", refused),
          failed("image:failed", { message: "injected failure" }),
          cancel,
        ];
      case "multimodal.videoSubmitting":
        return [
          done("submit:created", { taskId: "task-model", rawStatus: "PENDING", at }),
          done("submit:error", refused),
          failed("submit:failed", { message: "injected failure" }),
          cancel,
        ];
      case "multimodal.videoWaiting":
        return [done("sleep:done", undefined), cancel];
      case "multimodal.videoPolling":
        return [
          done("poll:running", poll("running", null)),
          done("poll:succeeded", poll("succeeded", "http://127.0.0.1/media/video.mp4")),
          done("poll:taskFailed", poll("failed", null)),
          failed("poll:failed", { message: "injected failure" }),
          cancel,
        ];
      case "multimodal.videoDownloading":
        return [
          done("download:ok", { ...saved, saved: { ...saved.saved, mime: "video/mp4" } }),
          done("download:error", refused),
          failed("download:failed", { message: "injected failure" }),
          cancel,
        ];
      default:
        throw new Error(`the model has no events for the stable state ${state}`);
    }
  }

  switch (state) {
    case "idle":
      return [setup, setupMedia, provided, ready, cancel];
    case "awaitingKey":
      return [provided, ready, cancel];
    case "resolvingKey": {
      // A key handed over now, or earlier and still good, is what Step-1 finds first; otherwise the host secret.
      const source = world.entry === "KEY_PROVIDED" || world.handedLive ? "event" : "host";
      const events = [
        done("resolveKey:found", { found: true, source, fingerprint: `fp-${source}`, notices: [], at }),
      ];
      // "Nothing usable" needs a handed-over key that is known to be bad, or no live handed-over key at all.
      const canMiss = world.entry === "KEY_PROVIDED" ? world.rejectedKey : !world.handedLive;
      if (canMiss) {
        events.push(
          done("resolveKey:missing", { found: false, sawRejected: world.rejectedKey, notices: [], at }),
        );
      }
      events.push(failed("resolveKey:failed", { message: "injected failure while reading the sources" }));
      return [...events, cancel];
    }
    case "requesting": {
      const events = Object.entries(PROBE_OUTCOMES).map(([name, { outcome }]) =>
        done(`probe:${name as ProbeOutcomeName}`, { outcome, at }),
      );
      // A key is lost only across a restore, and the flow can only be persisted in backingOff.
      if (world.entry === "sleep") {
        events.push(failed("probe:keyLost", { code: KEY_LOST, message: "the key is no longer available" }));
      }
      events.push(failed("probe:failed", { message: "injected client failure" }));
      return [...events, cancel];
    }
    case "backingOff":
      return [done("sleep:done", undefined), cancel];
    case "writingStatus":
    case "cancelling":
      return [
        done("writeStatus:done", { record: machine.context.record, at }),
        failed("writeStatus:failed", { message: "injected store failure" }),
        cancel,
      ];
    case "unauthorized":
      return [
        done("recordRejection:done", { otherKeys: [], notice: null, at }),
        failed("recordRejection:failed", { message: "injected store failure" }),
        cancel,
      ];
    default:
      throw new Error(`the model has no events for the stable state ${state}`);
  }
}

function nextWorld({ machine, world }: ModelState, event: ModelEvent): World {
  const next: World = { ...world, entry: "other" };
  switch (event.label) {
    case "SETUP":
    case "KEY_READY":
    case "KEY_PROVIDED":
      next.entry = event.label;
      break;
    case "SETUP:media":
      next.entry = "SETUP";
      next.media = true;
      break;
    case "resolveKey:found":
    case "resolveKey:failed":
      // The runner hands over a fresh key here.
      if (world.entry === "KEY_PROVIDED") next.handedLive = true;
      break;
    case "resolveKey:missing":
      // ... and a known-bad one here.
      if (world.entry === "KEY_PROVIDED") next.handedLive = false;
      break;
    case "probe:unauthorized":
      next.rejectedKey = true;
      if (machine.context.key.source === "event") next.handedLive = false;
      break;
    case "sleep:done":
      next.entry = "sleep";
      break;
    case "probe:keyLost":
      // Realised by restoring the snapshot in a fresh session: its vault is empty.
      next.handedLive = false;
      break;
  }
  return next;
}

export function initialModelState(): ModelState {
  return {
    machine: initialTransition(setupMachine, { settings: modelSettings() })[0],
    checks: null,
    world: { handedLive: false, rejectedKey: false, entry: "other", media: false },
  };
}

/** The event the chart gets when the checks' machine ends, as xstate delivers it. */
function checksDone(checks: ChecksSnapshot): ModelEvent {
  return {
    type: `xstate.done.actor.${MEDIA_CHECKS_ID}`,
    actorId: MEDIA_CHECKS_ID,
    output: checks.output,
    // Not an event the model offers (the chart gets it when the checks end): a label only to fit the type.
    label: "checks:done" as StepLabel,
  };
}

/** The checks' snapshot as the chart starts them on entering `multimodal` (xstate's own, with its input). */
function checksStarted(machine: MachineSnapshot): ChecksSnapshot | null {
  const child = machine.children[MEDIA_CHECKS_ID as keyof typeof machine.children] as
    | { getSnapshot(): ChecksSnapshot }
    | undefined;
  return child ? child.getSnapshot() : null;
}

/**
 * One macrostep (xstate's pure `transition`), and what it means for the world. While the checks run, events
 * go to their machine; when it ends, the chart gets its done event, as the live actors do.
 */
export function stepModel(state: ModelState, event: ModelEvent): ModelState {
  let { machine, checks } = state;
  if (checks) {
    [checks] = transition(mediaChecksMachine, checks, event as never);
  } else {
    [machine] = transition(setupMachine, machine, event as never);
    checks = checksStarted(machine);
  }
  if (checks?.status === "done") {
    [machine] = transition(setupMachine, machine, checksDone(checks) as never);
    checks = null;
  }
  return { machine, checks, world: nextWorld(state, event) };
}

/** The machine composed with the world, as actor logic xstate/graph can traverse. */
export const modelLogic = fromTransition(stepModel, initialModelState);

/** Traversal options for xstate/graph: the events of a state and how states are told apart. */
export const traversal = {
  events: (snapshot: ModelSnapshot) => eventsFor(snapshot.context),
  /** Everything that decides what can happen next, plus the transition that led here (transition coverage). */
  exact: (snapshot: ModelSnapshot, event: ModelEvent | undefined, previous: ModelSnapshot | undefined) =>
    `${serializeModel(snapshot)} via ${event?.label ?? "start"} from ${previous ? modelStateName(previous.context) : "-"}`,
  /** The chart's own loops only: a path is simple when no (state, attempt, model) repeats. */
  coarse: (snapshot: ModelSnapshot) => {
    const { context } = snapshot.context.machine;
    return JSON.stringify([
      modelStateName(snapshot.context),
      context.run.attempt,
      context.run.modelIndex,
      snapshot.context.world.media,
    ]);
  },
};

/**
 * Everything that decides what can happen next, and nothing else (the attempt log, fingerprints and times
 * would make every path its own state).
 */
export function serializeModel(snapshot: ModelSnapshot): string {
  const { machine, checks, world } = snapshot.context;
  const state = modelStateName(snapshot.context);
  const c = machine.context;
  return JSON.stringify([
    world.media,
    Object.keys(checks?.context.checks ?? c.record?.multimodal ?? {}).sort(),
    state,
    c.run.attempt,
    c.run.modelIndex,
    c.key.source,
    state === "writingStatus" ? (c.record?.integration_status ?? null) : null,
    world.handedLive,
    world.rejectedKey,
    state === "resolvingKey" || state === "requesting" ? world.entry : null,
  ]);
}

// ---- the machine's transitions, and which ones a path takes ------------------------------------------------

export interface Edge {
  id: string;
  from: string;
  to: string;
  label: string;
}

type TransitionDefinition = ReturnType<typeof setupMachine.getTransitionData>[number];
type AnyNode = NonNullable<ReturnType<typeof nodeOf>>;

const byDefinition = new Map<TransitionDefinition, Edge>();
/** The CANCEL transitions (the chart's root one, its own in requesting/backingOff, the checks' root one). */
const cancelDefinitions = new Map<TransitionDefinition, string>();

/** A state's inner states: its own children, or the states of the machine it invokes (the checks). */
function innerOf(node: AnyNode): AnyNode | undefined {
  const machine = invokedMachine(node.invoke[0]?.src);
  if (machine) return machine.root as unknown as AnyNode;
  return Object.keys(node.states).length > 0 ? node : undefined;
}

/** Every state by name, inner states after their parent, as statechartEdges() walks them. */
function allStates(): Array<[string, AnyNode, { inner: boolean }]> {
  const out: Array<[string, AnyNode, { inner: boolean }]> = [];
  for (const [name, node] of Object.entries(setupMachine.root.states)) {
    const inner = innerOf(node);
    out.push([name, node, { inner: inner !== undefined }]);
    for (const [child, state] of Object.entries(inner?.states ?? {}))
      out.push([`${name}.${child}`, state as AnyNode, { inner: false }]);
  }
  return out;
}

/** States that can hold a snapshot: atomic, not final, and not left at once by an unguarded `always`. */
export function stableStates(): string[] {
  return allStates()
    .filter(([, , { inner }]) => !inner)
    .filter(([, node]) => node.type !== "final" && !(node.always ?? []).some((t) => !t.guard))
    .map(([name]) => name);
}

/** The CANCEL that applies in a state: its own, else the checks' (inside them), else the chart's root one. */
function cancelFor(state: string): { owner: string; to: string } {
  const mine = nodeOf(state)?.transitions.get("CANCEL")?.[0];
  if (mine?.target?.[0]) return { owner: state, to: mine.target[0].key };
  if (state.includes(".")) {
    const parent = state.split(".")[0] as string;
    const own = mediaChecksMachine.root.transitions.get("CANCEL")?.[0];
    if (own?.target?.[0]) return { owner: parent, to: `${parent}.${own.target[0].key}` };
  }
  return { owner: "(root)", to: "cancelled" };
}

const fullName = (parent: string | undefined, name: string) => (parent ? `${parent}.${name}` : name);

/**
 * Every transition of the machine: the edges of `statechartEdges()` (what the README draws) but CANCEL, plus
 * CANCEL from each stable state (the chart's root one, its own in requesting/backingOff, or inside the checks
 * theirs). A transient state (validating, unauthorized, fallingBack, multimodal.choosing, multimodal.videoPolled)
 * is left within the same macrostep it was entered in, so no event, CANCEL included, can ever be delivered to it.
 */
export function machineEdges(): Edge[] {
  const drawn = statechartEdges();
  const definitions: Array<{ from: string; to: string; t: TransitionDefinition }> = [];
  const visit = (states: Record<string, AnyNode>, parent: string | undefined) => {
    for (const [name, node] of Object.entries(states)) {
      const add = (t: TransitionDefinition) => {
        for (const target of t.target ?? [])
          definitions.push({ from: fullName(parent, name), to: fullName(parent, target.key), t });
      };
      for (const [, transitions] of node.transitions) for (const t of transitions) add(t);
      for (const t of node.always ?? []) add(t as TransitionDefinition);
      const inner = innerOf(node);
      if (inner) visit(inner.states as Record<string, AnyNode>, name);
    }
  };
  visit(setupMachine.root.states, undefined);
  if (definitions.length !== drawn.length) {
    throw new Error(`diagram.ts lists ${drawn.length} edges, the machine has ${definitions.length}`);
  }
  const edges: Edge[] = [];
  for (const [i, e] of drawn.entries()) {
    const def = definitions[i];
    const from = fullName(e.parent, e.from);
    const to = fullName(e.parent, e.to);
    if (!def || def.from !== from || def.to !== to) {
      throw new Error(`edge ${i} differs: diagram ${from} -> ${to}, machine ${def?.from} -> ${def?.to}`);
    }
    if (e.label === "CANCEL") {
      cancelDefinitions.set(def.t, from);
      continue;
    }
    const edge = { id: `${from} -> ${to}${e.label ? `: ${e.label}` : ""}`, from, to, label: e.label };
    byDefinition.set(def.t, edge);
    edges.push(edge);
  }
  const root = setupMachine.root.transitions.get("CANCEL")?.[0] as TransitionDefinition | undefined;
  if (root) cancelDefinitions.set(root, "(root)");
  const checks = mediaChecksMachine.root.transitions.get("CANCEL")?.[0] as unknown as
    | TransitionDefinition
    | undefined;
  if (checks) cancelDefinitions.set(checks, "(checks)");
  for (const from of stableStates()) {
    const { to } = cancelFor(from);
    edges.push({ id: `${from} -> ${to}: CANCEL`, from, to, label: "CANCEL" });
  }
  return edges;
}

/** Evaluates a named guard the way xstate does (`{ type, params }`, params possibly a function). */
function guardPasses(
  machine: { implementations: { guards: unknown } },
  guard: unknown,
  snapshot: { context: unknown },
  event: ModelEvent,
): boolean {
  if (guard === undefined) return true;
  const g = typeof guard === "string" ? { type: guard } : (guard as { type: string; params?: unknown });
  const impl = (machine.implementations.guards as Record<string, unknown>)[g.type];
  if (typeof impl !== "function") throw new Error(`guard ${g.type} is not a named guard`);
  const args = { context: snapshot.context, event };
  const params = typeof g.params === "function" ? g.params(args) : g.params;
  return Boolean(impl(args, params));
}

export interface TakenStep {
  /** Every state entered, in order, transient ones included. */
  states: string[];
  edges: Edge[];
}

/** `to` as entered: a state with inner states is entered at its initial one. */
const enters = (target: string, actual: string) => actual === target || actual.startsWith(`${target}.`);

type AnyMachine = typeof setupMachine | typeof mediaChecksMachine;
type Micro = Array<[{ value: unknown; context: unknown }, unknown]>;

/** Names each microstep of one machine by the transition it took (`first`: the event's, or none at the start). */
function named(
  machine: AnyMachine,
  before: { value: unknown; context: unknown },
  micro: Micro,
  event: ModelEvent,
  name: (value: unknown) => string,
  first: "event" | "start",
  taken: TakenStep,
): void {
  let current = before;
  for (const [i, [after]] of micro.entries()) {
    const from = name(current.value);
    const to = name(after.value);
    if (i === 0 && first === "start") {
      current = after; // entering the initial state: the chart's edge into `multimodal` already says so
      continue;
    }
    let definition: TransitionDefinition | undefined;
    if (i === 0) {
      definition = (machine as typeof setupMachine).getTransitionData(current as never, event as never)[0];
    } else {
      const node = nodeOf(from);
      definition = (node?.always ?? []).find((t) => guardPasses(machine, t.guard, current, event)) as
        | TransitionDefinition
        | undefined;
    }
    const cancelOwner = definition ? cancelDefinitions.get(definition) : undefined;
    const edge =
      cancelOwner !== undefined
        ? { id: `${from} -> ${cancelFor(from).to}: CANCEL`, from, to: cancelFor(from).to, label: "CANCEL" }
        : definition && byDefinition.get(definition);
    const fromOk = edge && (edge.from === from || from.startsWith(`${edge.from}.`));
    if (!edge || !fromOk || !enters(edge.to, to)) {
      throw new Error(`microstep ${from} -> ${to} on ${event.type} matches no transition of the machine`);
    }
    taken.states.push(to);
    taken.edges.push(edge);
    current = after;
  }
}

/** The microsteps of one macrostep, in the chart and in the checks it runs, each named by its transition. */
export function takenBy(before: ModelState, event: ModelEvent): TakenStep {
  if (byDefinition.size === 0) machineEdges();
  const taken: TakenStep = { states: [], edges: [] };
  const inChart = (value: unknown) => stateName(value);
  const inChecks = (value: unknown) => `${stateName(before.machine.value)}.${stateName(value)}`;
  let machine = before.machine;
  let checks = before.checks;
  if (checks) {
    named(
      mediaChecksMachine,
      checks,
      getMicrosteps(mediaChecksMachine, checks, event as never) as Micro,
      event,
      inChecks,
      "event",
      taken,
    );
    [checks] = transition(mediaChecksMachine, checks, event as never);
  } else {
    const micro = getMicrosteps(setupMachine, machine, event as never) as Micro;
    [machine] = transition(setupMachine, machine, event as never);
    checks = checksStarted(machine);
    // Entering the state that runs the checks enters their initial state.
    const name = checks
      ? (value: unknown) =>
          stateName(value) === stateName(machine.value)
            ? `${stateName(value)}.${String(mediaChecksMachine.config.initial)}`
            : stateName(value)
      : inChart;
    named(setupMachine, before.machine, micro, event, name, "event", taken);
    if (checks) {
      const input = { context: checks.context };
      const initial = getInitialMicrosteps(mediaChecksMachine, {
        settings: input.context.settings,
        key: input.context.key,
        now: input.context.now,
      }) as Micro;
      const atMultimodal = (value: unknown) => `${stateName(machine.value)}.${stateName(value)}`;
      named(mediaChecksMachine, initial[0]?.[0] ?? checks, initial, event, atMultimodal, "start", taken);
    }
  }
  if (checks?.status === "done") {
    const done = checksDone(checks);
    const name = (value: unknown) =>
      stateName(value) === stateName(machine.value)
        ? `${stateName(value)}.${stateName(checks?.value)}`
        : stateName(value);
    named(
      setupMachine,
      machine,
      getMicrosteps(setupMachine, machine, done as never) as Micro,
      done,
      name,
      "event",
      taken,
    );
  }
  return taken;
}

/** A generated path, with the states it enters (from `idle`) and the transitions it takes. */
export interface ModelPath {
  events: ModelEvent[];
  /** The model state before each event (index i) and after the last one (index events.length). */
  snapshots: ModelState[];
  states: string[];
  edges: Edge[];
  description: string;
}

/** The labels of a path from xstate/graph (step 0 is the initial state, step i the state after event i). */
export function labelsOf(steps: ReadonlyArray<{ event: { type: string } }>): StepLabel[] {
  return steps.slice(1).map((s) => (s.event as ModelEvent).label);
}

/**
 * Plays a path's labels from the start, taking each event from what the model offers in the state actually
 * reached. A path built over a coarse projection may chain states that only look alike; such a path cannot be
 * realised and comes back undefined.
 */
export function replay(labels: readonly StepLabel[]): ModelPath | undefined {
  let current = initialModelState();
  const snapshots = [current];
  const events: ModelEvent[] = [];
  const states = [modelStateName(current)];
  const edges: Edge[] = [];
  for (const label of labels) {
    const event = eventsFor(current).find((e) => e.label === label);
    if (!event) return undefined;
    const taken = takenBy(current, event);
    states.push(...taken.states);
    edges.push(...taken.edges);
    current = stepModel(current, event);
    snapshots.push(current);
    events.push(event);
  }
  return { events, snapshots, states, edges, description: labels.join(" → ") || "(start)" };
}
