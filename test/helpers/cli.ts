// Runs `tokenhub-setup` as a person would, in a process of its own, never on the files or the keychain of the
// machine the suite runs on: each run gets a home of its own (a fresh temp folder, removed afterwards, unless the
// test names one), the XDG folders inside it, no D-Bus session, and keytar replaced by test/helpers/fake-keytar.ts.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_KEYTAR } from "./fake-keytar.ts";

export { readFakeKeychain } from "./fake-keytar.ts";

export const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** The arguments to `process.execPath` that run the CLI with keytar faked. */
export const cliArgv = (args: readonly string[], main = MAIN): string[] => [
  "--import",
  FAKE_KEYTAR,
  main,
  ...args,
];

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface IsolatedEnv {
  env: Record<string, string>;
  /** Removes the home made for this run (nothing when the test named its own). */
  cleanup(): void;
}

/**
 * The whole environment of a CLI child: PATH, a HOME (a fresh temp folder unless `env.HOME` names one) with the
 * XDG config, state, cache and data folders where the XDG spec puts them inside it, and `env` on top. Nothing
 * else is inherited: no D-Bus session, no XDG_RUNTIME_DIR (GDBus would find the session bus there), no
 * TOKENHUB_API_KEY. An `undefined` in `env` leaves that variable out.
 */
export function isolatedEnv(env: Record<string, string | undefined> = {}): IsolatedEnv {
  const own = env.HOME === undefined ? mkdtempSync(join(tmpdir(), "tokenhub-cli-home-")) : undefined;
  const home = env.HOME ?? (own as string);
  const merged: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    ...env,
  };
  const clean = Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return {
    env: clean,
    cleanup: () => {
      if (own) rmSync(own, { recursive: true, force: true });
    },
  };
}

/** Runs `tokenhub-setup args` (src/cli/main.ts on this Node) in an isolated environment plus `env`. */
export function cli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { input?: string; cwd?: string } = {},
): Promise<CliRun> {
  const isolated = isolatedEnv(env);
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      cliArgv(args),
      { env: isolated.env, cwd: options.cwd },
      (error, stdout, stderr) => {
        isolated.cleanup();
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Starts `tokenhub-setup args` as `cli` does, for a test that talks to it while it runs (the home goes on exit). */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): ChildProcessWithoutNullStreams {
  const isolated = isolatedEnv(env);
  const child = spawn(process.execPath, cliArgv(args), { env: isolated.env });
  child.once("close", () => isolated.cleanup());
  return child;
}
