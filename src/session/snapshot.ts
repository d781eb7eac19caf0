import type { z } from "zod";
import { SnapshotError } from "../errors.ts";
import { MACHINE_VERSION, MEDIA_CHECKS_ID, setupMachine } from "../machine/chart.ts";
import { type Settings, type SetupContext, withPreferences } from "../machine/context.ts";
import { invokedIn, type Rest, restOfStored, type StoredChild, stateName } from "../machine/face.ts";
import { mediaChecksMachine } from "../machine/media-checks.ts";
import { outputOf } from "../machine/record.ts";
import { MAX_DURATION_MS } from "../schema/config.ts";
import { StoredFlowContextSchema, StoredMediaChecksContextSchema } from "../schema/flow.ts";
import { PreferencesSchema } from "../schema/host.ts";
import {
  SNAPSHOT_FORMAT,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotEnvelope,
  SnapshotEnvelopeSchema,
} from "../schema/snapshot.ts";
import { scrubbedLine, scrubDeep } from "../secrets/scrubber.ts";

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
  const value = boundedJson(raw);
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
  // Checked against the context's one definition (schema/flow.ts); what it does not know is dropped.
  const context = StoredFlowContextSchema.safeParse(snapshot.context);
  if (!context.success)
    throw corrupt(`context.${context.error.issues[0]?.path.join(".")}: ${context.error.issues[0]?.message}`);
  snapshot.context = context.data;
  // The checks' machine, when the flow rests inside it: its context checked the same way; every other stored
  // child is dropped (the restore rebuilds the one a waiting state runs).
  const checks = storedChecks((snapshot as { children?: unknown }).children);
  if (checks && invokedIn(snapshot.value)?.id !== MEDIA_CHECKS_ID)
    throw corrupt("it stores the multimodal checks under a state that does not run them");
  (snapshot as { children?: unknown }).children = checks ? { [MEDIA_CHECKS_ID]: checks } : {};
  const rest = storedRest(envelope.data);
  if (!rest || rest.state !== state) {
    throw corrupt(`the snapshot is not at a rest state (${stateName(snapshot.value).slice(0, 80)})`);
  }
  if (rest.wait?.for === "video" && checks?.snapshot.context.task === null)
    throw corrupt("a video wait without its task");
  restsOpened.set(envelope.data, rest);
  return envelope.data;
}

/**
 * The rest each envelope `openEnvelope` returned was found to be in: resolving it against the chart is most of
 * what a restore costs besides xstate itself, and the restore needs it again. The envelope is a fresh object of
 * openEnvelope's own (parsed from JSON text), so nothing can have changed it in between.
 */
const restsOpened = new WeakMap<SnapshotEnvelope, Rest>();

interface StoredChecks {
  src: string;
  snapshot: { status: "active"; value: unknown; context: z.infer<typeof StoredMediaChecksContextSchema> };
}

function storedChecks(children: unknown): StoredChecks | undefined {
  const child = (children as Record<string, unknown> | undefined)?.[MEDIA_CHECKS_ID] as
    | { src?: unknown; snapshot?: { status?: unknown; value?: unknown; context?: unknown } }
    | undefined;
  if (!child) return undefined;
  if (child.src !== "mediaChecks" || child.snapshot?.status !== "active")
    throw corrupt("the multimodal checks are stored as something else");
  const context = StoredMediaChecksContextSchema.safeParse(child.snapshot.context);
  if (!context.success)
    throw corrupt(
      `the checks' context.${context.error.issues[0]?.path.join(".")}: ${context.error.issues[0]?.message}`,
    );
  return {
    src: child.src,
    snapshot: { status: "active", value: child.snapshot.value, context: context.data },
  };
}

/** Where an opened envelope's flow stands (what resumes it, its wait), without restoring it. */
export function restOfEnvelope(envelope: SnapshotEnvelope): Rest {
  return restsOpened.get(envelope) ?? (storedRest(envelope) as Rest);
}

/** The stored value resolved against the chart; a value the chart does not have is no rest at all. */
function storedRest(envelope: SnapshotEnvelope): Rest | null {
  const stored = envelope.snapshot as unknown as {
    value: unknown;
    context: SetupContext;
    children?: Record<string, StoredChild>;
  };
  try {
    return restOfStored(stored.value, { ...stored.context, outcome: null, decision: null }, stored.children);
  } catch {
    return null;
  }
}

