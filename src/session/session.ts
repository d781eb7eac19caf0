import { randomInt, randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { type Actor, createActor, type Subscription, toPromise } from "xstate";
import { EventError, TokenHubSetupError } from "../errors.ts";
import { createLogger, type Logger } from "../log.ts";
import type { SetupMachine } from "../machine/chart.ts";
import type { Settings, SetupEvent } from "../machine/context.ts";
import { type Rest, restOf, whereIs } from "../machine/face.ts";
import { needKeyNotification } from "../machine/notifications.ts";
import type { Config, ConfigInput } from "../schema/config.ts";
import { type HostEvent, HostEventSchema, type Notification, type Output } from "../schema/host.ts";
import type { SnapshotEnvelope } from "../schema/snapshot.ts";
import { parseKey } from "../secrets/key.ts";
import { createKeychain, type Keychain } from "../secrets/keychain.ts";
import { scrubDeep } from "../secrets/scrubber.ts";
import type { KeySources } from "../secrets/sources.ts";
import { KeyVault } from "../secrets/vault.ts";
import { defaultMediaDir, defaultStatusPath } from "../status/paths.ts";
import { createFileStatusStore, type StatusStore } from "../status/store.ts";
import type { TokenHubClient } from "../tokenhub/client.ts";
import { compileRoutingRules } from "../tokenhub/routing-rules.ts";
import { type Clock, systemClock } from "./clock.ts";
import { clientFor, resolveConfig } from "./config.ts";
import { attachServices, boundMachine } from "./services.ts";
import { makeEnvelope, openEnvelope, restorableSnapshot } from "./snapshot.ts";
import { commandTransferHook, type TransferHook } from "./transfer-hook.ts";

export interface SessionOptions {
  /** The skill's config; one `resolveConfig` returned is used as it is (not resolved twice). @default {} */
  config?: ConfigInput | Config;
  /** Where Step-1 looks. @default { env: process.env, keychain: the OS keychain (lazily loaded) } */
  sources?: KeySources;
  /** @default a file store at config.statusPath or $XDG_STATE_HOME/tokenhub-setup/status.json */
  store?: StatusStore;
  /** @default the system clock */
  clock?: Clock;
  /** @default pino JSON on stderr at config.logLevel (or TOKENHUB_SETUP_LOG_LEVEL, else info), scrubbed */
  logger?: Logger;
  /** A client shared between sessions (one connection pool); otherwise the session owns one. */
  client?: TokenHubClient;
  /**
   * "Transfer into your object storage": called with each file a multimodal check saved. Overrides
   * `multimodal.transferCommand` from the config.
   */
  transferHook?: TransferHook;
  /** Resume from a snapshot a host stored (an envelope object or its JSON text). */
  snapshot?: unknown;
  id?: string;
}

export { resolveConfig };

export type NotificationListener = (notification: Notification) => void;

export interface Session {
  readonly id: string;
  /** Validates and sends a host event. A key in KEY_PROVIDED is taken out before the machine sees the event. */
  send(event: HostEvent): void;
  /** Every notification, scrubbed, in order. Returns an unsubscribe function. */
  subscribe(listener: NotificationListener): () => void;
  /** The current state's name (for logs; decide on `rest`). */
  readonly state: string;
  /** Where the flow stands when it is at rest (what resumes it, until when it waits, its exit code); else null. */
  readonly rest: Rest | null;
  readonly atRest: boolean;
  /**
   * Resolves at the next rest state: awaitingKey, a final state, or a wait (backingOff,
   * multimodal.videoWaiting) that ends more than `restOnBackoffLongerThanMs` from now (never, by default).
   */
  untilRest(options?: { restOnBackoffLongerThanMs?: number }): Promise<string>;
  /** Resolves with the output once a final state is reached. */
  done(): Promise<Output>;
  /** The envelope to persist; only at rest states (SnapshotError elsewhere). */
  snapshot(): SnapshotEnvelope;
  stop(): Promise<void>;
}

/**
 * Settings made per config (configs are deep-frozen and cached per process) and base URL: every session of a
 * host shares one frozen object in its context instead of holding a copy (a parked session is smaller).
 */
const settingsByConfig = new WeakMap<Config, Settings>();

/** The part of the config the statechart carries in its context (and so in every snapshot). */
export function machineSettings(config: Config, baseUrl: string): Settings {
  const known = settingsByConfig.get(config);
  if (known?.baseUrl === baseUrl) return known;
  const settings = Object.freeze(settingsOf(config, baseUrl));
  Object.freeze(settings.multimodal);
  if (Object.isFrozen(config)) settingsByConfig.set(config, settings);
  return settings;
}

function settingsOf(config: Config, baseUrl: string): Settings {
  return {
    modelChain: config.modelChain,
    retry: config.retry,
    totalMs: config.timeouts.totalMs,
    stream: config.stream,
    baseUrl,
    consoleUrl: config.consoleUrl,
    contactUrl: config.contactUrl,
    multimodal: {
      capabilities: config.multimodal.capabilities,
      imageModel: config.multimodal.image.model,
      videoModel: config.multimodal.video.model,
      pollIntervalMs: config.multimodal.video.pollIntervalMs,
      deadlineMs: config.multimodal.video.deadlineMs,
    },
  };
}

export function createSession(options: SessionOptions = {}): Session {
  const config = resolveConfig(options.config);
  const rules = compileRoutingRules(config.routingRules);
  const envelope = options.snapshot === undefined ? undefined : openEnvelope(options.snapshot);
  const clock = options.clock ?? systemClock;
  const id = options.id ?? randomUUID();
  const logger = (options.logger ?? createLogger(config.logLevel ? { level: config.logLevel } : {})).child({
    sessionId: id,
  });
  const ownsClient = options.client === undefined;
  const client = options.client ?? clientFor(config);
  const keychain: Keychain | undefined =
    options.sources?.keychain === false
      ? undefined
      : (options.sources?.keychain ?? createKeychain(config.keychainService, config.keychainAccount));
  const sources: KeySources = {
    env: options.sources?.env ?? process.env,
    ...(options.sources?.hostSecret ? { hostSecret: options.sources.hostSecret } : {}),
    keychain: keychain ?? false,
    ...(options.sources?.keyFile ? { keyFile: options.sources.keyFile } : {}),
  };
  const vault = new KeyVault();
  const store = options.store ?? createFileStatusStore(config.statusPath ?? defaultStatusPath());

  const settings = machineSettings(config, client.baseUrl);
  // Checked and rebuilt against the current settings before xstate sees it: a stored snapshot is untrusted.
  const restored = envelope ? restorableSnapshot(envelope, settings, clock.now()) : undefined;
  const listeners = new Set<NotificationListener>();
  const publish = (notification: Notification) => {
    if (listeners.size === 0) return; // nobody listening: no need to scrub a copy
    const clean = scrubDeep(notification);
    for (const listener of listeners) listener(clean);
  };
  // Both actors of the flow that have states (the chart, and the checks' machine it invokes) report here: the
  // chart's own subscribers hear nothing while only the checks move, and the checks emit their progress
  // themselves (services.ts hands the session the checks' actor as it starts: `checksStarting`).
  const changed = new Set<() => void>();
  let lastState = "";
  const moved = () => {
    if (logger.isLevelEnabled("debug")) {
      const state = whereIs(actor.getSnapshot());
      if (state !== lastState) logger.debug({ from: lastState || "(start)", to: state }, "transition");
      lastState = state;
    }
    for (const listener of changed) listener();
  };
  const actor: Actor<SetupMachine> = createActor(boundMachine, {
    input: { settings },
    ...(restored ? { snapshot: restored as never } : {}),
  });
  const { transferCommand } = config.multimodal;
  let mediaDir: string | undefined;
  const hook =
    options.transferHook ??
    (transferCommand
      ? commandTransferHook(transferCommand, { timeoutMs: config.multimodal.requestMs })
      : undefined);
  attachServices(actor, {
    client,
    requestMs: config.timeouts.requestMs,
    rules,
    sources,
    vault,
    store,
    clock,
    logger,
    ...(keychain ? { keychain } : {}),
    media: {
      config: config.multimodal,
      // Found when a check first saves a file: most flows run none, and the default is a few path joins.
      get dir() {
        mediaDir ??= config.multimodal.outputDir ?? defaultMediaDir();
        return mediaDir;
      },
      timeouts: config.timeouts,
      ...(hook ? { hook } : {}),
    },
    notify: publish,
    checksStarting: (checks) => {
      checks.on("*", (emitted: unknown) => publish(emitted as Notification));
      // Its errors reach the chart as the invocation's error event; this observer only keeps time.
      checks.subscribe({ next: moved, error: () => {} });
    },
  });
  actor.on("*", (emitted) => publish(emitted as Notification));
  actor.subscribe({ next: moved, error: (err) => logger.error({ err }, "the setup flow crashed") });
  actor.start();

  const stateOf = () => whereIs(actor.getSnapshot());

  const session: Session = {
    id,
    get state() {
      return stateOf();
    },
    get rest() {
      return restOf(actor.getSnapshot());
    },
    get atRest() {
      return restOf(actor.getSnapshot()) !== null;
    },
    send(event) {
      const parsed = HostEventSchema.safeParse(event);
      if (!parsed.success) {
        // The issue text may quote the event, and a malformed KEY_PROVIDED may carry a key: scrub via the error.
        throw new EventError(
          "invalid_event",
          `Not a tokenhub-setup event: ${parsed.error.issues[0]?.message ?? "invalid"}.`,
          {
            remedy: "Send one of SETUP, KEY_PROVIDED, KEY_READY or CANCEL as the manifest describes.",
          },
        );
      }
      const machineEvent = toMachineEvent(parsed.data);
      if (machineEvent) actor.send(machineEvent);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    untilRest(opts = {}) {
      const longWait = opts.restOnBackoffLongerThanMs ?? Number.POSITIVE_INFINITY;
      const resting = () => {
        const rest = restOf(actor.getSnapshot());
        // Not started yet is no rest to report; a wait is one only when it is long: short ones are waited out
        // (the host said how long is long).
        if (!rest || rest.resumeWith === "SETUP") return undefined;
        if (rest.wait) return rest.wait.until - clock.now() > longWait ? rest.state : undefined;
        return rest.state;
      };
      return new Promise((resolve, reject) => {
        const now = resting();
        if (now) return resolve(now);
        const check = () => {
          const state = resting();
          if (!state) return;
          changed.delete(check);
          sub.unsubscribe();
          resolve(state);
        };
        const sub: Subscription = actor.subscribe({
          error: (err) => {
            changed.delete(check);
            reject(err);
          },
        });
        changed.add(check);
      });
    },
    async done() {
      return scrubDeep((await toPromise(actor)) as Output);
    },
    snapshot() {
      const rest = restOf(actor.getSnapshot());
      if (!rest) {
        throw new TokenHubSetupError("snapshot_not_at_rest", `A snapshot cannot be taken in ${stateOf()}.`, {
          remedy: "Wait for a rest state (untilRest: a key to supply, a long wait, or a final state).",
        });
      }
      return makeEnvelope(rest.state, actor.getPersistedSnapshot(), clock.now());
    },
    async stop() {
      actor.stop();
      listeners.clear();
      if (ownsClient) await client.close();
    },
  };

  // Hosts hold sessions in their own objects; an accidental `console.log(session)` must not leak anything.
  Object.defineProperty(session, inspect.custom, { value: () => `Session(${id}, ${stateOf()})` });

  /** The machine's event for a host event; null when the event is answered here (a key that cannot be right). */
  function toMachineEvent(event: HostEvent): SetupEvent | null {
    const at = clock.now();
    switch (event.type) {
      case "SETUP":
        return {
          type: "SETUP",
          at,
          seed: randomInt(2 ** 31),
          ...(event.preferences ? { preferences: event.preferences } : {}),
        };
      case "KEY_READY":
        return { type: "KEY_READY", at, seed: randomInt(2 ** 31) };
      case "CANCEL":
        return { type: "CANCEL", at, ...(event.reason ? { reason: event.reason } : {}) };
      case "KEY_PROVIDED": {
        try {
          vault.handOver(parseKey(event.key, "event"));
        } catch (err) {
          // A key that cannot be right is answered like a missing one, with the reason, and the flow stays put.
          if (!(err instanceof TokenHubSetupError)) throw err;
          const resumeWith = restOf(actor.getSnapshot())?.resumeWith;
          if (resumeWith === "KEY_READY" || resumeWith === "SETUP") {
            publish(needKeyNotification("missing", config.consoleUrl, [err.toLine()]));
          }
          return null;
        }
        return { type: "KEY_PROVIDED", at, seed: randomInt(2 ** 31), remember: event.remember ?? false };
      }
    }
  }

  return session;
}
