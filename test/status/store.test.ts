import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StatusStoreError } from "../../src/errors.ts";
import type { CompletionRecord } from "../../src/schema/record.ts";
import { REDACTED, registerSecret } from "../../src/secrets/scrubber.ts";
import { writeFileAtomic } from "../../src/status/atomic-write.ts";
import { defaultStatusPath } from "../../src/status/paths.ts";
import { createFileStatusStore, createMemoryStatusStore } from "../../src/status/store.ts";

let root: string;
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "tokenhub-status-test-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh, not yet existing folder inside the test root. */
function freshDir(): string {
  counter++;
  return join(root, `case-${counter}`);
}

function record(overrides: Partial<CompletionRecord> = {}): CompletionRecord {
  return {
    integration_status: "success",
    provider_mode: "platform-routing",
    model: "deepseek-v3.2",
    endpoint: "POST /v1/chat/completions",
    validated_at: "2025-06-01T12:00:00.000Z",
    notes: "TokenHub API is ready for production wiring.",
    result: {
      base_url: "https://tokenhub.example/v1",
      attempted_at: "2025-06-01T12:00:00.000Z",
      notices: [],
      request_ids: [],
      http_status: 200,
      model_served: "deepseek-v3.2",
      response_id: "chatcmpl-123",
      latency_ms: 412,
      attempts: 1,
      fallbacks_used: [],
      key_source: "env",
      streamed: false,
      reply_preview: "OK",
    },
    ...overrides,
  };
}

async function expectStoreError(promise: Promise<unknown>, code: string): Promise<StatusStoreError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StatusStoreError, `expected StatusStoreError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.ok(caught.remedy.length > 0);
  return caught;
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("writeFileAtomic", () => {
  it("creates missing folders 0700 and the file 0600", async () => {
    const dir = join(freshDir(), "nested", "deeper");
    const file = join(dir, "status.json");
    await writeFileAtomic(file, "hello\n");
    assert.equal(await readFile(file, "utf8"), "hello\n");
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(dir), 0o700);
    assert.equal(await mode(join(dir, "..")), 0o700);
  });

  it("removes temp files that killed writers left behind, and keeps those of writers still alive", async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    // A pid that has certainly exited: a child that ran and was reaped.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    const live = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      const stale = `.status.json.${dead}.aaaaaaaaaaaa.tmp`;
      const busy = `.status.json.${live.pid}.bbbbbbbbbbbb.tmp`;
      const other = `.other.json.${dead}.cccccccccccc.tmp`;
      for (const name of [stale, busy, other]) await writeFile(join(dir, name), "half a record");
      await writeFileAtomic(join(dir, "status.json"), "whole\n");
      const left = (await readdir(dir)).sort();
      assert.deepEqual(
        left,
        [busy, other, "status.json"].sort(),
        "only the dead writer's temp of this target is gone",
      );
    } finally {
      live.kill();
    }
  });

  it("replaces an existing file whole, and makes it 0600 even if it was wider", async () => {
    const dir = freshDir();
    await mkdir(dir);
    const file = join(dir, "status.json");
    await writeFile(file, "x".repeat(10_000), { mode: 0o644 });
    await writeFileAtomic(file, new TextEncoder().encode("short"));
    assert.equal(await readFile(file, "utf8"), "short");
    assert.equal(await mode(file), 0o600);
    assert.deepEqual(await readdir(dir), ["status.json"], "no temp file left");
  });

  it("leaves no temp file behind when the rename fails (target is a directory)", async () => {
    const dir = freshDir();
    const target = join(dir, "status.json");
    await mkdir(target, { recursive: true });
    await writeFile(join(target, "inside"), "keep");
    await assert.rejects(writeFileAtomic(target, "data"));
    assert.deepEqual(await readdir(dir), ["status.json"]);
    assert.equal(await readFile(join(target, "inside"), "utf8"), "keep");
  });

  it("fails when the folder cannot be created (a file is in the way)", async () => {
    const dir = freshDir();
    await mkdir(dir);
    await writeFile(join(dir, "blocker"), "a file");
    await assert.rejects(writeFileAtomic(join(dir, "blocker", "status.json"), "data"));
    assert.deepEqual(await readdir(dir), ["blocker"]);
  });

  it("survives concurrent writers: the file is always one whole version", async () => {
    const dir = freshDir();
    const file = join(dir, "status.json");
    const versions = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(50_000)}\n`);
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    assert.ok(versions.includes(await readFile(file, "utf8")));
    assert.deepEqual(await readdir(dir), ["status.json"]);
  });
});