/** How far ahead of this process's clock another process's "now" may have been. */
const CLOCK_SKEW_MS = 60_000;

/** A real snapshot is a few kilobytes; these bound what a tampered one can make the restore do. */
const MAX_SNAPSHOT_CHARS = 256 * 1024;
const MAX_SNAPSHOT_DEPTH = 32;

/**
 * The snapshot as plain JSON data within bounds: text parsed, an object serialised and parsed again (no
 * getters, prototypes, cycles or class instances survive), at most 256 KiB and 32 levels deep, checked by a
 * recursion that stops at that depth, so that no nesting can overflow the stack.
 */
function boundedJson(raw: unknown): unknown {
  let text: string | undefined;
  try {
    text = typeof raw === "string" ? raw : JSON.stringify(raw);
  } catch {
    throw corrupt("the snapshot is not JSON data");
  }
  if (text === undefined) throw corrupt("the snapshot is not JSON data");
  if (text.length > MAX_SNAPSHOT_CHARS)
    throw corrupt(`the snapshot is ${text.length} characters, more than a snapshot ever holds`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No cause: V8's SyntaxError quotes the text around the error, and a corrupt snapshot may hold anything.
    throw corrupt("the snapshot is not valid JSON");
  }
  checkDepth(value, 0);
  return value;
}

/** Recursion bounded by MAX_SNAPSHOT_DEPTH: at most 32 frames, whatever the nesting (JSON.parse has parsed it). */
function checkDepth(node: unknown, depth: number): void {
  if (node === null || typeof node !== "object") return;
  if (depth >= MAX_SNAPSHOT_DEPTH)
    throw corrupt(`the snapshot nests deeper than ${MAX_SNAPSHOT_DEPTH} levels`);
  if (Array.isArray(node)) {
    for (const child of node) checkDepth(child, depth + 1);
    return;
  }
  for (const key in node) checkDepth((node as Record<string, unknown>)[key], depth + 1);
}

/**
 * The xstate snapshot to restore, built from a checked envelope and the current settings. Settings come from
 * the current config, never from storage (a stored retry limit of 25, deadline or console URL does not apply),
 * except what SETUP chose for this conversation (model chain, streaming, the multimodal checks), held to
 * SETUP's own rules; a snapshot made for another base URL is refused (`snapshot_config_changed`): its attempts
 * and its record would name one origin while the requests go to another. The rest is made consistent with the state: status, output and
 * the one child a waiting state runs (its wake-up time taken from the context) are rebuilt, not trusted; a
 * final state without what it ends with (the record, the failure) is corrupt.
 */
