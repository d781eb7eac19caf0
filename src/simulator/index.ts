/**
 * `tokenhub-setup/simulator`: a TokenHub look-alike on loopback for your own tests, scripted by scenarios.
 *
 * ```ts
 * const sim = await startSimulator({ scenario: "rate-limited-seconds" });
 * // point the client at sim.baseUrl, then inspect sim.requests
 * await sim.close();
 * ```
 */
export { IMAGE_B64, MEDIA_CONTENT_TYPES, MEDIA_KINDS, type MediaKind, mediaBytes } from "./media.ts";
export {
  listScenarios,
  loadScenario,
  type NamedSseEvent,
  PLACEHOLDERS,
  parseScenario,
  SCENARIOS_DIR,
  type Scenario,
  ScenarioError,
  type ScenarioErrorCode,
  ScenarioSchema,
  type SseEvent,
  SseEventSchema,
  type Step,
  StepSchema,
} from "./scenario.ts";
export { type RecordedRequest, type Simulator, type SimulatorOptions, startSimulator } from "./server.ts";
