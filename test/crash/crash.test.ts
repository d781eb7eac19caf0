// Crash safety (issue 5, item 4): a child process writing status records (or snapshot envelopes) in a loop is
// killed with SIGKILL at random moments; whatever it was doing, the file must be absent (before the first write
// only) or one whole valid record, mode 0600. Two writers finishing at once leave one whole record.
//
// CRASH_KILLS (default 200) kills per kind, CRASH_PAIRS (default 50) simultaneous pairs per kind, CRASH_SEED to
// replay the random kill delays of an earlier run (the seed is printed).

import assert from "node:assert/strict";
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { silentLogger } from "../../src/log.ts";
import { type CompletionRecord, CompletionRecordSchema } from "../../src/schema/record.ts";
import type { SnapshotEnvelope } from "../../src/schema/snapshot.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { openEnvelope } from "../../src/session/snapshot.ts";
import { runTurn } from "../../src/session/turn.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";
import { runFlow, TEST_KEY } from "../helpers/flow.ts";

const KILLS = envCount("CRASH_KILLS", 200);
const PAIRS = envCount("CRASH_PAIRS", 50);
const SEED = envCount("CRASH_SEED", randomInt(2 ** 31));
const MAX_KILL_DELAY_MS = 30;
const WRITER = fileURLToPath(new URL("./writer.ts", import.meta.url));

type Kind = "status" | "snapshot";

/** What a surviving file may be, and how to read it; `parse` throws on anything that is not a whole A or B. */
interface Subject {
  kind: Kind;
  inputs: [string, string];
  parse(text: string): "A" | "B";
}

let root = "";
/** Compiled code and stripped types are cached for the children: startup is most of each kill's cost. */
let compileCache = "";
const subjects = new Map<Kind, Subject>();

