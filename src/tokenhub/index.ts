export { classify, type InvalidReason, type Outcome, type OutcomeKind } from "./classify.ts";
export {
  type ClientOptions,
  createTokenHubClient,
  PROBE_PROMPT,
  type ProbeRequest,
  type TokenHubClient,
} from "./client.ts";
export type { ProbeResponse } from "./response.ts";
export { parseRetryAfter } from "./retry-after.ts";
export {
  compileRoutingRules,
  DEFAULT_ROUTING_RULES,
  matchRoutingRule,
  type RoutingReason,
} from "./routing-rules.ts";
export { endpointUrl, isLoopbackHost, parseBaseUrl } from "./url.ts";