describe("createFileStatusStore", () => {
  it("round-trips a record and writes it 0600 as indented JSON", async () => {
    const path = join(freshDir(), "status.json");
    const store = createFileStatusStore(path);
    assert.equal(store.location, path);
    const rec = record({
      integration_status: "failed",
      validated_at: null,
      notes: "Integration failed: TokenHub kept failing for every attempt allowed.",
      failure: {
        code: "retries_exhausted",
        message: "Three 503s.",
        remedy: "Try later.",
        retryAt: "2025-06-01T12:05:00.000Z",
      },
    });
    await store.write(rec);
    assert.deepEqual(await store.read(), rec);
    assert.equal(await mode(path), 0o600);
    const text = await readFile(path, "utf8");
    assert.ok(text.endsWith("}\n"));
    assert.deepEqual(JSON.parse(text), rec);
  });

  it("replaces the previous record", async () => {
    const path = join(freshDir(), "status.json");
    const store = createFileStatusStore(path);
    await store.write(record({ notes: "first" }));
    await store.write(record({ notes: "second" }));
    assert.equal((await store.read())?.notes, "second");
  });

  it("reads a missing file as undefined", async () => {
    assert.equal(await createFileStatusStore(join(freshDir(), "none.json")).read(), undefined);
  });

  it("refuses an invalid record before writing anything, keeping the old file", async () => {
    const dir = freshDir();
    const path = join(dir, "status.json");
    const store = createFileStatusStore(path);
    const good = record();
    await store.write(good);
    const before = await readFile(path, "utf8");
    const bad = [
      { ...good, integration_status: "done" },
      { ...good, validated_at: "yesterday" },
      { ...good, result: { ...good.result, reply_preview: "x".repeat(81) } },
      { ...good, model: undefined },
      // The template's values are fixed: a success with another endpoint, or a failure that claims a validation.
      { ...good, endpoint: "https://tokenhub.link/v1/chat/completions" },
      { ...good, validated_at: null },
      {
        ...good,
        integration_status: "failed",
        failure: { code: "fatal", message: "m", remedy: "r" },
      },
      { ...good, failure: { code: "fatal", message: "m", remedy: "r" } },
    ] as unknown as CompletionRecord[];
    for (const rec of bad) {
      const err = await expectStoreError(store.write(rec), "status_invalid");
      assert.ok(err.message.length < 300, "a sentence, not a dump");
    }
    assert.equal(await readFile(path, "utf8"), before);
    assert.deepEqual(await readdir(dir), ["status.json"]);
  });

  it("refuses an invalid record into a fresh path without creating the folder", async () => {
    const dir = freshDir();
    const store = createFileStatusStore(join(dir, "status.json"));
    await expectStoreError(
      store.write({ ...record(), provider_mode: "?" } as unknown as CompletionRecord),
      "status_invalid",
    );
    await assert.rejects(stat(dir), { code: "ENOENT" });
  });

  for (const [label, content] of [
    ["not JSON", "{ this is not json"],
    ["JSON of the wrong shape", JSON.stringify({ integration_status: "success" })],
    ["a JSON array", "[]"],
    ["JSON null", "null"],
    ["an empty file", ""],
    ["truncated JSON", `${JSON.stringify(record()).slice(0, 40)}`],
  ] as const) {
    it(`reads ${label} as status_corrupt and leaves the file as it is`, async () => {
      const dir = freshDir();
      await mkdir(dir);
      const path = join(dir, "status.json");
      await writeFile(path, content, { mode: 0o600 });
      const err = await expectStoreError(createFileStatusStore(path).read(), "status_corrupt");
      assert.ok(err.message.includes(path));
      assert.equal(await readFile(path, "utf8"), content);
    });
  }

  it("reads records written by 0.1.0 (before the template's own values), upgraded, and leaves the file", async () => {
    const legacyResult = {
      http_status: 200,
      model_served: "deepseek-v3.2",
      response_id: "chatcmpl-1",
      latency_ms: 412,
      attempts: 1,
      fallbacks_used: [],
      key_source: "env",
      streamed: false,
      reply_preview: "OK",
    };
    const success = {
      integration_status: "complete",
      provider_mode: "bare",
      model: "deepseek-v3.2",
      endpoint: "https://tokenhub.link/v1/chat/completions",
      validated_at: "2026-11-24T20:38:41.375Z",
      notes: "Minimal chat completion validated.",
      result: legacyResult,
    };
    const failed = {
      ...success,
      integration_status: "failed",
      provider_mode: "plan",
      model: "plan-x",
      notes: "Integration check failed: routing_exhausted.",
      failure: { code: "routing_exhausted", message: "No model format could be served.", remedy: "Adjust." },
      result: { ...legacyResult, http_status: 503, model_served: null, reply_preview: null },
    };
    for (const [legacy, expected] of [
      [
        success,
        {
          integration_status: "success",
          provider_mode: "platform-routing",
          validated_at: success.validated_at,
        },
      ],
      [failed, { integration_status: "failed", provider_mode: "plan-model", validated_at: null }],
    ] as const) {
      const dir = freshDir();
      await mkdir(dir);
      const path = join(dir, "status.json");
      const text = JSON.stringify(legacy, null, 2);
      await writeFile(path, text, { mode: 0o600 });
      const read = await createFileStatusStore(path).read();
      assert.ok(read);
      assert.equal(read.integration_status, expected.integration_status);
      assert.equal(read.provider_mode, expected.provider_mode);
      assert.equal(read.validated_at, expected.validated_at);
      assert.equal(read.endpoint, "POST /v1/chat/completions");
      assert.equal(read.result.base_url, "https://tokenhub.link/v1");
      assert.equal(read.result.attempted_at, success.validated_at);
      assert.equal(read.notes, legacy.notes, "the old notes are kept as written");
      assert.equal(await readFile(path, "utf8"), text, "reading never rewrites the file");
    }
    // Only 0.1.0's own shape is upgraded: its endpoint was the chat URL. Half-old, half-new files are corrupt.
    for (const odd of [
      { ...success, endpoint: 12 },
      { ...success, endpoint: "POST /v1/chat/completions" },
      { ...success, endpoint: "tokenhub.link/v1/chat/completions" },
    ]) {
      const dir = freshDir();
      await mkdir(dir);
      const path = join(dir, "status.json");
      await writeFile(path, JSON.stringify(odd), { mode: 0o600 });
      await expectStoreError(createFileStatusStore(path).read(), "status_corrupt");
    }
  });

  it("reads a directory in place of the file as status_unreadable", async () => {
    const path = join(freshDir(), "status.json");
    await mkdir(path, { recursive: true });
    await expectStoreError(createFileStatusStore(path).read(), "status_unreadable");
  });

  it("gives status_write_failed with a remedy when the folder cannot be written", async () => {
    const dir = freshDir();
    await mkdir(dir);
    await writeFile(join(dir, "blocker"), "a file");
    const store = createFileStatusStore(join(dir, "blocker", "status.json"));
    const err = await expectStoreError(store.write(record()), "status_write_failed");
    assert.match(err.remedy, /writable/);
    assert.ok(err.cause instanceof Error);
  });

  it("gives status_write_failed when the target is a directory, and leaves no temp file", async () => {
    const dir = freshDir();
    const path = join(dir, "status.json");
    await mkdir(path, { recursive: true });
    await expectStoreError(createFileStatusStore(path).write(record()), "status_write_failed");
    assert.deepEqual(await readdir(dir), ["status.json"]);
  });

  it("writes a record scrubbed of registered keys, at any depth", async () => {
    const key = `sk-th-${randomBytes(12).toString("hex")}`;
    registerSecret(key);
    const path = join(freshDir(), "status.json");
    const store = createFileStatusStore(path);
    const rec = record({
      notes: `Validated with ${key}.`,
      result: { ...record().result, reply_preview: `echo ${key}`, fallbacks_used: [key] },
    });
    await store.write(rec);
    const text = await readFile(path, "utf8");
    assert.ok(!text.includes(key));
    const back = await store.read();
    assert.equal(back?.notes, `Validated with ${REDACTED}.`);
    assert.equal(back?.result.reply_preview, `echo ${REDACTED}`);
    assert.deepEqual(back?.result.fallbacks_used, [REDACTED]);
    assert.equal(rec.notes, `Validated with ${key}.`, "the caller's record is not mutated");
  });

  it("never writes a record it could not read back: scrubbing must not push a field past its limit", async () => {
    const key = `k${randomBytes(3).toString("hex")}`; // 7 characters become the 10 of "[redacted]"
    registerSecret(key);
    const path = join(freshDir(), "status.json");
    const store = createFileStatusStore(path);
    const preview = `${"o".repeat(80 - key.length)}${key}`;
    assert.equal(preview.length, 80);
    try {
      await store.write(record({ result: { ...record().result, reply_preview: preview } }));
    } catch (err) {
      assert.ok(err instanceof StatusStoreError, String(err));
      return;
    }
    const back = await store.read();
    assert.ok(back && !JSON.stringify(back).includes(key));
  });
});

