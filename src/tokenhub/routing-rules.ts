import { ConfigError } from "../errors.ts";
import type { RoutingRule } from "../schema/config.ts";

export type RoutingReason = RoutingRule["reason"];

/**
 * How TokenHub says "this model format cannot be served for you". No code strings are published
 * (tokenhub-api.md, Errors), so each rule is a status list plus code and message patterns, matched
 * case-insensitively; either pattern matching is enough. Configured rules go first. Fixtures under
 * `fixtures/errors/` hold real and plausible bodies with the reason each must map to.
 */
export const DEFAULT_ROUTING_RULES: readonly RoutingRule[] = [
  {
    reason: "region_unavailable",
    statuses: [400, 403, 404, 422, 451, 502, 503],
    code: "region",
    message: "\\bregion|not available in (your|the selected|this) (area|location|country)",
  },
  {
    reason: "no_supplier",
    statuses: [400, 404, 422, 502, 503],
    // `_?` everywhere: OpenAI-style codes are snake_case, DashScope-style ones CamelCase (NoAvailableProvider).
    code: "no_?(available_?|eligible_?)?(supplier|provider|channel)|(supplier|provider)_?unavailable",
    message:
      "no (available |eligible |healthy )?(supplier|provider|upstream|channel)s?\\b|(supplier|provider)s? (is |are )?(not )?unavailable",
  },
  {
    reason: "model_not_offered",
    statuses: [400, 403, 404, 422],
    code: "model_?not_?(found|supported|available|exist)|invalid_?model|unsupported_?model|model_?unavailable",
    message:
      "model\\b.*\\b(not found|(does )?not exists?|doesn't exist|not supported|is not available|unavailable|not offered)",
  },
];

export interface CompiledRule {
  reason: RoutingReason;
  statuses: ReadonlySet<number>;
  code?: RegExp;
  message?: RegExp;
}

/**
 * Compiled once per list: a resolved config is deep-frozen, so a frozen list cannot have changed since it was
 * compiled, and every session of that config shares one compiled copy (frozen too) instead of holding its own.
 */
const compiled = new WeakMap<readonly RoutingRule[], readonly CompiledRule[]>();
const NO_EXTRA: readonly RoutingRule[] = Object.freeze([]);

export function compileRoutingRules(extra: readonly RoutingRule[] = NO_EXTRA): readonly CompiledRule[] {
  const key = extra.length === 0 ? NO_EXTRA : extra;
  const cached = compiled.get(key);
  if (cached) return cached;
  const rules = Object.freeze(compileAll(key));
  if (Object.isFrozen(key)) compiled.set(key, rules);
  return rules;
}

function compileAll(extra: readonly RoutingRule[]): CompiledRule[] {
  return [...extra, ...DEFAULT_ROUTING_RULES].map((rule) => ({
    reason: rule.reason,
    statuses: new Set(rule.statuses),
    ...(rule.code === undefined ? {} : { code: compile(rule.code) }),
    ...(rule.message === undefined ? {} : { message: compile(rule.message) }),
  }));
}

function compile(source: string): RegExp {
  try {
    return new RegExp(source, "i");
  } catch (cause) {
    throw new ConfigError(
      "invalid_routing_rule",
      `A routing rule pattern is not a valid regular expression: ${source}`,
      {
        remedy: "Fix the pattern in routingRules (JavaScript RegExp syntax).",
        cause,
      },
    );
  }
}

export function matchRoutingRule(
  rules: readonly CompiledRule[],
  status: number,
  error: { code: string | null; message: string },
): RoutingReason | null {
  for (const rule of rules) {
    if (!rule.statuses.has(status)) continue;
    if (rule.code && error.code !== null && rule.code.test(error.code)) return rule.reason;
    if (rule.message?.test(error.message)) return rule.reason;
  }
  return null;
}
