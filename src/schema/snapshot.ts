import type { z } from "zod";
import { lazy, once, zod } from "./lazy.ts";

import { SNAPSHOT_FORMAT, SNAPSHOT_FORMAT_VERSION } from "./values.ts";

export { SNAPSHOT_FORMAT, SNAPSHOT_FORMAT_VERSION };

/** This module's schemas, built on first use (see lazy.ts). */
const build = once(() => {
  const z = zod();
  /**
   * What a host stores between turns. `snapshot` is xstate's persisted snapshot, taken only at rest states;
   * `machineVersion` changes whenever the statechart changes shape, and a mismatch is refused, not guessed at.
   */
  const SnapshotEnvelopeSchema = z
    .object({
      format: z.literal(SNAPSHOT_FORMAT),
      formatVersion: z.literal(SNAPSHOT_FORMAT_VERSION),
      machineVersion: z.string(),
      savedAt: z.iso.datetime(),
      state: z.string(),
      snapshot: z.looseObject({ status: z.string(), value: z.unknown(), context: z.looseObject({}) }),
    })
    .strict();
  return { SnapshotEnvelopeSchema };
});

/**
 * What a host stores between turns. `snapshot` is xstate's persisted snapshot, taken only at rest states;
 * `machineVersion` changes whenever the statechart changes shape, and a mismatch is refused, not guessed at.
 */
export const SnapshotEnvelopeSchema = lazy(() => build().SnapshotEnvelopeSchema);
export type SnapshotEnvelope = z.infer<typeof SnapshotEnvelopeSchema>;
