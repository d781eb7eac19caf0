import type { AnyStateNode } from "xstate";
import { setupMachine } from "./chart.ts";
import { invokedMachine } from "./face.ts";

/** A state's inner states: its own children, or the states of the machine it invokes (the checks). */
function innerOf(node: AnyStateNode): AnyStateNode | undefined {
  const machine = invokedMachine(node.invoke[0]?.src);
  if (machine) return machine.root;
  return Object.keys(node.states).length > 0 ? node : undefined;
}

interface Edge {
  /** The state both ends sit in (`multimodal`, whose machine they are), or undefined at the top level. */
  parent: string | undefined;
  from: string;
  to: string;
  label: string;
}

/** Every transition of the statechart, read from the machine itself (the README's diagram is built from it). */
export function statechartEdges(): Edge[] {
  const edges: Edge[] = [];
  const visit = (states: Record<string, AnyStateNode>, parent: string | undefined) => {
    for (const [name, node] of Object.entries(states)) {
      const invoked = node.invoke[0]?.src;
      for (const [event, transitions] of node.transitions) {
        const base = event.startsWith("xstate.done.actor")
          ? `${invoked} done`
          : event.startsWith("xstate.error.actor")
            ? `${invoked} failed`
            : event.startsWith("xstate.done.state")
              ? "checks done"
              : event;
        for (const t of transitions) {
          const label = withGuard(base, t.guard, transitions.length > 1);
          for (const target of t.target ?? []) edges.push({ parent, from: name, to: target.key, label });
        }
      }
      const always = node.always ?? [];
      for (const t of always) {
        const label = withGuard("", t.guard, always.length > 1) || "always";
        for (const target of t.target ?? []) edges.push({ parent, from: name, to: target.key, label });
      }
      const inner = innerOf(node);
      if (inner) visit(inner.states, name);
    }
  };
  visit(setupMachine.root.states, undefined);
  return edges;
}

function withGuard(label: string, guard: unknown, hasSiblings: boolean): string {
  if (!guard) return hasSiblings ? `${label} [otherwise]`.trim() : label;
  const g = guard as { type?: string; params?: { next?: string; capability?: string } } | string;
  const name =
    typeof g === "string"
      ? g
      : g.params && typeof g.params === "object" && (g.params.next || g.params.capability)
        ? (g.params.next ?? g.params.capability)
        : (g.type ?? "guard");
  return `${label} [${name}]`.trim();
}

/**
 * A Mermaid stateDiagram of the chart, with the machine `multimodal` invokes drawn inside its box. Deterministic, so the README can be
 * checked against it.
 */
export function statechartMermaid(): string {
  const edges = statechartEdges();
  const line = (e: Edge, indent: string) => `${indent}${e.from} --> ${e.to}${e.label ? `: ${e.label}` : ""}`;
  const lines = ["stateDiagram-v2", `  [*] --> ${setupMachine.config.initial}`];
  for (const e of edges.filter((edge) => edge.parent === undefined)) lines.push(line(e, "  "));
  for (const [name, node] of Object.entries(setupMachine.root.states)) {
    if (node.type === "final") lines.push(`  ${name} --> [*]`);
    const inner = innerOf(node);
    if (!inner) continue;
    lines.push(`  state ${name} {`, `    [*] --> ${String(inner.config.initial)}`);
    for (const e of edges.filter((edge) => edge.parent === name)) lines.push(line(e, "    "));
    for (const [child, state] of Object.entries(inner.states))
      if (state.type === "final") lines.push(`    ${child} --> [*]`);
    lines.push("  }");
  }
  lines.push(
    "  note right of cancelled: CANCEL from any state (in multimodal: ends the checks, the record is kept)",
  );
  return lines.join("\n");
}
