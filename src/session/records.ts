import type { CompletionRecord } from "../schema/record.ts";
import { isNewerThan, type LastAttempt, readLastAttempt, writeLastAttempt } from "../status/last-attempt.ts";
import { createFileStatusStore, createMemoryStatusStore, type StatusStore } from "../status/store.ts";

export type { LastAttempt } from "../status/last-attempt.ts";
export { defaultStateDir, defaultStatusPath } from "../status/paths.ts";
export type { StatusStore } from "../status/store.ts";

/** The Step-5 record kept in a file, replaced atomically on each write (the default store). */
export function recordFile(path: string): StatusStore {
  return createFileStatusStore(path);
}

/** The record kept in memory only: for a run that must not touch the real one (`--simulate`). */
export function recordInMemory(): StatusStore {
  return createMemoryStatusStore();
}

/**
 * The record at `path` (undefined when there is none yet) and, when a later run ended before it could verify
 * anything (no key found, cancelled before a request), that run's note: the record is then older than the last
 * attempt. Throws a StatusStoreError when the record cannot be read or is not a record; an unreadable note is
 * treated as none, since a note never stops the record from being shown.
 */
export async function readRecord(
  path: string,
): Promise<{ record: CompletionRecord | undefined; laterUnverifiedRun: LastAttempt | undefined }> {
  const record = await createFileStatusStore(path).read();
  const note = await readLastAttempt(path);
  return {
    record,
    laterUnverifiedRun: isNewerThan(note, record?.result.attempted_at) ? note : undefined,
  };
}

/**
 * Notes beside the record at `recordPath` that a run ended before sending anything, so that `readRecord` can
 * say the record is older than the last attempt. The record itself is left as it was.
 */
export async function noteUnverifiedRun(recordPath: string, attempt: LastAttempt): Promise<void> {
  await writeLastAttempt(recordPath, attempt);
}
