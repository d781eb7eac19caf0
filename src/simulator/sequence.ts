import type { Scenario, Step } from "./scenario.ts";

/**
 * Which step answers a request.
 *
 * Invariant: each route holds one sequence per model named in a `match` step, plus a default sequence made of
 * the steps without `match`. A request for a model that some step matches walks that model's sequence; any
 * other request walks the default one. Each sequence has its own cursor, advanced by one per request, so a
 * fallback scenario answers the bare model and the pinned model the same way whatever order they arrive in.
 * A step with `repeat: N` fills N positions; past the end, the last step repeats.
 */
export interface Sequencer {
  /** The step for this request, or undefined when no route of the scenario matches method and path. */
  next(method: string, path: string, model: string | undefined): Step | undefined;
}

export function createSequencer(scenario: Scenario): Sequencer {
  const cursors = new Map<string, number>();
  const routeKeys = Object.keys(scenario.routes);

  return {
    next(method, path, model) {
      const routeKey = findRoute(routeKeys, method, path);
      const steps = routeKey === undefined ? undefined : scenario.routes[routeKey];
      if (routeKey === undefined || steps === undefined) return undefined;

      const forModel = model === undefined ? [] : steps.filter((step) => matchesModel(step, model));
      const sequence = forModel.length > 0 ? forModel : steps.filter((step) => step.match === undefined);
      const cursorKey = forModel.length > 0 ? `${routeKey}\n${model}` : routeKey;
      const position = cursors.get(cursorKey) ?? 0;
      cursors.set(cursorKey, position + 1);
      return stepAt(sequence, position);
    },
  };
}

function matchesModel(step: Step, model: string): boolean {
  const wanted = step.match?.model;
  return Array.isArray(wanted) ? wanted.includes(model) : wanted === model;
}

/** The step at `position` once each step is expanded to `repeat` copies; the last step repeats forever. */
function stepAt(sequence: Step[], position: number): Step | undefined {
  let remaining = position;
  for (const step of sequence) {
    const times = step.repeat ?? 1;
    if (remaining < times) return step;
    remaining -= times;
  }
  return sequence.at(-1);
}

/** An exact route key wins; otherwise the first key whose `*` or `{name}` segments match. */
export function findRoute(routeKeys: readonly string[], method: string, path: string): string | undefined {
  const exact = `${method} ${path}`;
  if (routeKeys.includes(exact)) return exact;
  return routeKeys.find((key) => routeMatches(key, method, path));
}

function routeMatches(key: string, method: string, path: string): boolean {
  const [keyMethod, keyPath = ""] = key.split(" ", 2);
  if (keyMethod !== method) return false;
  const wanted = keyPath.split("/");
  const actual = path.split("/");
  if (wanted.length !== actual.length) return false;
  return wanted.every((segment, i) => segment === actual[i] || isWildcard(segment, actual[i]));
}

function isWildcard(segment: string, actual: string | undefined): boolean {
  const wildcard = segment === "*" || (segment.startsWith("{") && segment.endsWith("}"));
  return wildcard && actual !== undefined && actual !== "";
}
