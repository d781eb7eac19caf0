import { z } from "zod";
import { writeFileAtomic } from "./atomic-write.ts";
import { readStateFile } from "./read-state-file.ts";

/**
 * A run that stopped before sending anything (no key found, or cancelled at the key prompt) writes no record:
 * there is nothing verified to say. It leaves this note beside the record instead, so `status` can say that
 * the record is older than the last attempt rather than present an old success as the current state.
 */
export const LastAttemptSchema = z.object({
  at: z.iso.datetime(),
  outcome: z.enum(["key_missing", "cancelled"]),
  /** One sentence for a person. */
  message: z.string().max(500),
});
export type LastAttempt = z.infer<typeof LastAttemptSchema>;

/** `status.json` -> `status.last-attempt.json`, beside the record it qualifies. */
export function lastAttemptPath(recordPath: string): string {
  return recordPath.endsWith(".json")
    ? `${recordPath.slice(0, -".json".length)}.last-attempt.json`
    : `${recordPath}.last-attempt.json`;
}

export async function writeLastAttempt(recordPath: string, attempt: LastAttempt): Promise<void> {
  await writeFileAtomic(lastAttemptPath(recordPath), `${JSON.stringify(LastAttemptSchema.parse(attempt))}\n`);
}

/** The note, or undefined when there is none or it is unreadable (a note never stops `status` from working). */
export async function readLastAttempt(recordPath: string): Promise<LastAttempt | undefined> {
  try {
    const parsed = LastAttemptSchema.safeParse(
      JSON.parse(await readStateFile(lastAttemptPath(recordPath), 64 * 1024)),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The note matters only when it is newer than the record (a later record supersedes it). */
export function isNewerThan(
  attempt: LastAttempt | undefined,
  recordAttemptedAt: string | undefined,
): boolean {
  if (!attempt) return false;
  return recordAttemptedAt === undefined || Date.parse(attempt.at) > Date.parse(recordAttemptedAt);
}
