import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotEnvelope } from "../schema/snapshot.ts";
import { writeFileAtomic } from "../status/atomic-write.ts";

/**
 * One snapshot per conversation, under the plugin's state folder. File names are a hash of the session key, so
 * a key with slashes or dots cannot walk out of the folder. Writes are atomic; a corrupt file is handed to
 * runTurn as it is, which refuses it with a clear error and starts afresh.
 */
export function createConversationStore(dir: string) {
  const pathOf = (sessionKey: string) =>
    join(dir, `${createHash("sha256").update(sessionKey).digest("hex").slice(0, 32)}.json`);
  return {
    async load(sessionKey: string): Promise<string | undefined> {
      try {
        return await readFile(pathOf(sessionKey), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async save(sessionKey: string, envelope: SnapshotEnvelope): Promise<void> {
      await writeFileAtomic(pathOf(sessionKey), `${JSON.stringify(envelope)}\n`);
    },
    async remove(sessionKey: string): Promise<void> {
      await rm(pathOf(sessionKey), { force: true });
    },
  };
}
export type ConversationStore = ReturnType<typeof createConversationStore>;
