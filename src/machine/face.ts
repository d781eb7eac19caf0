/**
 * The one face of the flow: everything a host may know about where it stands (at rest or not, waiting until
 * when, which event resumes it, which exit code a CLI gives), derived from the chart's tags (`rest`, `wait`),
 * its final states and its context. Hosts ask this module; none matches state names, so a state added to the
 * chart with the right tag is handled by every host as it is.
 */
import type { AnyStateNode, SnapshotFrom } from "xstate";
import { type FailureCode, LOCAL_FAILURE_CODES } from "../schema/record.ts";
import { setupMachine } from "./chart.ts";
import type { SetupContext, Wait } from "./context.ts";
import { EXIT } from "./exit-codes.ts";
import { mediaChecksMachine } from "./media-checks.ts";
import type { NeedKeyReason } from "./notifications.ts";

export type SetupSnapshot = SnapshotFrom<typeof setupMachine>;

/** The CLI's exit codes: their table lives in exit-codes.ts, free of the chart, so a CLI can answer `--help`
 * without loading it. */
export { EXIT } from "./exit-codes.ts";

/** Where a flow stands when it is at rest: the only thing hosts read to decide what to do next. */
export interface Rest {
  /** The state's name (`awaitingKey`, `multimodal.videoWaiting`): for logs and envelopes, not for decisions. */
  state: string;
  final: boolean;
  /** What moves the flow on: a host event, the time of `wait.until` (resume with no event), or nothing. */
  resumeWith: "SETUP" | "KEY_READY" | "time" | null;
  /** A timed rest: when it ends and what it waits for. */
  wait: Wait | null;
  /** Set when the flow waits for a key: why it needs one. */
  needKey: NeedKeyReason | null;
  /** The exit code a CLI gives for a run that ends here. */
  exitCode: number;
}

type WaitMeta = { wait?: (context: never) => Wait };
type AnyMachineSnapshot = {
  value: unknown;
  context: unknown;
  status: string;
  hasTag(tag: string): boolean;
  getMeta(): Record<string, unknown>;
};

/** A state value as one name: `requesting`, or `multimodal.videoWaiting` inside the multimodal checks. */
export function stateName(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const [parent, child] = Object.entries(value)[0] ?? [];
    if (parent !== undefined) return `${parent}.${stateName(child)}`;
  }
  return String(value);
}

/** The machine the current state has invoked (the multimodal checks), if it runs one. */
function childMachineOf(snapshot: SetupSnapshot): AnyMachineSnapshot | undefined {
  for (const child of Object.values(
    snapshot.children as Record<string, { getSnapshot(): unknown } | undefined>,
  )) {
    const inner = child?.getSnapshot() as Partial<AnyMachineSnapshot> | undefined;
    if (inner && typeof inner.hasTag === "function" && inner.status === "active")
      return inner as AnyMachineSnapshot;
  }
  return undefined;
}

/** Where the flow is, as one name: the chart's state, and inside an invoked machine, that machine's state too. */
export function whereIs(snapshot: SetupSnapshot): string {
  return nameOf(snapshot, childMachineOf(snapshot));
}

function nameOf(snapshot: SetupSnapshot, child: AnyMachineSnapshot | undefined): string {
  const name = stateName(snapshot.value);
  return child ? `${name}.${stateName(child.value)}` : name;
}

/**
 * Where the flow stands, or null while it is between rests (a request in flight, a record being written): no
 * snapshot may be taken there, and no host decision is due.
 */
export function restOf(snapshot: SetupSnapshot): Rest | null {
  return restFrom(snapshot, childMachineOf(snapshot));
}

function restFrom(snapshot: SetupSnapshot, child: AnyMachineSnapshot | undefined): Rest | null {
  const state = nameOf(snapshot, child);
  const context = snapshot.context;
  if (snapshot.status === "done") {
    return {
      state,
      final: true,
      resumeWith: null,
      wait: null,
      needKey: null,
      exitCode: finalExitCode(context),
    };
  }
  // A timed wait, in the chart or in the machine it runs; its own state says until when, and for what.
  const waiting = snapshot.hasTag("wait") ? snapshot : child?.hasTag("wait") ? child : undefined;
  if (waiting) {
    const meta = Object.values(waiting.getMeta() as Record<string, WaitMeta | undefined>).find(
      (m) => m?.wait,
    );
    const wait = meta?.wait?.(waiting.context as never) ?? { until: Number.NaN, for: "retry" as const };
    return { state, final: false, resumeWith: "time", wait, needKey: null, exitCode: EXIT.failure };
  }
  if (!snapshot.hasTag("rest")) return null;
  if (snapshot.can({ type: "SETUP", at: 0, seed: 0 })) {
    return { state, final: false, resumeWith: "SETUP", wait: null, needKey: null, exitCode: EXIT.failure };
  }
  const needKey = context.key.needReason;
  return {
    state,
    final: false,
    resumeWith: "KEY_READY",
    wait: null,
    needKey,
    exitCode: needKey === "rejected" ? EXIT.keyRejected : EXIT.keyMissing,
  };
}

