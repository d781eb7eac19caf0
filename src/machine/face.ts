/**
 * The one face of the flow: everything a host may know about where it stands (at rest or not, waiting until
 * when, which event resumes it, which exit code a CLI gives), derived from the chart's tags (`rest`, `wait`),
 * its final states and its context. Hosts ask this module; none matches state names, so a state added to the
 * chart with the right tag is handled by every host as it is.
 */
import type { AnyStateNode, SnapshotFrom } from "xstate";
import { type FailureCode, LOCAL_FAILURE_CODES } from "../schema/record.ts";
import type { NeedKeyReason } from "./notifications.ts";
import { type SetupContext, setupMachine, type Wait } from "./setup-machine.ts";

export type SetupSnapshot = SnapshotFrom<typeof setupMachine>;

/** The CLI's exit codes (`tokenhub-setup` and `openclaw tokenhub`); the README's table is checked against it. */
export const EXIT = {
  complete: 0,
  /** Escalated for a reason other than the ones below (also: an unexpected internal error). */
  failure: 1,
  usage: 2,
  keyMissing: 3,
  keyRejected: 4,
  escalated: 5,
  invalidResponse: 6,
  /** TokenHub could not be reached, or the base URL is not its API: a fault on this side, not escalated. */
  localFault: 7,
  cancelled: 130,
} as const;

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

type WaitMeta = { wait?: (context: SetupContext) => Wait };

/** A state value as one name: `requesting`, or `multimodal.videoWaiting` inside the multimodal checks. */
export function stateName(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const [parent, child] = Object.entries(value)[0] ?? [];
    if (parent !== undefined) return `${parent}.${stateName(child)}`;
  }
  return String(value);
}

/**
 * Where the flow stands, or null while it is between rests (a request in flight, a record being written): no
 * snapshot may be taken there, and no host decision is due.
 */
export function restOf(snapshot: SetupSnapshot): Rest | null {
  const state = stateName(snapshot.value);
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
  if (snapshot.hasTag("wait")) {
    const meta = Object.values(snapshot.getMeta() as Record<string, WaitMeta | undefined>).find(
      (m) => m?.wait,
    );
    const wait = meta?.wait?.(context) ?? { until: Number.NaN, for: "retry" as const };
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

/** The rest a stored snapshot's value and context stand for (resolved against the chart, tags and all). */
export function restOfStored(value: unknown, context: SetupContext): Rest | null {
  const resolved = setupMachine.resolveState({ value: value as never, context });
  return restOf(resolved);
}

/** Every state of the chart by `stateName` (compound states by their children), in the chart's order. */
export const STATE_NAMES: readonly string[] = leaves(setupMachine.root).map(([name]) => name);

/** The states a snapshot may be taken in: tagged `rest` or `wait`, and the final states. */
export const REST_STATES: ReadonlySet<string> = new Set(
  leaves(setupMachine.root)
    // A final child (multimodal.done) only ends its parent state: the flow passes through it at once.
    .filter(([, node]) =>
      node.type === "final"
        ? node.parent === setupMachine.root
        : node.tags.includes("rest") || node.tags.includes("wait"),
    )
    .map(([name]) => name),
);

function leaves(root: AnyStateNode): Array<[string, AnyStateNode]> {
  return Object.entries(root.states).flatMap(([name, node]) =>
    Object.keys(node.states).length > 0
      ? leaves(node).map(([child, inner]): [string, AnyStateNode] => [`${name}.${child}`, inner])
      : [[name, node] as [string, AnyStateNode]],
  );
}
