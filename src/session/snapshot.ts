import { z } from "zod";
import { SnapshotError } from "../errors.ts";
import { MACHINE_VERSION, REST_STATES, stateName } from "../machine/setup-machine.ts";
import { TASK_ID_PATTERN } from "../schema/media.ts";
import {
  SNAPSHOT_FORMAT,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotEnvelope,
  SnapshotEnvelopeSchema,
} from "../schema/snapshot.ts";
import { scrubDeep } from "../secrets/scrubber.ts";

// The parts of context a restored flow relies on; a snapshot that lacks them is corrupt, not "mostly fine".
const PersistedContextSchema = z.looseObject({
  settings: z.looseObject({
    modelChain: z.array(z.string()).min(1),
    stream: z.boolean(),
    totalMs: z.number(),
    baseUrl: z.string(),
    retry: z.looseObject({ maxAttempts: z.number(), serverDelayCapMs: z.number() }),
  }),
  startedAt: z.number(),
  seed: z.number(),
  modelIndex: z.number().int().min(0),
  attempt: z.number().int().min(0),
  attempts: z.array(z.unknown()),
  rejected: z.array(z.string()),
  retryAt: z.number().nullable(),
  media: z.looseObject({}),
  // Its id goes into the poll's URL path: a tampered one must not steer the request.
  videoTask: z
    .looseObject({
      id: z.string().regex(TASK_ID_PATTERN),
      createdAt: z.number(),
      pollAt: z.number(),
      polls: z.number().int().min(0),
      misses: z.number().int().min(0),
    })
    .nullable(),
});

export function makeEnvelope(state: string, persisted: unknown, savedAt: number): SnapshotEnvelope {
  return scrubDeep({
    format: SNAPSHOT_FORMAT,
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    machineVersion: MACHINE_VERSION,
    savedAt: new Date(savedAt).toISOString(),
    state,
    snapshot: persisted as SnapshotEnvelope["snapshot"],
  });
}

/**
 * Accepts only our own envelope, from this machine version, at a rest state, with a sane context. Anything else
 * is a SnapshotError with a remedy (start over), never a crash halfway through a restore.
 */
export function openEnvelope(raw: unknown): SnapshotEnvelope {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      // No cause: V8's SyntaxError quotes the text around the error, and a corrupt snapshot may hold anything.
      throw corrupt("the snapshot is not valid JSON");
    }
  }
  const envelope = SnapshotEnvelopeSchema.safeParse(value);
  if (!envelope.success) {
    const format = (value as { format?: unknown } | null)?.format;
    if (format !== SNAPSHOT_FORMAT) {
      throw new SnapshotError("snapshot_foreign", "The snapshot was not written by tokenhub-setup.", {
        remedy: "Discard it and start the setup again with SETUP.",
      });
    }
    throw corrupt(envelope.error.issues[0]?.message ?? "the envelope does not match", envelope.error);
  }
  if (envelope.data.machineVersion !== MACHINE_VERSION) {
    throw new SnapshotError(
      "snapshot_version",
      `The snapshot is from machine ${envelope.data.machineVersion}; this is ${MACHINE_VERSION}.`,
      { remedy: "Discard it and start the setup again with SETUP." },
    );
  }
  const { snapshot, state } = envelope.data;
  if (stateName(snapshot.value) !== state || !REST_STATES.has(state)) {
    throw corrupt(`the snapshot is not at a rest state (${stateName(snapshot.value).slice(0, 80)})`);
  }
  const context = PersistedContextSchema.safeParse(snapshot.context);
  if (!context.success)
    throw corrupt(`context.${context.error.issues[0]?.path.join(".")}: ${context.error.issues[0]?.message}`);
  if (state === "multimodal.videoWaiting" && context.data.videoTask === null)
    throw corrupt("a video wait without its task");
  return envelope.data;
}

function corrupt(detail: string, cause?: unknown): SnapshotError {
  return new SnapshotError("snapshot_corrupt", `The snapshot is corrupt: ${detail}.`, {
    remedy: "Discard it and start the setup again with SETUP.",
    cause,
  });
}
