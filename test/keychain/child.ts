// Child process for keychain.test.ts: the skill's keychain path under a condition the parent sets up for real
// (no D-Bus session, a locked collection, keytar missing or not built), then the flows that must go on.
// It prints one JSON object on stdout; the parent asserts on it and scans it (log lines included) for keys.
//
// Environment:
//   KC_SERVICE, KC_ACCOUNT  the keychain entry (a service unique to the run)
//   KC_ENV_KEY              the key the "from env" flow finds in TOKENHUB_API_KEY
//   KC_EVENT_KEY            the key handed over in KEY_PROVIDED with remember: true
//   KC_STATE                a folder for the status files
//   KC_KEYTAR_FROM          optional: resolve `keytar` from this folder (its node_modules holds a copy without
//                           the native build, or nothing)
//   KC_STORE_KEY, KC_LOCK   optional: store this key first (must succeed), then lock the default collection

import { execFileSync } from "node:child_process";
import { registerHooks } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TokenHubSetupError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import type { Notification } from "../../src/schema/host.ts";
import { createKeychain } from "../../src/secrets/keychain.ts";
import { resolveKey } from "../../src/secrets/sources.ts";
import { createSession } from "../../src/session/session.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { createFileStatusStore } from "../../src/status/store.ts";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const service = env("KC_SERVICE");
const account = env("KC_ACCOUNT");
const envKey = env("KC_ENV_KEY");
const eventKey = env("KC_EVENT_KEY");
const state = env("KC_STATE");

const keytarFrom = process.env.KC_KEYTAR_FROM;
if (keytarFrom) {
  // `keytar` (and only it) is resolved by Node's own resolver as if imported from that folder: a tree with a
  // copy of the package lacking its native build, or one without the package at all.
  const parentURL = pathToFileURL(join(keytarFrom, "index.js")).href;
  registerHooks({
    resolve: (specifier, context, next) =>
      next(specifier, specifier === "keytar" ? { ...context, parentURL } : context),
  });
}

const logs: string[] = [];
const logger = createLogger({ level: "debug", destination: { write: (line: string) => logs.push(line) } });

function describe(err: unknown) {
  if (!(err instanceof Error)) return { thrown: String(err) };
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return err instanceof TokenHubSetupError
    ? { name: err.name, code: err.code, message: err.message, remedy: err.remedy, line: err.toLine(), cause }
    : { name: err.name, message: err.message, cause };
}

const keychain = createKeychain(service, account);
const result: Record<string, unknown> = {};

if (process.env.KC_STORE_KEY) {
  await keychain.set(process.env.KC_STORE_KEY);
  if (process.env.KC_LOCK === "1") {
    const send = (...args: string[]) =>
      execFileSync(
        "dbus-send",
        [
          "--session",
          "--print-reply=literal",
          "--dest=org.freedesktop.secrets",
          "/org/freedesktop/secrets",
          ...args,
        ],
        { encoding: "utf8" },
      );
    const collection = send("org.freedesktop.Secret.Service.ReadAlias", "string:default").trim();
    send("org.freedesktop.Secret.Service.Lock", `array:objpath:${collection}`);
    result.locked = collection;
  }
}

// The keychain on its own: every call must fail with a typed, scrubbed error, never hang or crash.
for (const [name, call] of [
  ["get", () => keychain.get()],
  ["set", () => keychain.set(eventKey)],
] as const) {
  try {
    result[name] = { ok: true, found: (await call()) !== undefined };
  } catch (err) {
    result[name] = describe(err);
  }
}

// Step-1 with nothing but the keychain: no key, one notice.
const found = await resolveKey({ env: {}, keychain }, {});
result.resolve = { found: found.key !== undefined, notices: found.notices };

const sim = await startSimulator({ scenario: "happy", acceptKeys: [envKey, eventKey] });
const config = { baseUrl: sim.baseUrl, keychainService: service, keychainAccount: account };
try {
  // The flow goes on with the other sources: the environment...
  const fromEnv = createSession({
    config,
    sources: { env: { TOKENHUB_API_KEY: envKey } },
    store: createFileStatusStore(join(state, "env-status.json")),
    logger,
  });
  fromEnv.send({ type: "SETUP" });
  const envState = await fromEnv.untilRest();
  const envOutput = await fromEnv.done();
  await fromEnv.stop();
  result.envFlow = {
    state: envState,
    keySource: envOutput.status === "complete" ? envOutput.record.result.key_source : undefined,
  };

  // ...and a key handed over, with remember: true, whose storing fails with a note and loses nothing.
  const notifications: Notification[] = [];
  const handed = createSession({
    config,
    sources: { env: {} },
    store: createFileStatusStore(join(state, "event-status.json")),
    logger,
  });
  handed.subscribe((n) => notifications.push(n));
  handed.send({ type: "SETUP" });
  const firstState = await handed.untilRest();
  handed.send({ type: "KEY_PROVIDED", key: eventKey, remember: true });
  await handed.untilRest();
  const output = await handed.done();
  await handed.stop();
  const needKey = notifications.find((n) => n.type === "needKey");
  result.rememberFlow = {
    firstState,
    needKey: needKey?.type === "needKey" ? { reason: needKey.reason, message: needKey.message } : undefined,
    state: output.status,
    keySource: output.status === "complete" ? output.record.result.key_source : undefined,
    notes: output.status === "complete" ? output.record.notes : undefined,
  };
} finally {
  await sim.close();
}

result.requests = sim.requests.length;
result.logs = logs;
process.stdout.write(`${JSON.stringify(result)}\n`);
