import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/** `$XDG_STATE_HOME/tokenhub-setup/status.json`, or `~/.local/state/tokenhub-setup/status.json`. */
export function defaultStatusPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(stateDir(env), "status.json");
}

/** `$XDG_STATE_HOME/tokenhub-setup/media`: where the multimodal checks save their files by default. */
export function defaultMediaDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(stateDir(env), "media");
}

/** `$XDG_STATE_HOME/tokenhub-setup` (or `~/.local/state/tokenhub-setup`): the skill's state folder. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return stateDir(env);
}

function stateDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".local", "state");
  return join(base, "tokenhub-setup");
}
