/**
 * The effects the chart invokes (key sources, the probe, the record store), by their inputs and outputs. The
 * chart declares them unprovided; `session/services.ts` provides the real ones, tests provide fakes.
 */
import { fromPromise } from "xstate";
import type { KeyHint } from "../schema/host.ts";
import type { CompletionRecord, KeySource } from "../schema/record.ts";
import type { Outcome } from "../tokenhub/classify.ts";

export { KEY_LOST } from "./failures.ts";

/** An effect a machine invokes; `machine.provide()` (session/services.ts) gives the real one. */
export function notProvided<Output, Input>(name: string) {
  return fromPromise<Output, Input>(async () => {
    throw new Error(`the ${name} actor was not provided; use machine.provide()`);
  });
}

export type ResolveKeyOutput =
  | { found: true; source: KeySource; fingerprint: string; hint: string; notices: string[]; at: number }
  | { found: false; sawRejected: boolean; notices: string[]; at: number };
export interface ResolveKeyInput {
  rejected: string[];
}
export interface ProbeInput {
  model: string;
  stream: boolean;
  keySource: KeySource | null;
  keyFingerprint: string | null;
  /** When the whole flow must be over (epoch ms): no attempt may run past it. */
  deadline: number;
}
export interface ProbeOutput {
  outcome: Outcome;
  at: number;
}
export interface WriteStatusInput {
  record: CompletionRecord;
  remember: boolean;
}
export interface WriteStatusOutput {
  record: CompletionRecord;
  at: number;
}
export interface RecordRejectionInput {
  record: CompletionRecord;
  /** Fingerprints of the keys rejected so far: the survey of the sources leaves them out. */
  rejected: string[];
}
export interface RecordRejectionOutput {
  otherKeys: KeyHint[];
  /** Set when the failed record could not be written (the flow still asks for a key). */
  notice: string | null;
  at: number;
}
