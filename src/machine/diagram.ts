import type { AnyStateNode } from "xstate";
import { setupMachine } from "./setup-machine.ts";

interface Edge {
  /** The compound state both ends sit in (`multimodal`), or undefined at the top level. */
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
      if (Object.keys(node.states).length > 0) visit(node.states, name);
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
 * A Mermaid stateDiagram of the machine, compound states drawn as boxes. Deterministic, so the README can be
 * checked against it.
 */
export function statechartMermaid(): string {
  const edges = statechartEdges();
  const line = (e: Edge, indent: string) => `${indent}${e.from} --> ${e.to}${e.label ? `: ${e.label}` : ""}`;
  const lines = ["stateDiagram-v2", `  [*] --> ${setupMachine.config.initial}`];
  for (const e of edges.filter((edge) => edge.parent === undefined)) lines.push(line(e, "  "));
  for (const [name, node] of Object.entries(setupMachine.root.states)) {
    if (node.type === "final") lines.push(`  ${name} --> [*]`);
    if (Object.keys(node.states).length === 0) continue;
    lines.push(`  state ${name} {`, `    [*] --> ${String(node.config.initial)}`);
    for (const e of edges.filter((edge) => edge.parent === name)) lines.push(line(e, "    "));
    for (const [child, inner] of Object.entries(node.states))
      if (inner.type === "final") lines.push(`    ${child} --> [*]`);
    lines.push("  }");
  }
  lines.push(
    "  note right of cancelled: CANCEL from any state (in multimodal: ends the checks, the record is kept)",
  );
  return lines.join("\n");
}