export function restorableSnapshot(envelope: SnapshotEnvelope, settings: Settings, now: number): unknown {
  const stored = envelope.snapshot as unknown as {
    value: unknown;
    context: SetupContext;
    children: Record<string, StoredChecks | undefined>;
  };
  const context = stored.context;
  const checks = stored.children[MEDIA_CHECKS_ID]?.snapshot;
  const state = envelope.state;
  // Times are epoch milliseconds a date can hold: what happened lies in the past (a minute of clock skew
  // allowed), what is awaited at most a day ahead. A task "created" in the year 33658 would be polled without
  // end; -1e16 would throw a RangeError the first time it is written as a date.
  const past = [
    context.run.startedAt,
    context.now,
    checks?.context.startedAt,
    checks?.context.task?.createdAt,
  ];
  const ahead = [context.run.retryAt, checks?.context.task?.pollAt];
  if (past.some((t) => typeof t === "number" && (t < 0 || t > now + CLOCK_SKEW_MS)))
    throw corrupt("it holds a time that has not come yet");
  if (ahead.some((t) => typeof t === "number" && (t < 0 || t > now + MAX_DURATION_MS)))
    throw corrupt("it waits for a time out of range");
  if (context.settings.baseUrl !== settings.baseUrl)
    throw configChanged(
      `it was made for ${scrubbedLine(String(context.settings.baseUrl), 200)}, the configuration says ${settings.baseUrl}`,
    );
  // What SETUP may choose per conversation (the chain, streaming, the checks) is the conversation's own, held
  // to the event's own rules; everything else is the current config's.
  const own = PreferencesSchema.safeParse({
    modelChain: context.settings.modelChain,
    stream: context.settings.stream,
    multimodal: context.settings.multimodal?.capabilities,
  });
  if (!own.success) throw corrupt("its stored preferences are not ones SETUP accepts");
  const restoredSettings = withPreferences(settings, own.data);
  if (context.run.modelIndex >= restoredSettings.modelChain.length)
    throw corrupt("its model index is past the chain");
  const restored: SetupContext = { ...context, outcome: null, decision: null, settings: restoredSettings };
  // A check the conversation never asked for cannot have ended: its entry would be forged into the record.
  const asked = new Set<string>(restoredSettings.multimodal.capabilities);
  if (checks && Object.keys(checks.context.checks).some((capability) => !asked.has(capability)))
    throw corrupt("it holds the result of a check that was not asked for");

  const rest = restOfEnvelope(envelope);
  let wakeUp: Record<string, unknown> = {};
  if (rest.wait) {
    if (!Number.isFinite(rest.wait.until)) throw corrupt(`a ${state} wait without its time`);
    // The one child a wait runs, keyed as xstate names an invocation: index, machine id, state.
    const [, inner] = checks ? state.split(".") : [undefined, state];
    wakeUp = {
      [`0.${checks ? mediaChecksMachine.id : setupMachine.id}.${inner}`]: {
        snapshot: { status: "active", input: { until: rest.wait.until } },
        src: "sleep",
        syncSnapshot: false,
      },
    };
  }
  const children: Record<string, unknown> = checks
    ? {
        [MEDIA_CHECKS_ID]: {
          src: "mediaChecks",
          syncSnapshot: false,
          snapshot: {
            status: "active",
            value: checks.value,
            historyValue: {},
            // Settings and key are the chart's, as restored: the stored ones are not trusted.
            context: {
              ...checks.context,
              settings: restored.settings.multimodal,
              key: { source: restored.key.source, fingerprint: restored.key.fingerprint },
              decision: null,
            },
            children: wakeUp,
          },
        },
      }
    : wakeUp;

  if (rest.wait?.for === "video" && context.record?.integration_status !== "success")
    throw corrupt("a video wait without the verified record it follows");
  if (!rest.final) {
    return { status: "active", value: stored.value, historyValue: {}, context: restored, children };
  }
  // The context's record and failure, when present, are valid: openEnvelope parsed them with the context's own
  // schema (StoredFlowContextSchema), so only their presence is checked here, not their shape a second time.
  if (state === "complete") {
    if (context.record?.integration_status !== "success" || context.failure !== null)
      throw corrupt("a completed setup without its record");
  }
  if (state === "escalated" && context.failure === null) throw corrupt("an escalation without its failure");
  if (state === "cancelled" && typeof context.cancelReason !== "string")
    throw corrupt("a cancelled setup without its reason");
  if (state !== "cancelled" && context.cancelReason !== null)
    throw corrupt(`a ${state} setup marked cancelled`);
  return {
    status: "done",
    value: stored.value,
    historyValue: {},
    context: restored,
    children,
    output: outputOf(restored),
  };
}

function configChanged(detail: string): SnapshotError {
  return new SnapshotError(
    "snapshot_config_changed",
    `The stored setup no longer fits the configuration: ${detail}.`,
    {
      remedy: "It is set aside; the setup starts again from the current configuration.",
    },
  );
}

function corrupt(detail: string, cause?: unknown): SnapshotError {
  return new SnapshotError("snapshot_corrupt", `The snapshot is corrupt: ${detail}.`, {
    remedy: "Discard it and start the setup again with SETUP.",
    cause,
  });
}

/** Where a stored snapshot's flow stands, without restoring it; null when there is none a restore would take. */
export function restOfSnapshot(raw: unknown): Rest | null {
  if (raw === undefined) return null;
  try {
    return restOfEnvelope(openEnvelope(raw));
  } catch (err) {
    if (err instanceof SnapshotError) return null;
    throw err;
  }
}
