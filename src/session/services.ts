import { type AnyActorRef, fromPromise } from "xstate";
import { TokenHubSetupError } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  KEY_LOST,
  type ProbeInput,
  type ProbeOutput,
  type ResolveKeyInput,
  type ResolveKeyOutput,
  setupMachine,
  type WriteStatusInput,
  type WriteStatusOutput,
} from "../machine/setup-machine.ts";
import type { Keychain } from "../secrets/keychain.ts";
import { type KeySources, resolveKey } from "../secrets/sources.ts";
import type { KeyVault } from "../secrets/vault.ts";
import type { StatusStore } from "../status/store.ts";
import { classify } from "../tokenhub/classify.ts";
import type { TokenHubClient } from "../tokenhub/client.ts";
import type { CompiledRule } from "../tokenhub/routing-rules.ts";
import type { Clock } from "./clock.ts";

export interface ServiceDeps {
  client: TokenHubClient;
  rules: readonly CompiledRule[];
  sources: KeySources;
  vault: KeyVault;
  store: StatusStore;
  clock: Clock;
  logger: Logger;
  /** Where `remember` stores a handed-over key; absent when the keychain is switched off. */
  keychain?: Keychain;
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
        notices: found.notices,
        at: clock.now(),
      };
    }),

    probe: fromPromise<ProbeOutput, ProbeInput>(async ({ input, signal, system }) => {
      const deps = servicesOf(system);
      const { client, rules, clock, logger } = deps;
      const key = await keyFor(input, deps);
      const response = await client.chat({ model: input.model, stream: input.stream, key, signal });
      const outcome = classify(response, rules);
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

    sleep: fromPromise<void, { until: number }>(async ({ input, signal, system }) => {
      const { clock, logger } = servicesOf(system);
      logger.info({ retryAt: new Date(input.until).toISOString() }, "backing off");
      await clock.sleepUntil(input.until, signal);
    }),

    writeStatus: fromPromise<WriteStatusOutput, WriteStatusInput>(async ({ input, system }) => {
      const deps = servicesOf(system);
      const { vault, store, clock, logger } = deps;
      let record = input.record;
      const key = vault.current;
      // Only a key the user handed over and TokenHub accepted is worth remembering.
      if (input.remember && record.integration_status === "complete" && key?.source === "event") {
        const note = deps.keychain
          ? await deps.keychain.set(key.reveal()).then(
              () => "The key was stored in the OS keychain.",
              (err: unknown) =>
                `The key was not stored: ${err instanceof TokenHubSetupError ? err.toLine() : "keychain error"}`,
            )
          : "The key was not stored: the OS keychain is switched off.";
        record = { ...record, notes: `${record.notes} ${note}` };
      }
      await store.write(record);
      logger.info({ status: record.integration_status, location: store.location }, "record written");
      return { record, at: clock.now() };
    }),
  },
});

/**
 * The key for an attempt: the one in use, or (after a restore in a fresh process) the same key re-read from the
 * source the flow recorded. A key that was only ever in an earlier process's memory is lost: Step-2 again.
 */
async function keyFor(input: ProbeInput, deps: ServiceDeps) {
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
