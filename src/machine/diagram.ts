import { setupMachine } from "./setup-machine.ts";

interface Edge {
  from: string;
  to: string;
  label: string;
}

/** Every transition of the statechart, read from the machine itself (the README's diagram is built from it). */
export function statechartEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const [name, node] of Object.entries(setupMachine.root.states)) {
    const invoked = node.invoke[0]?.src;
    for (const [event, transitions] of node.transitions) {
      const base = event.startsWith("xstate.done.actor")
        ? `${invoked} done`
        : event.startsWith("xstate.error.actor")
          ? `${invoked} failed`
          : event;
      for (const t of transitions) {
        const label = withGuard(base, t.guard, transitions.length > 1);
        for (const target of t.target ?? []) edges.push({ from: name, to: target.key, label });
      }
    }
    const always = node.always ?? [];
    for (const t of always) {
      const label = withGuard("", t.guard, always.length > 1) || "always";
      for (const target of t.target ?? []) edges.push({ from: name, to: target.key, label });
    }
  }
  return edges;
}

function withGuard(label: string, guard: unknown, hasSiblings: boolean): string {
  if (!guard) return hasSiblings ? `${label} [otherwise]`.trim() : label;
  const g = guard as { type?: string; params?: { next?: string } } | string;
  const name =
    typeof g === "string"
      ? g
      : g.params && typeof g.params === "object" && g.params.next
        ? g.params.next
        : (g.type ?? "guard");
  return `${label} [${name}]`.trim();
}

/** A Mermaid stateDiagram of the machine. Deterministic, so the README can be checked against it. */
export function statechartMermaid(): string {
  const lines = ["stateDiagram-v2", `  [*] --> ${setupMachine.config.initial}`];
  for (const e of statechartEdges()) lines.push(`  ${e.from} --> ${e.to}${e.label ? `: ${e.label}` : ""}`);
  for (const [name, node] of Object.entries(setupMachine.root.states)) {
    if (node.type === "final") lines.push(`  ${name} --> [*]`);
  }
  lines.push("  note right of cancelled: CANCEL from any state");
  return lines.join("\n");
}
