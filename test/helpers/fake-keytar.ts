// keytar as the tests see it: never the OS keychain of the machine the suite runs on. On a developer's Mac or
// Linux desktop the real keytar reaches their login keychain whatever HOME says, so a `key set` under test
// would overwrite their real TokenHub key and a `key clear` would delete it.
//
// Loaded with `node --import` (test/helpers/cli.ts does so for every CLI it starts) or imported by a test file
// (for the CLI run in-process), this module points the `keytar` specifier at itself, so src/secrets/keychain.ts
// loads these three functions instead of the native module. test/keychain, which runs the real keytar against a
// private gnome-keyring (npm run test:keychain), does not load it.
//
// TOKENHUB_TEST_KEYCHAIN, read at each call:
//   unset   every call fails as keytar does where no Secret Service answers (a Linux machine without a D-Bus
//           session: CI, a container), so the CLI says "OS keychain unavailable" as it does there;
//   a path  a keychain that works, kept in that JSON file ({service: {account: password}}), so a test can see
//           what `key set` stored and what `key clear` removed.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

export const FAKE_KEYTAR = new URL(import.meta.url).pathname;

/** keytar's own message where libsecret finds no session bus (seen with the real keytar and no D-Bus). */
const NO_SECRET_SERVICE = "Cannot autolaunch D-Bus without X11 $DISPLAY";

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === "keytar") return { url: import.meta.url, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

type Entries = Record<string, Record<string, string>>;

function store(): string {
  const file = process.env.TOKENHUB_TEST_KEYCHAIN;
  if (!file) throw new Error(NO_SECRET_SERVICE);
  return file;
}

/** What the fake keychain in `file` holds (an empty object when nothing was ever stored). */
export function readFakeKeychain(file: string): Entries {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Entries) : {};
}

export async function getPassword(service: string, account: string): Promise<string | null> {
  return readFakeKeychain(store())[service]?.[account] ?? null;
}

export async function setPassword(service: string, account: string, password: string): Promise<void> {
  const file = store();
  const entries = readFakeKeychain(file);
  entries[service] = { ...entries[service], [account]: password };
  writeFileSync(file, JSON.stringify(entries), { mode: 0o600 });
}

export async function deletePassword(service: string, account: string): Promise<boolean> {
  const file = store();
  const entries = readFakeKeychain(file);
  if (entries[service]?.[account] === undefined) return false;
  delete entries[service]?.[account];
  writeFileSync(file, JSON.stringify(entries), { mode: 0o600 });
  return true;
}

export default { getPassword, setPassword, deletePassword };
