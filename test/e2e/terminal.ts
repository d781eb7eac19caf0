// An `openclaw ...` command in a real terminal (tmux), for the host's commands that insist on a TTY (`models
// auth login`): the screen read with capture-pane, keys typed with send-keys, the exit code read from a marker
// line the shell prints after the command.
import { execFileSync } from "node:child_process";
import type { Host } from "./openclaw-host.ts";

export interface Terminal {
  screen(): string;
  /** Waits until the screen matches `pattern` and returns the screen; fails with the screen's tail. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Types `text` literally (not echoed by a masked prompt), then Enter. */
  typeLine(text: string): void;
  /** Waits for the command to end and returns its exit code and the whole screen. */
  exit(timeoutMs?: number): Promise<{ code: number; screen: string }>;
  close(): void;
}

export function hasTmux(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
let sessions = 0;

/** Starts `openclaw args` in its own tmux server with the host's environment (and `extraEnv`), 160x50. */
export function openTerminal(
  bin: string,
  host: Host,
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Terminal {
  const socket = `tokenhub-oc-${process.pid}-${++sessions}`;
  const tmux = (...a: string[]) => execFileSync("tmux", ["-L", socket, ...a], { encoding: "utf8" });
  const env = { ...host.env, ...extraEnv, TERM: "xterm-256color" };
  const command = [
    "env -i",
    ...Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [quote(`${k}=${v}`)])),
    quote(process.execPath),
    quote(bin),
    ...args.map(quote),
    "; echo EXIT=$?; sleep 600",
  ].join(" ");
  tmux("new-session", "-d", "-s", "oc", "-x", "160", "-y", "50", command);
  const screen = () => tmux("capture-pane", "-p", "-J", "-S", "-300", "-t", "oc");
  const waitFor = async (pattern: RegExp, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline)
        throw new Error(
          `the terminal never showed ${pattern} in ${timeoutMs / 1000} s:\n${text.slice(-1500)}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    screen,
    waitFor,
    typeLine(text) {
      tmux("send-keys", "-t", "oc", "-l", text);
      tmux("send-keys", "-t", "oc", "Enter");
    },
    async exit(timeoutMs = 90_000) {
      const text = await waitFor(/^EXIT=\d+$/m, timeoutMs);
      return { code: Number(/^EXIT=(\d+)$/m.exec(text)?.[1]), screen: text };
    },
    close() {
      try {
        tmux("kill-server");
      } catch {
        // Already gone.
      }
    },
  };
}
