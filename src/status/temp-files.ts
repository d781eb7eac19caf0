import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * What every "temp file, then rename" writer in the package shares: the folder fsync that makes a rename
 * durable, and the sweep of temps that killed writers left behind (records, snapshots, downloaded media).
 */

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL); the file itself is already synced.
  } finally {
    await handle.close();
  }
}

const swept = new Set<string>();

/**
 * A process killed between creating its temp file and the rename leaves that temp behind (never the target:
 * the rename is what replaces it). Once per `onceKey` and process, remove the temps of writers that are gone:
 * `pidOf` reads the writer's pid from a temp's name (undefined for other files), and a pid that still answers
 * (even one reused by another program) keeps its file.
 */
export async function sweepStaleTemps(
  dir: string,
  onceKey: string,
  pidOf: (name: string) => number | undefined,
): Promise<void> {
  if (swept.has(onceKey)) return;
  swept.add(onceKey);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = pidOf(name);
    if (pid === undefined || !Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid))
      continue;
    await rm(join(dir, name), { force: true }).catch(() => {});
  }
}

/** Whether a process with this pid exists (one of another user counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