before(async () => {
  root = mkdtempSync(join(tmpdir(), "tokenhub-crash-"));
  compileCache = join(root, "compile-cache");
  const records = await twoRecords();
  const envelopes = await twoEnvelopes();
  subjects.set(
    "status",
    subject("status", records, (text) => CompletionRecordSchema.parse(JSON.parse(text))),
  );
  subjects.set(
    "snapshot",
    subject("snapshot", envelopes, (text) => openEnvelope(text)),
  );
  console.log(`# crash: CRASH_SEED=${SEED} CRASH_KILLS=${KILLS} CRASH_PAIRS=${PAIRS}`);
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

// The four loops are independent (own folders, own files) and spend most of their time starting Node, which
// is CPU-bound: side by side, they finish sooner wherever there are cores to spare.
describe("crash safety", { concurrency: true }, () => {
  for (const kind of ["status", "snapshot"] as const) {
    describe(`${kind} file`, { concurrency: true }, () => {
      it(`after each of ${KILLS} SIGKILLs at random moments: one whole record, the last finished write or the next`, async (t) => {
        const s = need(kind);
        const dir = join(root, `${kind}-kills`);
        mkdirSync(dir);
        const target = join(dir, `${kind}.json`);
        const random = mulberry32(SEED + (kind === "status" ? 0 : 1));
        const stats = { absent: 0, A: 0, B: 0, changes: 0, tempsLeft: 0 };
        let previous: "A" | "B" | undefined;
        const started = performance.now();

        let kills = 0;
        let writesSeen = 0;
        for (let i = 0; i < KILLS; i++) {
          kills += 1;
          const child = startWriter(["loop", kind, target, ...s.inputs]);
          await child.ready;
          await sleep(Math.floor(random() * (MAX_KILL_DELAY_MS + 1)));
          child.process.kill("SIGKILL");
          const exit = await child.exited;
          assert.equal(
            exit.signal,
            "SIGKILL",
            `the writer died on its own (code ${exit.code}): ${child.stderr()}`,
          );

          const when = `kill ${i + 1} (seed ${SEED})`;
          const seen = inspect(s, dir, target, when);
          // What must hold, however many writes a kill let through: the last write reported finished is on disk,
          // or the one after it (it may finish between the report and the kill); before any finished write of
          // this writer, what the previous one left, or its first record.
          const done = child.lastDone();
          const label = (n: number) => (n % 2 === 0 ? "A" : "B");
          const allowed = done === undefined ? [previous, "A"] : [label(done), label(done + 1)];
          assert.ok(
            allowed.includes(seen),
            `${when}: found ${seen ?? "nothing"}, the last finished write was ${done === undefined ? "none" : label(done)}`,
          );
          if (done !== undefined) writesSeen += done + 1;
          if (seen === undefined) {
            stats.absent += 1;
          } else {
            stats[seen] += 1;
            if (previous !== undefined && seen !== previous) stats.changes += 1;
            previous = seen;
          }
        }
        stats.tempsLeft = readdirSync(dir).filter((name) => name !== `${kind}.json`).length;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const line = `${kind}: ${kills} kills in ${seconds} s (${writesSeen} writes finished): absent ${stats.absent}, A ${stats.A}, B ${stats.B}, changes ${stats.changes}, temp files left ${stats.tempsLeft}`;
        t.diagnostic(line);
        console.log(`# crash ${line}`);
      });

      it(`leaves one whole record when two writers finish at once (${PAIRS} pairs)`, async (t) => {
        const s = need(kind);
        const dir = join(root, `${kind}-pairs`);
        mkdirSync(dir);
        let overlapped = 0;
        const won = { A: 0, B: 0 };
        const started = performance.now();

        for (let i = 0; i < PAIRS; i++) {
          const target = join(dir, `pair-${i}.json`);
          const writers = [
            startWriter(["once", kind, target, s.inputs[0]]),
            startWriter(["once", kind, target, s.inputs[1]]),
          ] as const;
          await Promise.all(writers.map((w) => w.ready));
          // One shared signal: both are released in the same tick.
          for (const w of writers) w.process.stdin.write("go\n");
          const exits = await Promise.all(writers.map((w) => w.exited));
          for (const [n, exit] of exits.entries()) {
            assert.equal(exit.code, 0, `writer ${n} failed: ${writers[n]?.stderr()}`);
          }
          const [a, b] = writers.map((w) => w.wrote());
          assert.ok(a && b, "each writer reported its write");

          const seen = inspect(s, dir, target, `pair ${i + 1}`);
          assert.ok(seen !== undefined, `pair ${i + 1}: no file after two finished writes`);
          won[seen] += 1;
          if (a.end > b.start && b.end > a.start) {
            overlapped += 1;
          } else {
            // One finished before the other began: the later one must be what is left.
            assert.equal(seen, a.start > b.start ? "A" : "B", `pair ${i + 1}: the earlier write survived`);
          }
          const temps = readdirSync(dir).filter((name) => name.startsWith(`.pair-${i}.json.`));
          assert.deepEqual(temps, [], "a write that finished leaves no temp file");
        }
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const line = `${kind}: ${PAIRS} pairs in ${seconds} s: overlapping writes ${overlapped}, A won ${won.A}, B won ${won.B}`;
        t.diagnostic(line);
        console.log(`# crash ${line}`);
      });
    });
  }
});

/**
 * The target as it is now: undefined when absent, else which whole record it is (asserting mode 0600). Any other
 * file in the folder must be one of the writer's temp files, which never take the target's name.
 */
function inspect(s: Subject, dir: string, target: string, when: string): "A" | "B" | undefined {
  const name = target.slice(dir.length + 1);
  const temp = new RegExp(`^\\.${name.replaceAll(".", "\\.")}\\.\\d+\\.[0-9a-f]{12}\\.tmp$`);
  for (const file of readdirSync(dir)) {
    if (file === name || !file.endsWith(".tmp") || !file.startsWith(".")) continue;
    if (!file.startsWith(`.${name}.`)) continue;
    assert.match(file, temp, `${when}: unexpected file ${file}`);
    assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, `${when}: temp file ${file} mode`);
  }
  let text: string;
  try {
    text = readFileSync(target, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  assert.equal(statSync(target).mode & 0o777, 0o600, `${when}: mode`);
  assert.ok(text.length > 0, `${when}: the file is empty`);
  try {
    return s.parse(text);
  } catch (err) {
    const shown = `${text.slice(0, 80)} ... ${text.slice(-80)} (${text.length} chars)`;
    assert.fail(`${when}: the ${s.kind} file is not a whole record: ${(err as Error).message}\n${shown}`);
  }
}

interface Writer {
  process: ChildProcessByStdio<Writable, Readable, Readable>;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** For `once`: when the write started and ended (monotonic clock, ns), once reported. */
  wrote(): { start: bigint; end: bigint } | undefined;
  /** For `loop`: the index of the last write it reported finished (A, B, A, ... from 0), if any. */
  lastDone(): number | undefined;
}

function startWriter(args: string[]): Writer {
  const child = spawn(process.execPath, [WRITER, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_COMPILE_CACHE: compileCache },
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // "close", not "exit": only then has everything the child wrote on stdout and stderr been read.
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("ready\n")) resolve();
    });
    void exited.then(({ code }) =>
      reject(new Error(`the writer exited (${code}) before it was ready: ${err}`)),
    );
  });
  ready.catch(() => {});
  return {
    process: child,
    ready,
    exited,
    stderr: () => err,
    wrote() {
      const match = /^wrote (\S+) (\S+)$/m.exec(out);
      return match ? { start: BigInt(match[1] ?? ""), end: BigInt(match[2] ?? "") } : undefined;
    },
    lastDone() {
      const all = [...out.matchAll(/^done (\d+)$/gm)];
      const last = all.at(-1)?.[1];
      return last === undefined ? undefined : Number(last);
    },
  };
}

