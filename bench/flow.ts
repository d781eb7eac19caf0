// Benchmark 1: what the whole Steps 1-5 flow costs on top of the one HTTP request it makes, against the official
// openai client, in CPU without the network, and what the durable record write costs on top of a bare
// write + fsync + rename + directory fsync.
//
// Fairness: every variant runs in a fresh process of its own (bench/lib/fresh.ts), the processes alternate
// (A B, B A, ...), and each ratio is the median of the ratios paired within a repeat, with their spread. In one
// shared process the flow's garbage was collected inside the bare request's timing (issue 15).
//   node bench/flow.ts [--smoke] [--json]        the benchmark: starts the simulator and the children
//   node bench/flow.ts --child VARIANT --base-url URL --rounds N --warmup N
//       one variant in this process: flow | turn | bare | openai | replay (flow), store | bareWrite |
//       bareDirWrite | atomic (record write); prints one JSON line

import { mkdtemp, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { CompletionRecord } from "../src/schema/record.ts";
import { writeFileAtomic } from "../src/status/atomic-write.ts";
import { createFileStatusStore } from "../src/status/store.ts";
import { createFlowKit } from "./lib/flows.ts";
import { alternateFresh, argValue } from "./lib/fresh.ts";
import { spawnSimulator } from "./lib/sim-process.ts";
import {
  type BenchReport,
  benchArgs,
  emit,
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
type Variant = FlowVariant | WriteVariant;

function variantArgs<K extends string>(names: readonly K[], args: (v: K) => string[]): Record<K, string[]> {
  return Object.fromEntries(names.map((v) => [v, args(v)])) as Record<K, string[]>;
}

/** What one child reports: its variant's per-call times and this process's CPU per call. */
export interface ChildResult {
  variant: Variant;
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
 * The child: one variant, `warmup` unmeasured calls, then `rounds` timed one by one. A flow child writes the
 * record its flows produced to `recordPath`; a write child reads it from there.
 */
async function child(
  variant: Variant,
  baseUrl: string,
  rounds: number,
  warmup: number,
  recordPath: string,
): Promise<ChildResult> {
  const isFlow = (FLOW_VARIANTS as readonly string[]).includes(variant);
  const kit = isFlow ? createFlowKit(baseUrl) : undefined;
  const dir = await mkdtemp(join(tmpdir(), "tokenhub-bench-"));
  try {
    let run: () => Promise<unknown>;
    if (kit) {
      run = kit[variant as (typeof FLOW_VARIANTS)[number]];
    } else {
      const record = JSON.parse(await readFile(recordPath, "utf8")) as CompletionRecord;
      const bytes = `${JSON.stringify(record, null, 2)}\n`;
      const store = createFileStatusStore(join(dir, "status.json"));
      run =
        variant === "store"
          ? () => store.write(record)
          : variant === "atomic"
            ? () => writeFileAtomic(join(dir, "atomic.json"), bytes)
            : bareWriter(dir, bytes, variant === "bareDirWrite");
    }
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
    if (kit && variant === "flow") await writeFile(recordPath, JSON.stringify(kit.lastRecord()));
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
    await kit?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const med = (list: ChildResult[], k: "medianMs" | "cpuUs") => median(list.map((r) => r[k]));

/** A ratio row: `a` against `b`, median of the per-repeat ratios of their medians, with the spread. */
function ratioRow(
  bench: string,
  a: ChildResult[],
  b: ChildResult[],
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
  const repeats = smoke ? 2 : 5;
  const flowRounds = smoke ? 150 : 2_000;
  const flowWarmup = smoke ? 50 : 500;
  const writeRounds = smoke ? 20 : 300;
  const writeWarmup = smoke ? 5 : 20;
  const args = (v: Variant, rounds: number, warmup: number) => [
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
      `record write: ${repeats} repeats of ${WRITE_VARIANTS.join(" / ")}, each a fresh process of ${writeRounds} writes after ${writeWarmup} warm-up`,
    );
    const w = await alternateFresh<WriteVariant, ChildResult>(
      FILE,
      variantArgs(WRITE_VARIANTS, (v) => args(v, writeRounds, writeWarmup)),
      { repeats },
    );
    const fresh = `fresh processes, ${repeats} repeats`;
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
        `createFileStatusStore().write(record) (${fresh})`,
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
  const variant = argValue("--child") as Variant | undefined;
  if (variant) {
    const baseUrl = argValue("--base-url");
    if (!baseUrl) throw new Error("--child needs --base-url");
    const result = await child(
      variant,
      baseUrl,
      Number(argValue("--rounds") ?? 1000),
      Number(argValue("--warmup") ?? 200),
      argValue("--record") ?? join(tmpdir(), "tokenhub-bench-record.json"),
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const { smoke, json } = benchArgs();
    emit(await run(smoke), json);
  }
}
