import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, join } from "node:path";
import { processIsAlive } from "../session/index.ts";

/**
 * Where `--simulate --multimodal` saves the files when no --output-dir is named: one folder per run under
 * `$XDG_CACHE_HOME/tokenhub-setup/simulated-media/` (or `~/.cache/...`), and only the latest run's is kept.
 *
 * Why not a temp folder per run: nothing removed them (24 demo runs left 129 MB in /tmp). Why not delete the
 * files at exit: the person running the demo wants to open the image the output just listed. So they stay
 * until the next simulated run, which removes them. A per-user cache folder, not a fixed name in the shared
 * /tmp, which another user could create first.
 *
 * Invariant: only folders named as this code names them are removed, `<pid>-XXXXXX` directly in the root, and
 * only when their run has ended (that pid is gone): a run in progress, here or in another process, keeps its
 * files. Anything else in the root,
 * and every folder a user names with --output-dir, is left alone.
 */
export function simulatedMediaRoot(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".cache");
  return join(base, "tokenhub-setup", "simulated-media");
}

/** What becomes of the files in a run's folder, for the line that says where they go. */
export const SIMULATED_MEDIA_FATE =
  "the next simulated run removes them (--output-dir DIR keeps files where you say)";

const RUN_FOLDER = /^(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Folders this process made (runs in one process, as in tests, may overlap). A folder under this process's pid
 * that is not among them comes from an earlier process that had the same pid (a container's pid 1, say).
 */
const madeHere = new Set<string>();

/** Removes the folders of earlier runs that have ended, then makes this run's. Throws when the root is unusable. */
export function freshSimulatedMediaDir(env: Readonly<Record<string, string | undefined>>): string {
  const root = simulatedMediaRoot(env);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(root)) {
    const pid = Number(RUN_FOLDER.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || madeHere.has(name)) continue;
    if (pid !== process.pid && processIsAlive(pid)) continue;
    const path = join(root, name);
    try {
      // A symlink or a file under a matching name was not made here: not followed, not removed.
      if (!lstatSync(path).isDirectory()) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Another run removed it first, or it cannot be removed: either way, not this run's concern.
    }
  }
  const dir = mkdtempSync(join(root, `${process.pid}-`));
  madeHere.add(basename(dir));
  return dir;
}
