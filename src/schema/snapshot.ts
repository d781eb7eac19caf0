import { z } from "zod";

export const SNAPSHOT_FORMAT = "tokenhub-setup.snapshot";
export const SNAPSHOT_FORMAT_VERSION = 1;

/**
 * What a host stores between turns. `snapshot` is xstate's persisted snapshot, taken only at rest states;
 * `machineVersion` changes whenever the statechart changes shape, and a mismatch is refused, not guessed at.
 */
export const SnapshotEnvelopeSchema = z
  .object({
    format: z.literal(SNAPSHOT_FORMAT),
    formatVersion: z.literal(SNAPSHOT_FORMAT_VERSION),
    machineVersion: z.string(),
    savedAt: z.iso.datetime(),
    state: z.string(),
    snapshot: z.looseObject({ status: z.string(), value: z.unknown(), context: z.looseObject({}) }),
  })
  .strict();
export type SnapshotEnvelope = z.infer<typeof SnapshotEnvelopeSchema>;
