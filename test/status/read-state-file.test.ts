// Hostile state folders: whoever can write the state folder can put a FIFO, a folder or a huge file where a record,
// a note, a snapshot or the wiring record is read. Each is refused at once with a clear error, never waited on or
// read whole (an outside review hung `openclaw models list` with a FIFO in place of status.json).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StatusStoreError } from "../../src/errors.ts";
import { createConversationStore } from "../../src/session/conversations.ts";
import { readStateFile } from "../../src/status/read-state-file.ts";
import { createFileStatusStore, MAX_RECORD_FILE_BYTES } from "../../src/status/store.ts";

/** Settles within `ms` or fails: a FIFO read that blocks would otherwise hang the suite rather than fail it. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("state files are read only when they are small regular files", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "th-state-file-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a regular file; refuses a FIFO at once, a folder, and a file over the bound (ENOTREG, EFBIG)", async () => {
    const plain = join(dir, "plain.json");
    await writeFile(plain, '{"ok":true}\n');
    assert.equal(await readStateFile(plain, 64), '{"ok":true}\n');
    const fifo = join(dir, "fifo.json");
    execFileSync("mkfifo", [fifo]);
    await assert.rejects(within(2_000, readStateFile(fifo, 64)), { code: "ENOTREG" });
    await mkdir(join(dir, "folder.json"));
    await assert.rejects(readStateFile(join(dir, "folder.json"), 64), { code: "ENOTREG" });
    await assert.rejects(readStateFile(plain, 5), { code: "EFBIG" });
    await assert.rejects(readStateFile(join(dir, "missing.json"), 64), { code: "ENOENT" });
  });

  it("the record store: a FIFO or a sparse 2 GiB file is a status_unreadable error that names it and says what to do", async () => {
    const fifo = join(dir, "status-fifo.json");
    execFileSync("mkfifo", [fifo]);
    const huge = join(dir, "status-huge.json");
    await writeFile(huge, "");
    await truncate(huge, 2 * 1024 ** 3);
    for (const [path, says] of [
      [fifo, /is not a regular file/],
      [huge, new RegExp(`is 2147483648 bytes, more than ${MAX_RECORD_FILE_BYTES}`)],
    ] as const) {
      const err = await within(2_000, createFileStatusStore(path).read()).catch((e: unknown) => e);
      assert.ok(err instanceof StatusStoreError, String(err));
      assert.equal(err.code, "status_unreadable");
      assert.match(err.message, says);
      assert.match(err.remedy ?? "", /Move it out of the way/);
    }
  });

  it("a conversation whose snapshot file is a FIFO is an error, not a hang", async () => {
    const folder = join(dir, "conversations");
    const store = createConversationStore(folder);
    await store.save("agent:main:x", { v: 1 } as never);
    const [name] = await readdir(folder);
    assert.ok(name);
    await rm(join(folder, name));
    execFileSync("mkfifo", [join(folder, name)]);
    await assert.rejects(within(2_000, store.load("agent:main:x")), { code: "ENOTREG" });
  });
});
