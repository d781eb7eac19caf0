// Benchmark 1: what the whole Steps 1-5 flow costs on top of the one HTTP request it makes, against the official
// openai client, in CPU without the network, and what the durable record write costs on top of a bare
// write + fsync + rename + directory fsync.
//
// Fairness: every variant runs in a fresh process of its own (bench/lib/fresh.ts), the processes alternate
// (A B, B A, ...), and each ratio is the median of the ratios paired within a repeat, with their spread. In one
// shared process the flow's garbage was collected inside the bare request's timing (issue 15).
//   node bench/flow.ts [--smoke] [--json]        the benchmark: starts the simulator and the children
//   node bench/flow.ts --child VARIANT --base-url URL --rounds N --warmup N --record FILE
//       one flow variant in this process (flow | turn | bare | openai | replay), or `writes`: the record-write
//       variants interleaved (see writesChild); prints one JSON line

import { mkdtemp, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { CompletionRecord } from "../src/schema/record.ts";
import { writeFileAtomic } from "../src/status/atomic-write.ts";
import { createFileStatusStore } from "../src/status/store.ts";
import { createFlowKit } from "./lib/flows.ts";
import { alternateFresh, argValue, runChildJson } from "./lib/fresh.ts";
import { spawnSimulator } from "./lib/sim-process.ts";
import {
  type BenchReport,
  benchArgs,
  emit,
  interleave,
  median,
  ms,
  note,
  pairedDiffs,
  pairedRatios,
  percentile,
  type Row,
  spreadOf,
  spreadText,
  x,
  µs,
} from "./lib/stats.ts";

const FILE = "bench/flow.ts";
const FLOW_VARIANTS = ["flow", "turn", "bare", "openai", "replay"] as const;
const WRITE_VARIANTS = ["store", "bareWrite", "bareDirWrite", "atomic"] as const;
type FlowVariant = (typeof FLOW_VARIANTS)[number];
type WriteVariant = (typeof WRITE_VARIANTS)[number];

function variantArgs<K extends string>(names: readonly K[], args: (v: K) => string[]): Record<K, string[]> {
  return Object.fromEntries(names.map((v) => [v, args(v)])) as Record<K, string[]>;
}

/** What one child reports: its variant's per-call times and this process's CPU per call. */
export interface ChildResult {
  variant: FlowVariant;
  rounds: number;
  warmup: number;
  medianMs: number;
  p90Ms: number;
  /**
   * user + system CPU of the main thread (process.threadCpuUsage) over the measured calls, per call, µs: the
   * thread that runs the flow, with the garbage collection done on it. Background threads (JIT compilation,
   * concurrent marking, the parallel parts of GC) are left out; they are in `processCpuUs`.
   */
  cpuUs: number;
  /** user + system CPU of the whole process over the measured calls, per call, µs. */
  processCpuUs: number;
}

/** A record write of `bytes` the bare way: temp file, write, fsync, close, rename (and the directory's fsync). */
function bareWriter(dir: string, bytes: string, syncDir: boolean): () => Promise<void> {
  let n = 0;
  const target = join(dir, syncDir ? "bare-dir.json" : "bare.json");
  return async () => {
    const temp = `${target}.${++n}.tmp`;
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    if (syncDir) {
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
  };
}

/**
 * A flow child: one variant, `warmup` unmeasured calls, then `rounds` timed one by one. The `flow` child writes
 * the record its flows produced to `recordPath`, for the record-write children.
 */
async function child(
  variant: FlowVariant,
  baseUrl: string,
  rounds: number,
  warmup: number,
  recordPath: string,
): Promise<ChildResult> {
  const kit = createFlowKit(baseUrl);
  try {
    const run = kit[variant];
    for (let i = 0; i < warmup; i++) await run();
    const times: number[] = new Array(rounds);
    const proc0 = process.cpuUsage();
    const cpu0 = process.threadCpuUsage();
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await run();
      times[i] = performance.now() - t0;
    }
    const cpu = process.threadCpuUsage(cpu0);
    const proc = process.cpuUsage(proc0);
    if (variant === "flow") await writeFile(recordPath, JSON.stringify(kit.lastRecord()));
    return {
      variant,
      rounds,
      warmup,
      medianMs: median(times),
      p90Ms: percentile(times, 0.9),
      cpuUs: (cpu.user + cpu.system) / rounds,
      processCpuUs: (proc.user + proc.system) / rounds,
    };
  } finally {
    await kit.close();
  }
}

/**
 * A record-write child: the four write variants interleaved call by call (balanced orders: each follows every
 * other equally often) in this one process,
 * so each store write is timed next to the bare writes it is compared with. The writes are I/O: their times
 * follow the disk and the other processes' fsyncs far more than the few kilobytes the store allocates, and
 * pairs of fresh processes seconds apart gave ratios from 0.44x to 1.42x. Repeats are fresh processes.
 */
async function writesChild(rounds: number, warmup: number, recordPath: string): Promise<WriteResult> {
  const dir = await mkdtemp(join(tmpdir(), "tokenhub-bench-"));
  try {
    const record = JSON.parse(await readFile(recordPath, "utf8")) as CompletionRecord;
    const bytes = `${JSON.stringify(record, null, 2)}\n`;
    const store = createFileStatusStore(join(dir, "status.json"));
    const t = await interleave(
      {
        store: () => store.write(record),
        bareWrite: bareWriter(dir, bytes, false),
        bareDirWrite: bareWriter(dir, bytes, true),
        atomic: () => writeFileAtomic(join(dir, "atomic.json"), bytes),
      },
      { rounds, warmup },
    );
    const medians = Object.fromEntries(
      WRITE_VARIANTS.map((v) => [v, { medianMs: median(t[v]), p90Ms: percentile(t[v], 0.9) }]),
    ) as WriteResult;
    return medians;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type WriteResult = Record<WriteVariant, { medianMs: number; p90Ms: number }>;

const med = <K extends string>(list: Record<K, number>[], k: K) => median(list.map((r) => r[k]));

/** A ratio row: `a` against `b`, median of the per-repeat ratios of their medians, with the spread. */
function ratioRow(
  bench: string,
  a: { medianMs: number }[],
  b: { medianMs: number }[],
  measurement: string,
  against: string,
  goal?: { text: string; max: number },
): Row {
  const ratios = spreadOf(
    pairedRatios(
      a.map((r) => r.medianMs),
      b.map((r) => r.medianMs),
    ),
  );
  return {
    bench,
    measurement,
    value: ms(med(a, "medianMs")),
    against: `${against} ${ms(med(b, "medianMs"))}`,
    ratio: x(ratios.median),
    spread: spreadText(ratios),
    goal: goal?.text ?? "",
    met: goal ? ratios.median <= goal.max : null,
  };
}

export async function flowRows(smoke: boolean): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const sim = await spawnSimulator("happy");
  const dir = await mkdtemp(join(tmpdir(), "tokenhub-bench-record-"));
  const recordPath = join(dir, "record.json");
  const repeats = smoke ? 1 : 5;
  const flowRounds = smoke ? 150 : 2_000;
  const flowWarmup = smoke ? 50 : 500;
  const writeRounds = smoke ? 20 : 300;
  const writeWarmup = smoke ? 5 : 20;
  const args = (v: string, rounds: number, warmup: number) => [
    "--child",
    v,
    "--base-url",
    sim.baseUrl,
    "--rounds",
    String(rounds),
    "--warmup",
    String(warmup),
    "--record",
    recordPath,
  ];
  try {
    note(
      `flow: ${repeats} repeats of ${FLOW_VARIANTS.join(" / ")}, each a fresh process of ${flowRounds} calls after ${flowWarmup} warm-up, alternating, against ${sim.baseUrl} (simulator pid ${sim.pid})`,
    );
    const f = await alternateFresh<FlowVariant, ChildResult>(
      FILE,
      variantArgs(FLOW_VARIANTS, (v) => args(v, flowRounds, flowWarmup)),
      { repeats },
    );
    note(
      `record write: ${repeats} fresh processes, each ${writeRounds} rounds (after ${writeWarmup} warm-up) of ${WRITE_VARIANTS.join(" / ")} interleaved`,
    );
    const perChild: WriteResult[] = [];
    for (let r = 0; r < repeats; r++) {
      perChild.push(await runChildJson<WriteResult>(FILE, args("writes", writeRounds, writeWarmup)));
    }
    const w = Object.fromEntries(WRITE_VARIANTS.map((v) => [v, perChild.map((c) => c[v])])) as {
      [K in WriteVariant]: { medianMs: number; p90Ms: number }[];
    };
    const fresh = `fresh processes, ${repeats} repeat${repeats === 1 ? "" : "s"}`;
    const cpuAdded = spreadOf(
      pairedDiffs(
        f.flow.map((r) => r.cpuUs),
        f.bare.map((r) => r.cpuUs),
      ),
    );
    const replayCpu = spreadOf(f.replay.map((r) => r.cpuUs));
    const rows: Row[] = [
      ratioRow(
        "flow",
        f.flow,
        f.bare,
        `Steps 1-5 via createSession vs bare undici.request, median per call (${fresh})`,
        "bare undici.request",
        { text: "<= 1.5x", max: 1.5 },
      ),
      ratioRow(
        "flow",
        f.flow,
        f.openai,
        `Steps 1-5 via createSession vs the openai client in-process (${fresh})`,
        "openai chat.completions.create",
        { text: "<= 0.8x", max: 0.8 },
      ),
      {
        bench: "flow",
        measurement: "CPU per flow without the network: flow's main-thread CPU - bare request's, per call",
        value: µs(cpuAdded.median),
        against: `flow ${µs(med(f.flow, "cpuUs"))}, bare ${µs(med(f.bare, "cpuUs"))} per call`,
        ratio: µs(cpuAdded.median),
        spread: spreadText(cpuAdded, (v) => µs(v)),
        goal: "<= 100 µs",
        met: cpuAdded.median <= 100,
      },
      {
        bench: "flow",
        measurement: "main-thread CPU per flow, no HTTP at all (the client replays a recorded response)",
        value: µs(replayCpu.median),
        against: `time per call ${ms(med(f.replay, "medianMs"))}`,
        ratio: µs(replayCpu.median),
        spread: spreadText(replayCpu, (v) => µs(v)),
        goal: "",
        met: null,
      },
      ratioRow(
        "flow",
        f.turn,
        f.bare,
        "Steps 1-5 via runTurn (with snapshot) vs bare undici.request",
        "bare undici.request",
      ),
      ratioRow("flow", f.openai, f.bare, "openai client vs bare undici.request", "bare undici.request"),
      ratioRow(
        "record write",
        w.store,
        w.bareDirWrite,
        `createFileStatusStore().write(record) (interleaved call by call; ${repeats} fresh process${repeats === 1 ? "" : "es"})`,
        "bare write+fsync+rename+dir fsync",
        { text: "<= 1.05x", max: 1.05 },
      ),
      ratioRow(
        "record write",
        w.store,
        w.bareWrite,
        "store write vs bare without the directory fsync",
        "bare write+fsync+rename",
      ),
      ratioRow(
        "record write",
        w.atomic,
        w.bareDirWrite,
        "writeFileAtomic(bytes) alone (no validation, scrub, stringify)",
        "bare write+fsync+rename+dir fsync",
      ),
    ];
    return {
      rows,
      details: { repeats, flowRounds, flowWarmup, writeRounds, writeWarmup, flow: f, write: w },
    };
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(smoke: boolean): Promise<BenchReport> {
  const { rows, details } = await flowRows(smoke);
  return { bench: "flow", mode: smoke ? "smoke" : "full", rows, details };
}

if (import.meta.main) {
  const variant = argValue("--child");
  if (variant) {
    const baseUrl = argValue("--base-url");
    if (!baseUrl) throw new Error("--child needs --base-url");
    const rounds = Number(argValue("--rounds") ?? 1000);
    const warmup = Number(argValue("--warmup") ?? 200);
    const recordPath = argValue("--record") ?? join(tmpdir(), "tokenhub-bench-record.json");
    const result =
      variant === "writes"
        ? await writesChild(rounds, warmup, recordPath)
        : await child(variant as FlowVariant, baseUrl, rounds, warmup, recordPath);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const { smoke, json } = benchArgs();
    emit(await run(smoke), json);
  }
}
