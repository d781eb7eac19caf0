import { randomBytes } from "node:crypto";
import type { Simulator } from "../simulator/index.ts";

/** `--simulate`: the simulator on a loopback port, and the one key it accepts, for Step-1 to find. */
export interface Demo {
  sim: Simulator;
  /** Step-1's sources for the demo: only its key, no keychain. */
  sources: { env: { TOKENHUB_API_KEY: string }; keychain: false };
}

/**
 * Starts the simulator for `--simulate` with a fresh demo key per run (scrubbed like any real key), which it
 * alone accepts. Throws the simulator's error for an unknown scenario.
 */
export async function startDemo(scenario = "happy"): Promise<Demo> {
  const demoKey = `sk-sim-${randomBytes(12).toString("hex")}`;
  // Loaded only for --simulate: the simulator pulls node:http, and with it Node's own undici (~50 ms).
  const { startSimulator } = await import("../simulator/index.ts");
  const sim = await startSimulator({ scenario, acceptKeys: [demoKey] });
  return { sim, sources: { env: { TOKENHUB_API_KEY: demoKey }, keychain: false } };
}
