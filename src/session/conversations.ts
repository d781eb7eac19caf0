import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotEnvelope } from "../schema/snapshot.ts";
import { writeFileAtomic } from "../status/atomic-write.ts";
import { readStateFile } from "../status/read-state-file.ts";

/** Four times the longest snapshot runTurn takes (256 Ki characters, up to 4 bytes each in UTF-8). */
const MAX_CONVERSATION_FILE_BYTES = 1024 * 1024;

/**
 * One stored snapshot per conversation, for a host that calls `runTurn` once per turn and has no store of its
 * own for them (the OpenClaw plugin, an MCP server): the conversation's key (a session key, a chat id) names
 * its file in `dir`, the host's state folder. File names are a hash of the key, so a key with slashes or dots
 * cannot walk out of the folder. Writes are atomic; a corrupt file is handed to runTurn as it is, which refuses
 * it with a clear error and starts afresh.
 */
export function createConversationStore(dir: string) {
  const pathOf = (conversation: string) =>
    join(dir, `${createHash("sha256").update(conversation).digest("hex").slice(0, 32)}.json`);
  return {
    /** The stored envelope's text, or undefined when this conversation has none. */
    async load(conversation: string): Promise<string | undefined> {
      try {
        return await readStateFile(pathOf(conversation), MAX_CONVERSATION_FILE_BYTES);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async save(conversation: string, envelope: SnapshotEnvelope): Promise<void> {
      await writeFileAtomic(pathOf(conversation), `${JSON.stringify(envelope)}\n`);
    },
    async remove(conversation: string): Promise<void> {
      await rm(pathOf(conversation), { force: true });
    },
  };
}
export type ConversationStore = ReturnType<typeof createConversationStore>;

/**
 * Writes `value` as JSON to `path`, replacing the file atomically (temp file, fsync, rename; mode 0600 in a 0700
 * folder), so a reader or a crash sees the old file or the new one, never half of either: for a host's own
 * small state beside the conversations (the OpenClaw plugin's wiring backup).
 */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value)}\n`);
}