function subject<T>(kind: Kind, [a, b]: [T, T], read: (text: string) => unknown): Subject {
  const inputs: [string, string] = [join(root, `${kind}-A.json`), join(root, `${kind}-B.json`)];
  writeFileSync(inputs[0], JSON.stringify(a));
  writeFileSync(inputs[1], JSON.stringify(b));
  // What a whole A or B reads back as, through the same reader as the survivors.
  const expectedA = read(JSON.stringify(a));
  const expectedB = read(JSON.stringify(b));
  assert.ok(!isDeepStrictEqual(expectedA, expectedB), "A and B differ");
  return {
    kind,
    inputs,
    parse(text) {
      const value = read(text);
      if (isDeepStrictEqual(value, expectedA)) return "A";
      if (isDeepStrictEqual(value, expectedB)) return "B";
      throw new Error("a valid record, but neither A nor B");
    },
  };
}

/** Two real records (a success and a failure) with long, different notes, so each write spans many pages. */
async function twoRecords(): Promise<[CompletionRecord, CompletionRecord]> {
  const ok = (await runFlow("happy")).records.at(-1);
  const failed = (await runFlow("server-503-always")).records.at(-1);
  assert.ok(ok && failed);
  return [
    { ...ok, notes: `record A: ${"the quick brown fox jumps over the lazy dog. ".repeat(6_000)}` },
    { ...failed, notes: `record B: ${"pack my box with five dozen liquor jugs! ".repeat(4_000)}` },
  ];
}

/** Two real envelopes from runTurn: resting for a key, and complete. */
async function twoEnvelopes(): Promise<[SnapshotEnvelope, SnapshotEnvelope]> {
  const common = { store: createMemoryStatusStore(), clock: createVirtualClock(), logger: silentLogger() };
  const waiting = await runTurn({
    ...common,
    event: { type: "SETUP" },
    sources: { env: {}, keychain: false },
  });
  assert.equal(waiting.state, "awaitingKey");
  const sim = await startSimulator({ scenario: "happy" });
  try {
    const complete = await runTurn({
      ...common,
      event: { type: "SETUP" },
      config: { baseUrl: sim.baseUrl },
      sources: { env: { TOKENHUB_API_KEY: TEST_KEY }, keychain: false },
    });
    assert.equal(complete.state, "complete");
    return [waiting.snapshot, complete.snapshot];
  } finally {
    await sim.close();
  }
}

function need(kind: Kind): Subject {
  const s = subjects.get(kind);
  assert.ok(s, `no ${kind} subject (setup failed)`);
  return s;
}

function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number, got ${raw}`);
  return value;
}

/** A small seeded generator, so a failing run's kill delays can be replayed with CRASH_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
