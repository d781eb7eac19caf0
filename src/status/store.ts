import { StatusStoreError } from "../errors.ts";
import { type CompletionRecord, CompletionRecordSchema, StoredRecordSchema } from "../schema/record.ts";
import { scrubDeep } from "../secrets/scrubber.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { readStateFile } from "./read-state-file.ts";

/** A record is a few kilobytes; a file far larger is not one, and is not read into memory. */
export const MAX_RECORD_FILE_BYTES = 1024 * 1024;

/** Where Step-5 records go. Hosts with their own storage supply one; the file store is the default. */
export interface StatusStore {
  /** A path or a name, for messages. */
  readonly location: string;
  write(record: CompletionRecord): Promise<void>;
  read(): Promise<CompletionRecord | undefined>;
}

export function createFileStatusStore(path: string): StatusStore {
  return {
    location: path,
    async write(record) {
      const text = `${JSON.stringify(validated(record), null, 2)}\n`;
      try {
        await writeFileAtomic(path, text);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        throw new StatusStoreError(
          "status_write_failed",
          `Could not write the status record to ${path}${code ? ` (${code}${code === "ENOTDIR" ? ": a part of the path is a file, not a folder" : ""})` : ""}.`,
          {
            remedy: "Check that the folder is writable, or choose another place for the record.",
            cause,
          },
        );
      }
    },
    async read() {
      let text: string;
      try {
        text = await readStateFile(path, MAX_RECORD_FILE_BYTES);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        if (code === "ENOTREG" || code === "EFBIG")
          throw new StatusStoreError(
            "status_unreadable",
            `Could not read the status record: ${(cause as Error).message}.`,
            { remedy: "Move it out of the way; the next setup writes a new record there.", cause },
          );
        throw new StatusStoreError("status_unreadable", `Could not read the status record at ${path}.`, {
          remedy: "Check the file's permissions.",
          cause,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (cause) {
        throw corrupt(path, cause);
      }
      // A record from an older version is upgraded, not called corrupt.
      const parsed = StoredRecordSchema.safeParse(json);
      if (!parsed.success) throw corrupt(path, parsed.error);
      return parsed.data;
    },
  };
}

/**
 * Scrubs, then validates what will actually be stored: a record that scrubbing pushed past a limit (a key inside
 * an 80-character preview grows into "[redacted]") would otherwise be written and then read back as corrupt.
 * Refused before any I/O, so the previous record stays as it was.
 */
function validated(record: CompletionRecord): CompletionRecord {
  const parsed = CompletionRecordSchema.safeParse(scrubDeep(record));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  throw new StatusStoreError(
    "status_invalid",
    `The completion record is not valid${where}: ${issue?.message ?? "invalid"}.`,
    {
      remedy:
        "This is a bug in whatever built the record; nothing was written and the previous record is kept.",
      cause: parsed.error,
    },
  );
}

function corrupt(path: string, cause: unknown): StatusStoreError {
  return new StatusStoreError("status_corrupt", `The status record at ${path} is not a valid record.`, {
    remedy: "Run the setup again to replace it; the old file is left as it is until then.",
    cause,
  });
}

/** Keeps records in memory: for benchmarks, tests and hosts that persist elsewhere. */
export function createMemoryStatusStore(): StatusStore & { records: CompletionRecord[] } {
  const records: CompletionRecord[] = [];
  return {
    location: "memory",
    records,
    async write(record) {
      records.push(validated(record));
    },
    async read() {
      return records.at(-1);
    },
  };
}
