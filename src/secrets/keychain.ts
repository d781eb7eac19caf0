import { execFile } from "node:child_process";
import { KeychainUnavailableError } from "../errors.ts";
import { scrubbedLine } from "./scrubber.ts";

/** The part of keytar we use. keytar is archived upstream and native, so it stays optional and lazily loaded. */
interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export interface Keychain {
  get(): Promise<string | undefined>;
  set(value: string): Promise<void>;
  delete(): Promise<boolean>;
}

const UNAVAILABLE_REMEDY =
  "Set TOKENHUB_API_KEY in the environment instead; nothing is written in plaintext unless you ask for it.";

/**
 * How to get keytar's native part where it did not load: `npm ci` skips it quietly when libsecret's headers
 * are missing (Linux), so the person needs the packages and a rebuild, not just "keytar could not load".
 */
function installRemedy(): string {
  if (process.platform === "linux")
    return "Install libsecret and rebuild keytar: `sudo apt-get install libsecret-1-dev python3 g++`, then `npm rebuild keytar` in the install folder (Debian/Ubuntu; in a clone of tokenhub-setup, `bash scripts/keychain-setup.sh` does both), with a Secret Service such as gnome-keyring running in your session.";
  return "Reinstall so keytar's native part is built (`npm ci`; it needs the platform's C++ build tools).";
}

let loading: Promise<Keytar> | undefined;

/** Loads keytar once per process. A variable specifier keeps bundlers and tsc from requiring it at build time. */
function loadKeytar(): Promise<Keytar> {
  loading ??= (async () => {
    const specifier = "keytar";
    try {
      const mod = (await import(specifier)) as { default?: Keytar } & Partial<Keytar>;
      const keytar = (mod.default ?? mod) as Keytar;
      if (typeof keytar.getPassword !== "function") throw new Error("keytar has no getPassword");
      return keytar;
    } catch (cause) {
      throw new KeychainUnavailableError(
        "keychain_not_installed",
        `OS keychain unavailable: keytar could not load (${reasonOf(cause)}).`,
        {
          remedy: `${installRemedy()} ${UNAVAILABLE_REMEDY}`,
          cause,
        },
      );
    }
  })();
  return loading;
}

function reasonOf(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  // keytar present but its native part never built (no libsecret at install time): lib/keytar.js fails first.
  if (/build\/Release\/keytar\.node/.test(message)) return "its native part is not built";
  if (/Cannot find (module|package)/i.test(message)) return "not installed";
  if (/NODE_MODULE_VERSION|compiled against a different Node/i.test(message))
    return "built for another Node version";
  if (/libsecret|\.so/i.test(message)) return "libsecret is missing";
  return scrubbedLine(message.split("\n")[0] ?? "", 160) || "unknown error";
}

/** Maps libsecret / D-Bus failures to a code and a sentence a person understands. */
function unavailable(cause: unknown): KeychainUnavailableError {
  const message = cause instanceof Error ? cause.message : String(cause);
  // GDBus says "Could not connect: ..." when DBUS_SESSION_BUS_ADDRESS names a bus that is not there.
  if (
    /DBUS_SESSION_BUS_ADDRESS|autolaunch|dbus|ServiceUnknown|org\.freedesktop\.secrets|Could not connect/i.test(
      message,
    )
  ) {
    return new KeychainUnavailableError(
      "keychain_no_service",
      "OS keychain unavailable: no Secret Service on the D-Bus session.",
      {
        remedy: `Start a keyring (for example gnome-keyring) in a desktop or dbus-run-session. ${UNAVAILABLE_REMEDY}`,
        cause,
      },
    );
  }
  // A Secret Service with no default keyring yet (gnome-keyring started outside a desktop login): libsecret
  // tries the login collection and the service answers that it does not exist. Reading just finds nothing.
  if (/Object does not exist at path .*\/collection\//i.test(message)) {
    return new KeychainUnavailableError(
      "keychain_no_collection",
      "OS keychain unavailable: it has no default keyring to store the key in.",
      {
        remedy: `Create the login keyring (log in to a desktop session once, or run gnome-keyring-daemon --unlock and type its new password). ${UNAVAILABLE_REMEDY}`,
        cause,
      },
    );
  }
  if (/locked|unlock|cancel+ed by user|prompt/i.test(message)) {
    return new KeychainUnavailableError(
      "keychain_locked",
      "OS keychain unavailable: the keyring is locked.",
      {
        remedy: `Unlock the login keyring and try again. ${UNAVAILABLE_REMEDY}`,
        cause,
      },
    );
  }
  return new KeychainUnavailableError("keychain_error", `OS keychain error: ${reasonOf(cause)}.`, {
    remedy: UNAVAILABLE_REMEDY,
    cause,
  });
}

/**
 * libsecret answers a lookup in a locked collection with "no password", not an error, when it cannot show the
 * unlock prompt (no display, prompt dismissed), so keytar's `null` may mean "locked". The Secret Service lists
 * locked matches without prompting (SearchItems returns unlocked, then locked paths): ask it, through
 * dbus-send, so a locked keyring is reported as such. Linux only; a probe that fails means "not known locked".
 */
async function lockedItemExists(service: string, account: string): Promise<boolean> {
  // dbus-send's dict syntax splits on commas; such names are not probed.
  if (process.platform !== "linux" || `${service}${account}`.includes(",")) return false;
  const args = [
    "--session",
    "--print-reply=literal",
    "--reply-timeout=5000",
    "--dest=org.freedesktop.secrets",
    "/org/freedesktop/secrets",
    "org.freedesktop.Secret.Service.SearchItems",
    `dict:string:string:service,${service},account,${account}`,
  ];
  const once = () =>
    new Promise<boolean | undefined>((resolve) => {
      execFile("dbus-send", args, { timeout: 6000 }, (err, stdout) => {
        resolve(err ? undefined : /\]\s*array \[\s*\/\S+/.test(stdout));
      });
    });
  // A daemon busy answering keytar's own call can miss the reply timeout on a loaded machine: ask again
  // before concluding "not known locked" (a clean answer is final).
  for (let attempt = 0; attempt < 3; attempt++) {
    const answer = await once();
    if (answer !== undefined) return answer;
  }
  return false;
}

export function createKeychain(service: string, account: string): Keychain {
  const call = async <T>(fn: (k: Keytar) => Promise<T>): Promise<T> => {
    const keytar = await loadKeytar();
    try {
      return await fn(keytar);
    } catch (cause) {
      throw unavailable(cause);
    }
  };
  return {
    get: async () => {
      const value = await call((k) => k.getPassword(service, account));
      if (value !== null) return value;
      if (await lockedItemExists(service, account))
        throw unavailable(new Error("The item is in a locked collection"));
      return undefined;
    },
    set: (value) => call((k) => k.setPassword(service, account, value)),
    delete: () => call((k) => k.deletePassword(service, account)),
  };
}
