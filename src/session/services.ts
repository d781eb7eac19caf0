import { type AnyActorRef, fromPromise } from "xstate";
import { TokenHubSetupError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { setupMachine } from "../machine/chart.ts";
import {
  KEY_LOST,
  type ProbeInput,
  type ProbeOutput,
  type RecordRejectionInput,
  type RecordRejectionOutput,
  type ResolveKeyInput,
  type ResolveKeyOutput,
  type WriteStatusInput,
  type WriteStatusOutput,
} from "../machine/effects.ts";
import {
  type DownloadVideoInput,
  type MediaCallInput,
  type MediaStepOutput,
  mediaChecksMachine,
  type PollVideoInput,
  type PollVideoOutput,
  type SavedFileFacts,
  type SubmitVideoOutput,
} from "../machine/media-checks.ts";
import { withLastSuccess } from "../machine/record.ts";
import type { Config, MultimodalConfig } from "../schema/config.ts";
import { type Notification, STEP_TITLES } from "../schema/host.ts";
import type { CompletionRecord } from "../schema/record.ts";
import { maskKey } from "../secrets/key.ts";
import type { Keychain } from "../secrets/keychain.ts";
import { type KeySources, resolveKey, surveyKeys } from "../secrets/sources.ts";
import type { KeyVault } from "../secrets/vault.ts";
import type { StatusStore } from "../status/store.ts";
import { classify } from "../tokenhub/classify.ts";
import { classifyImage, classifyTask, type MediaFailure } from "../tokenhub/classify-media.ts";
import type { ApiRequest, ProbeResponse, TokenHubClient } from "../tokenhub/client.ts";
import { downloadMedia, type SavedMedia, saveMediaBytes } from "../tokenhub/download.ts";
import { imageGeneration, videoCreation, videoTaskPoll } from "../tokenhub/media-requests.ts";
import type { CompiledRule } from "../tokenhub/routing-rules.ts";
import { isLoopbackHost } from "../tokenhub/url.ts";
import type { Clock } from "./clock.ts";
import { runTransferHook, type TransferHook } from "./transfer-hook.ts";

/** What the multimodal checks need besides the client: their config, where files go, the hook. */
export interface MediaDeps {
  config: MultimodalConfig;
  dir: string;
  timeouts: Config["timeouts"];
  hook?: TransferHook;
}

export interface ServiceDeps {
  client: TokenHubClient;
  /** One attempt's limit (`timeouts.requestMs`), before it is clipped to what is left of the flow's deadline. */
  requestMs: number;
  rules: readonly CompiledRule[];
  sources: KeySources;
  vault: KeyVault;
  store: StatusStore;
  clock: Clock;
  logger: Logger;
  /** Where `remember` stores a handed-over key; absent when the keychain is switched off. */
  keychain?: Keychain;
  media: MediaDeps;
  /** Notifications from inside an effect (download progress), published like the machine's own. */
  notify: (notification: Notification) => void;
  /**
   * Called with the multimodal checks' actor as it starts (invoked, or restored from a snapshot), before its
   * first entry actions run: the session listens to what it emits and to its snapshots from there on.
   */
  checksStarting?: (checks: AnyActorRef) => void;
}

class KeyLostError extends TokenHubSetupError {}

/**
 * Each session's services, found through its actor system (shared by the root actor and the actors it invokes).
 * The machine is bound once per process: `machine.provide()` rebuilds the whole state-node tree, and doing that
 * per session cost ~25 KB of heap and ~0.25 ms of CPU (plus WeakMap-memo GC churn) for every session.
 */
const servicesBySystem = new WeakMap<object, ServiceDeps>();

/** Gives the actor (created from `boundMachine`, not yet started) its session's services. */
export function attachServices(actor: AnyActorRef, deps: ServiceDeps): void {
  servicesBySystem.set(actor.system, deps);
}

function servicesOf(system: unknown): ServiceDeps {
  const deps = servicesBySystem.get(system as object);
  if (!deps)
    throw new Error("tokenhub-setup: an actor of the bound machine was started without attachServices()");
  return deps;
}

/** Waits until an absolute time (a backoff, the next video poll): the clock decides, so tests need no real time. */
const sleep = fromPromise<void, { until: number }>(async ({ input, signal, system }) => {
  const { clock, logger } = servicesOf(system);
  logger.info({ retryAt: new Date(input.until).toISOString() }, "backing off");
  await clock.sleepUntil(input.until, signal);
});

/** The multimodal checks' effects (their machine is invoked by the chart, in the same actor system). */
function mediaActors() {
  return {
    generateImage: fromPromise<MediaStepOutput, MediaCallInput>(async ({ input, signal, system }) => {
      const deps = servicesOf(system);
      const { rules, clock, logger, media } = deps;
      // An image may come inline as base64 (tokenhub/gpt-image-2's default): the answer is read under the
      // media cap, grown by base64's 4/3, not the chat cap.
      const response = await mediaCall(
        deps,
        input,
        {
          ...imageGeneration(media.config.image, input.model),
          maxBytes: Math.ceil((media.config.maxDownloadBytes * 4) / 3) + INLINE_IMAGE_ENVELOPE_BYTES,
        },
        signal,
      );
      const outcome = classifyImage(response, rules);
      logger.info(
        {
          model: input.model,
          ok: outcome.ok,
          requestId: outcome.requestId,
          ...(outcome.ok ? { shape: outcome.shape } : { code: outcome.failure.code }),
        },
        "image generated",
      );
      if (!outcome.ok) return { error: outcome.failure, at: clock.now() };
      const baseName = `image-${fileStamp(clock.now())}`;
      return saveAndHandOver(deps, signal, { capability: "image", model: input.model, taskId: null }, () => {
        if (outcome.source.kind === "url")
          return downloadMedia(downloadRequest(deps, "image", outcome.source.url, baseName, signal));
        const bytes = decodeBase64(outcome.source.data, media.config.maxDownloadBytes);
        return saveMediaBytes(bytes, {
          kind: "image",
          dir: media.dir,
          baseName,
          maxBytes: media.config.maxDownloadBytes,
        });
      });
    }),

    submitVideo: fromPromise<SubmitVideoOutput, MediaCallInput>(async ({ input, signal, system }) => {
      const deps = servicesOf(system);
      const { rules, clock, logger, media } = deps;
      const response = await mediaCall(deps, input, videoCreation(media.config.video, input.model), signal);
      const outcome = classifyTask(response, rules);
      logger.info(
        {
          model: input.model,
          kind: outcome.kind,
          requestId: outcome.requestId,
          ...(outcome.kind === "task"
            ? { taskId: outcome.taskId, status: outcome.rawStatus }
            : { code: outcome.failure.code }),
        },
        "video task created",
      );
      const at = clock.now();
      if (outcome.kind !== "task") return { error: outcome.failure, at };
      if (outcome.status === "failed" || outcome.status === "cancelled") {
        return {
          error: {
            code: "media_task_failed",
            message: `TokenHub refused the video task (${outcome.rawStatus})${outcome.reason ? `: ${outcome.reason.message}` : "."}`,
            remedy: "Change the video prompt or model and run the check again.",
          },
          at,
        };
      }
      return { taskId: outcome.taskId, rawStatus: outcome.rawStatus, at };
    }),

    pollVideo: fromPromise<PollVideoOutput, PollVideoInput>(async ({ input, signal, system }) => {
      const deps = servicesOf(system);
      const { rules, clock, logger } = deps;
      // The poll due on the deadline still gets a short while to answer (at most one poll interval, 5 s), so
      // none runs longer than that past the deadline.
      const grace = Math.min(POLL_ON_DEADLINE_MS, deps.media.config.video.pollIntervalMs);
      const left = Math.max(input.deadline - clock.now(), grace);
      const response = await mediaCall(deps, input, videoTaskPoll(input.taskId, input.model), signal, left);
      const outcome = classifyTask(response, rules);
      const at = clock.now();
      if (outcome.kind === "task") {
        logger.info(
          { taskId: input.taskId, status: outcome.rawStatus, requestId: outcome.requestId },
          "video task polled",
        );
        return {
          status: outcome.status,
          rawStatus: outcome.rawStatus,
          url: outcome.url,
          reason: outcome.reason,
          error: null,
          at,
        };
      }
      logger.warn(
        { taskId: input.taskId, code: outcome.failure.code, requestId: outcome.requestId },
        "video poll failed",
      );
      return {
        status: outcome.kind === "retryable" ? "miss" : "failed",
        rawStatus: "",
        url: null,
        reason: null,
        error: outcome.failure,
        at,
      };
    }),

    downloadVideo: fromPromise<MediaStepOutput, DownloadVideoInput>(async ({ input, signal, system }) => {
      const deps = servicesOf(system);
      const baseName = `video-${input.taskId}`;
      return saveAndHandOver(
        deps,
        signal,
        { capability: "video", model: input.model, taskId: input.taskId },
        () => downloadMedia(downloadRequest(deps, "video", input.url, baseName, signal)),
      );
    }),
  };
}

/** The machine with its effects bound: the only place the statechart meets I/O. */
export const boundMachine = setupMachine.provide({
  actors: {
    resolveKey: fromPromise<ResolveKeyOutput, ResolveKeyInput>(async ({ input, system }) => {
      const { sources, vault, clock, logger } = servicesOf(system);
      const found = await resolveKey(sources, { explicit: vault.handedOver, rejected: input.rejected });
      for (const notice of found.notices) logger.warn({ notice }, "key source skipped");
      if (!found.key)
        return { found: false, sawRejected: found.sawRejected, notices: found.notices, at: clock.now() };
      vault.use(found.key);
      logger.info({ keySource: found.key.source }, "key found");
      return {
        found: true,
        source: found.key.source,
        fingerprint: found.key.fingerprint,
        hint: maskKey(found.key.reveal()),
        notices: found.notices,
        at: clock.now(),
      };
    }),

    probe: fromPromise<ProbeOutput, ProbeInput>(async ({ input, signal, system }) => {
      const deps = servicesOf(system);
      const { client, rules, clock, logger } = deps;
      const key = await keyFor(input, deps);
      const left = input.deadline - clock.now();
      // Past the deadline nothing is sent: the attempt counts as timed out, and the policy escalates.
      const response: ProbeResponse =
        left <= 0
          ? {
              type: "transport",
              code: "request_timeout",
              message: "the flow's deadline has passed",
              phase: "headers",
              latencyMs: 0,
            }
          : await client.chat({
              model: input.model,
              stream: input.stream,
              key,
              signal,
              timeoutMs: Math.min(deps.requestMs, left),
            });
      const outcome = classify(response, rules, { stream: input.stream });
      logger.info(
        {
          model: input.model,
          status: outcome.status,
          outcome: outcome.kind,
          requestId: outcome.requestId,
          latencyMs: outcome.latencyMs,
        },
        "attempt finished",
      );
      return { outcome, at: clock.now() };
    }),

    sleep,
    writeStatus: fromPromise<WriteStatusOutput, WriteStatusInput>(async ({ input, system }) => {
      const deps = servicesOf(system);
      const { vault, store, clock, logger } = deps;
      let record = input.record;
      const key = vault.current;
      // Only a key the user handed over and TokenHub accepted is worth remembering.
      if (input.remember && record.integration_status === "success" && key?.source === "event") {
        const note = deps.keychain
          ? await deps.keychain.set(key.reveal()).then(
              () => "The key was stored in the OS keychain.",
              (err: unknown) =>
                `The key was not stored: ${err instanceof TokenHubSetupError ? err.toLine() : "keychain error"}`,
            )
          : "The key was not stored: the OS keychain is switched off.";
        record = { ...record, notes: `${record.notes} ${note}` };
      }
      record = await keepingLastSuccess(store, record);
      await store.write(record);
      logger.info({ status: record.integration_status, location: store.location }, "record written");
      return { record, at: clock.now() };
    }),

    recordRejection: fromPromise<RecordRejectionOutput, RecordRejectionInput>(async ({ input, system }) => {
      const { store, sources, clock, logger } = servicesOf(system);
      let notice: string | null = null;
      try {
        await store.write(await keepingLastSuccess(store, input.record));
        logger.info({ status: "failed", location: store.location }, "401 recorded");
      } catch (err) {
        notice = `The failed check could not be recorded: ${err instanceof TokenHubSetupError ? err.toLine() : "write error"}`;
      }
      const otherKeys = await surveyKeys(sources, input.rejected);
      return { otherKeys, notice, at: clock.now() };
    }),

    mediaChecks: watchedChecks(mediaChecksMachine.provide({ actors: { sleep, ...mediaActors() } })),
  },
});

/**
 * The checks' machine, telling its session when an actor of it starts. xstate runs a logic's `start` before the
 * actor's first update, which is where the deferred initial entry actions (the checks' first `progress`) run,
 * so a listener attached here hears every notification. This replaces an xstate inspector per session: an
 * inspector is handed an event object for every action, event and snapshot of every actor in the system
 * (about 25 us per flow), while the session needs only the root's and the checks' snapshots and emits.
 */
function watchedChecks<T extends { start?: (snapshot: never, scope: never) => void }>(logic: T): T {
  const start = logic.start?.bind(logic) as ((snapshot: unknown, scope: unknown) => void) | undefined;
  Object.defineProperty(logic, "start", {
    value: (snapshot: unknown, scope: { self: AnyActorRef; system: unknown }) => {
      servicesOf(scope.system).checksStarting?.(scope.self);
      start?.(snapshot, scope);
    },
    configurable: true,
    writable: true,
  });
  return logic;
}

/**
 * A failed record keeps the last success from the record it replaces. The previous record is read only for a
 * failure (the happy path does no extra I/O); one that cannot be read is not kept, and does not stop the write.
 */
async function keepingLastSuccess(store: StatusStore, record: CompletionRecord): Promise<CompletionRecord> {
  if (record.integration_status === "success") return record;
  const previous = await store.read().catch(() => undefined);
  return withLastSuccess(record, previous);
}

/** `2026-11-24T22-50-00Z`: a timestamp that is a safe file name everywhere. */
function fileStamp(at: number): string {
  return new Date(at)
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replaceAll(":", "-");
}

function downloadRequest(
  deps: ServiceDeps,
  kind: "image" | "video",
  url: string,
  baseName: string,
  signal: AbortSignal,
) {
  const { media, notify, client } = deps;
  return {
    url,
    kind,
    // A remote API's links must lead to public hosts; the simulator's and a local gateway's point at loopback.
    allowPrivateHosts: isLoopbackHost(new URL(client.baseUrl).hostname),
    dir: media.dir,
    baseName,
    maxBytes: media.config.maxDownloadBytes,
    timeouts: { ...media.timeouts, requestMs: media.config.requestMs },
    signal,
    // Only large files are worth a progress line; small ones are done before anyone could read it.
    onProgress: ({ bytes, total }: { bytes: number; total: number | null }) => {
      if ((total ?? bytes) < 1024 * 1024) return;
      notify({
        type: "progress",
        step: 4,
        title: STEP_TITLES[4],
        capability: kind,
        detail: `${kind} check: downloaded ${mb(bytes)}${total ? ` of ${mb(total)}` : ""}`,
      });
    },
  };
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** base64 (or base64url) text to bytes, refusing what is not base64 instead of decoding it to garbage. */
function decodeBase64(data: string, maxBytes: number): Uint8Array {
  const text = data.replace(/\s+/g, "");
  if (text.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw new TokenHubSetupError("media_invalid_response", "The image's b64_json is not base64.", {
      remedy: "Run the check again; if it persists, report the model and request id to TokenHub.",
    });
  }
  if (Math.floor((text.length * 3) / 4) > maxBytes) {
    throw new TokenHubSetupError("media_too_large", `The inline image is larger than ${maxBytes} bytes.`, {
      remedy: "Raise the media size limit, or ask for a smaller size.",
    });
  }
  return Buffer.from(text, /[-_]/.test(text) ? "base64url" : "base64");
}

/** Saves the file (download or inline bytes), then hands it to the object-storage hook when there is one. */
async function saveAndHandOver(
  deps: ServiceDeps,
  signal: AbortSignal,
  what: { capability: "image" | "video"; model: string; taskId: string | null },
  save: () => Promise<SavedMedia>,
): Promise<MediaStepOutput> {
  const { clock, logger, media } = deps;
  let saved: SavedMedia;
  try {
    saved = await save();
  } catch (err) {
    if (signal.aborted || !(err instanceof TokenHubSetupError)) throw err;
    logger.warn({ capability: what.capability, code: err.code }, "media not saved");
    const failure: MediaFailure = { code: err.code, message: err.message, remedy: err.remedy };
    return { error: failure, at: clock.now() };
  }
  logger.info(
    { capability: what.capability, path: saved.path, bytes: saved.bytes, mime: saved.mime },
    "media saved",
  );
  const facts: SavedFileFacts = {
    file: saved.path,
    bytes: saved.bytes,
    mime: saved.mime,
    sha256: saved.sha256,
  };
  if (media.hook) {
    facts.transfer = await runTransferHook(media.hook, {
      ...what,
      path: saved.path,
      mime: saved.mime,
      bytes: saved.bytes,
      sha256: saved.sha256,
    });
    logger.info(
      { capability: what.capability, transfer: facts.transfer.status },
      "media handed to the transfer hook",
    );
  }
  return { saved: facts, at: clock.now() };
}

/** Room for the JSON around an inline base64 image (other fields, usage, the request id). */
const INLINE_IMAGE_ENVELOPE_BYTES = 64 * 1024;

/** How long the poll due on the video deadline may take: a deadline poll with no time to answer is no poll. */
const POLL_ON_DEADLINE_MS = 5_000;

/** One multimodal call to TokenHub: the flow's key, the request's shape, the multimodal time limit. */
async function mediaCall(
  deps: ServiceDeps,
  input: Pick<ProbeInput, "keySource" | "keyFingerprint">,
  call: Omit<ApiRequest, "key" | "signal" | "timeoutMs">,
  signal: AbortSignal,
  /** What is left of a deadline, when the call has one. */
  left = Number.POSITIVE_INFINITY,
) {
  const key = await keyFor(input, deps);
  return deps.client.call({ ...call, key, signal, timeoutMs: Math.min(deps.media.config.requestMs, left) });
}

/**
 * The key for an attempt: the one in use, or (after a restore in a fresh process) the same key re-read from the
 * source the flow recorded. A key that was only ever in an earlier process's memory is lost: Step-2 again.
 */
async function keyFor(input: Pick<ProbeInput, "keySource" | "keyFingerprint">, deps: ServiceDeps) {
  const { vault, sources } = deps;
  const current = vault.current;
  if (current && current.fingerprint === input.keyFingerprint) return current;
  const handed = vault.handedOver;
  if (handed && handed.fingerprint === input.keyFingerprint) return handed;
  if (input.keySource && input.keySource !== "event") {
    const again = await resolveKey(sources, { only: input.keySource });
    if (again.key && again.key.fingerprint === input.keyFingerprint) {
      vault.use(again.key);
      return again.key;
    }
  }
  throw new KeyLostError(KEY_LOST, "The key this flow was using is no longer available.", {
    remedy: "Supply the key again.",
  });
}