describe("createMemoryStatusStore", () => {
  it("keeps scrubbed records in order and reads the last", async () => {
    const key = `sk-th-${randomBytes(12).toString("hex")}`;
    registerSecret(key);
    const store = createMemoryStatusStore();
    assert.equal(await store.read(), undefined);
    await store.write(record({ notes: "one" }));
    await store.write(record({ notes: `two ${key}` }));
    assert.equal(store.records.length, 2);
    assert.equal((await store.read())?.notes, `two ${REDACTED}`);
    await expectStoreError(store.write({} as CompletionRecord), "status_invalid");
  });
});

describe("defaultStatusPath", () => {
  it("uses an absolute XDG_STATE_HOME", () => {
    assert.equal(
      defaultStatusPath({ XDG_STATE_HOME: "/var/state", HOME: "/home/u" }),
      "/var/state/tokenhub-setup/status.json",
    );
  });

  it("ignores a relative or empty XDG_STATE_HOME", () => {
    for (const xdg of ["state", "./state", "~/state", ""]) {
      assert.equal(
        defaultStatusPath({ XDG_STATE_HOME: xdg, HOME: "/home/u" }),
        "/home/u/.local/state/tokenhub-setup/status.json",
      );
    }
  });

  it("falls back to HOME/.local/state when unset", () => {
    assert.equal(defaultStatusPath({ HOME: "/home/u" }), "/home/u/.local/state/tokenhub-setup/status.json");
  });

  it("falls back to the OS home folder when HOME is unset too", () => {
    const path = defaultStatusPath({});
    assert.ok(path.endsWith(join(".local", "state", "tokenhub-setup", "status.json")));
    assert.ok(path.startsWith("/"));
  });
});