/** The exit code for a flow that has ended: how it ended, and for an escalation, whose fault it was. */
function finalExitCode(context: SetupContext): number {
  if (context.cancelReason !== null) return EXIT.cancelled;
  const code = context.failure?.code;
  if (code === undefined) return EXIT.complete;
  if (code === "invalid_response") return EXIT.invalidResponse;
  return LOCAL_FAILURE_CODES.has(code as FailureCode) ? EXIT.localFault : EXIT.escalated;
}

/** A stored child, as xstate persists it: the logic it was invoked from, by name, and its snapshot. */
export interface StoredChild {
  src: unknown;
  snapshot: { value?: unknown; context?: unknown; status?: unknown } | undefined;
}

/**
 * The rest a stored snapshot stands for, resolved against the chart (tags and all), and against the machine
 * a stored child was invoked from.
 */
export function restOfStored(
  value: unknown,
  context: SetupContext,
  children: Record<string, StoredChild | undefined> = {},
): Rest | null {
  const resolved = setupMachine.resolveState({ value: value as never, context });
  let child: AnyMachineSnapshot | undefined;
  for (const [id, stored] of Object.entries(children)) {
    // Only the machine the chart's state itself runs, under the id it runs it by: a stored child anywhere
    // else is no part of where the flow stands (the restore refuses it).
    const runs = invokedIn(value);
    const logic = invokedMachine(stored?.src);
    const snapshot = stored?.snapshot;
    if (!logic || runs?.id !== id || runs.src !== stored?.src || snapshot?.status !== "active") return null;
    child = logic.resolveState({
      value: snapshot.value as never,
      context: snapshot.context as never,
    }) as unknown as AnyMachineSnapshot;
  }
  return restFrom(resolved, child);
}

/** The machine a state of the chart runs while in it (the checks, in `multimodal`): its invoke id and name. */
export function invokedIn(value: unknown): { id: string; src: string } | undefined {
  const node = setupMachine.root.states[stateName(value)];
  const invoke = node?.invoke.find((i) => invokedMachine(i.src) !== undefined);
  return invoke ? { id: invoke.id, src: invoke.src as string } : undefined;
}

/** The machine the chart invokes by this name (only machines: promise actors have no states to rest in). */
export function invokedMachine(src: unknown) {
  if (typeof src !== "string") return undefined;
  const logic = (setupMachine.implementations.actors as Record<string, unknown>)[src];
  return logic === mediaChecksMachine ? mediaChecksMachine : undefined;
}

/** Every state of the chart by `whereIs` name (an invoking state by its machine's states), in the chart's order. */
export const STATE_NAMES: readonly string[] = leaves(setupMachine.root).map(([name]) => name);

/** The states a snapshot may be taken in: tagged `rest` or `wait`, and the final states. */
export const REST_STATES: ReadonlySet<string> = new Set(
  leaves(setupMachine.root)
    // A final child (the checks' `done`) only ends what contains it: the flow passes through it at once.
    .filter(([, node]) =>
      node.type === "final"
        ? node.parent === setupMachine.root
        : node.tags.includes("rest") || node.tags.includes("wait"),
    )
    .map(([name]) => name),
);

function leaves(root: AnyStateNode): Array<[string, AnyStateNode]> {
  return Object.entries(root.states).flatMap(([name, node]) => {
    const inner =
      invokedMachine(node.invoke[0]?.src)?.root ?? (Object.keys(node.states).length > 0 ? node : undefined);
    return inner
      ? leaves(inner).map(([child, n]): [string, AnyStateNode] => [`${name}.${child}`, n])
      : [[name, node] as [string, AnyStateNode]];
  });
}
