// Benchmark 2: many flows at once in one process (in-memory record stores, one shared client) against as many
// bare undici requests at once, with a connection cap on both sides.
//   1,000 at once: throughput of flows vs bare requests. Each variant runs in fresh processes of its own that
//     alternate (flow, bare, bare, flow, ...), so the flows' garbage is not collected inside a bare batch; the
//     ratio is the median of the per-repeat ratios, with their spread. Both use an Agent with the same
//     `connections` cap, passed to the client as its dispatcher (createTokenHubClient's `dispatcher` option).
//   10,000 at once: does every flow complete, and is there any EMFILE or escalation? Once with the cap passed
//     the same way, once with the client's own default dispatcher (what a host that passes none gets).
//   node bench/concurrency.ts [--smoke] [--json] [--connections N]     (default 256)
//   node bench/concurrency.ts --child flow|bare --base-url URL --connections N --batches N --warmup N
//     [--concurrency N]
//   node bench/concurrency.ts --child many --base-url URL [--connections N] --count N   (no --connections:
//     the client's own dispatcher)

import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createFlowKit } from "./lib/flows.ts";
import { alternateFresh, argValue, runChildJson } from "./lib/fresh.ts";
import { spawnSimulator } from "./lib/sim-process.ts";
import {
  type BenchReport,
  benchArgs,
  emit,
  median,
  ms,
  note,
  pairedRatios,
  type Row,
  spreadOf,
  spreadText,
  x,
  µs,
} from "./lib/stats.ts";

const FILE = "bench/concurrency.ts";
export const CONCURRENCY = 1_000;
const SMOKE_CONCURRENCY = 100;
export const MANY = 10_000;
export const DEFAULT_CONNECTIONS = 256;

interface BatchResult {
  variant: "flow" | "bare";
  batches: number;
  /** Median wall time of a batch of `concurrency` at once, ms. */
  batchMs: number;
  /** Main-thread CPU per operation over the measured batches, µs. */
  cpuUs: number;
}

interface ManyResult {
  count: number;
  connections: number | null;
  wallMs: number;
  statuses: Record<string, number>;
  emfile: number;
  /** Most file descriptors this process had open at once (sampled every 50 ms; Linux /proc), or null. */
  peakFds: number | null;
  /** The hard limit on open files (Node raises the soft limit to it at start-up), or null. */
  fdLimit: string | null;
  /** The first output that was not `complete`, shortened. */
  firstFailure?: string;
  /** A flow that threw instead of ending (counted under status "threw"). */
  firstThrow?: string;
}

async function batchChild(
  variant: "flow" | "bare",
  baseUrl: string,
  connections: number,
  batches: number,
  warmup: number,
  concurrency: number,
): Promise<BatchResult> {
  const kit = createFlowKit(baseUrl, { connections });
  const run = variant === "flow" ? kit.flow : kit.bare;
  const batch = async () => {
    const all: Promise<void>[] = [];
    for (let i = 0; i < concurrency; i++) all.push(run());
    await Promise.all(all);
  };
  try {
    for (let i = 0; i < warmup; i++) await batch();
    const times: number[] = [];
    const cpu0 = process.threadCpuUsage();
    for (let i = 0; i < batches; i++) {
      const t0 = performance.now();
      await batch();
      times.push(performance.now() - t0);
    }
    const cpu = process.threadCpuUsage(cpu0);
    return {
      variant,
      batches,
      batchMs: median(times),
      cpuUs: (cpu.user + cpu.system) / (batches * concurrency),
    };
  } finally {
    await kit.close();
  }
}

async function manyChild(
  baseUrl: string,
  connections: number | undefined,
  count: number,
): Promise<ManyResult> {
  const kit = createFlowKit(baseUrl, connections === undefined ? { clientDefaults: true } : { connections });
  const statuses: Record<string, number> = {};
  let emfile = 0;
  let firstFailure: string | undefined;
  let firstThrow: string | undefined;
  let peakFds: number | null = null;
  const countFds = () => {
    try {
      peakFds = Math.max(peakFds ?? 0, readdirSync("/proc/self/fd").length);
    } catch {
      // not Linux: no count
    }
  };
  const sampler = setInterval(countFds, 50);
  try {
    await kit.attempt(); // loads undici and warms the pool's code path
    const t0 = performance.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      all.push(
        kit.attempt().then(
          (r) => {
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            if (r.output?.includes("EMFILE")) emfile++;
            if (r.output && !firstFailure) firstFailure = r.output.slice(0, 400);
          },
          (err: Error) => {
            statuses.threw = (statuses.threw ?? 0) + 1;
            if (String(err.stack ?? err).includes("EMFILE")) emfile++;
            firstThrow ??= String(err.message).slice(0, 300);
          },
        ),
      );
    }
    await Promise.all(all);
    return {
      peakFds,
      fdLimit: fdLimit(),
      count,
      connections: connections ?? null,
      wallMs: performance.now() - t0,
      statuses,
      emfile,
      ...(firstFailure ? { firstFailure } : {}),
      ...(firstThrow ? { firstThrow } : {}),
    };
  } finally {
    clearInterval(sampler);
    await kit.close();
  }
}

function fdLimit(): string | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    return line?.split(/\s{2,}/)[2] ?? null;
  } catch {
    return null;
  }
}

function manyRow(r: ManyResult, how: string, goal: boolean): Row {
  const complete = r.statuses.complete ?? 0;
  const others = Object.entries(r.statuses)
    .filter(([s]) => s !== "complete")
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  const ok = complete === r.count && r.emfile === 0;
  return {
    bench: "concurrency",
    measurement: `${r.count.toLocaleString("en")} flows at once, ${how}`,
    value: `${complete.toLocaleString("en")} of ${r.count.toLocaleString("en")} complete${others ? ` (${others})` : ""}`,
    against: `EMFILE in ${r.emfile} flows; peak ${r.peakFds ?? "?"} open fds (hard limit ${r.fdLimit ?? "?"}); ${(r.wallMs / 1000).toFixed(1)} s`,
    ratio: `${((complete / r.count) * 100).toFixed(1)}% complete`,
    goal: goal ? "all complete, no EMFILE" : "",
    met: goal ? ok : null,
    ...(r.firstFailure || r.firstThrow ? { note: r.firstFailure ?? r.firstThrow } : {}),
  };
}

export async function run(smoke: boolean, connections = DEFAULT_CONNECTIONS): Promise<BenchReport> {
  const sim = await spawnSimulator("happy");
  const repeats = smoke ? 1 : 5;
  const batches = smoke ? 1 : 3;
  const warmup = 1;
  // The smoke run starts fewer at once (the row says so); its ratio is a smoke signal, not the result.
  const concurrency = smoke ? SMOKE_CONCURRENCY : CONCURRENCY;
  const common = ["--base-url", sim.baseUrl, "--connections", String(connections)];
  const batchArgs = (v: string) => [
    "--child",
    v,
    ...common,
    "--batches",
    String(batches),
    "--warmup",
    String(warmup),
    "--concurrency",
    String(concurrency),
  ];
  try {
    note(
      `concurrency: ${repeats} repeats of flow / bare, each a fresh process of ${warmup} + ${batches} batches of ${concurrency} at once, connections per origin ${connections}`,
    );
    const t = await alternateFresh<"flow" | "bare", BatchResult>(
      FILE,
      { flow: batchArgs("flow"), bare: batchArgs("bare") },
      { repeats },
    );
    // Throughput ratio flow/bare = bare batch time / flow batch time, paired by repeat.
    const ratios = spreadOf(
      pairedRatios(
        t.bare.map((r) => r.batchMs),
        t.flow.map((r) => r.batchMs),
      ),
    );
    const m = { flow: median(t.flow.map((r) => r.batchMs)), bare: median(t.bare.map((r) => r.batchMs)) };
    const cpu = {
      flow: median(t.flow.map((r) => r.cpuUs)),
      bare: median(t.bare.map((r) => r.cpuUs)),
    };
    const cpuRatios = spreadOf(
      pairedRatios(
        t.flow.map((r) => r.cpuUs),
        t.bare.map((r) => r.cpuUs),
      ),
    );
    const rows: Row[] = [
      {
        bench: "concurrency",
        measurement: `${concurrency.toLocaleString("en")} flows at once vs bare, throughput (cap ${connections} on both; fresh processes, ${repeats} repeat${repeats === 1 ? "" : "s"})${smoke ? " (smoke: 100, not 1,000)" : ""}`,
        value: `${((concurrency / m.flow) * 1000).toFixed(0)} flows/s (batch ${ms(m.flow, 1)})`,
        against: `bare undici ${((concurrency / m.bare) * 1000).toFixed(0)} req/s (batch ${ms(m.bare, 1)})`,
        ratio: x(ratios.median),
        spread: spreadText(ratios),
        // 100 at once says nothing about 1,000 at once: the smoke run prints the ratio but judges no goal.
        goal: smoke ? ">= 0.5x (judged at 1,000: full run)" : ">= 0.5x",
        met: smoke ? null : ratios.median >= 0.5,
      },
      {
        bench: "concurrency",
        measurement: "main-thread CPU per flow under that load",
        value: µs(cpu.flow),
        against: `per bare request ${µs(cpu.bare)}`,
        ratio: x(cpuRatios.median),
        spread: spreadText(cpuRatios),
        goal: "",
        met: null,
      },
    ];
    const details: Record<string, unknown> = { repeats, batches, warmup, connections, batch: t };
    if (smoke) {
      rows.push({
        bench: "concurrency",
        measurement: `${MANY.toLocaleString("en")} flows at once (full run only)`,
        value: "not run in the smoke run",
        against: "",
        ratio: "",
        goal: "all complete, no EMFILE",
        met: null,
      });
    } else {
      note(`concurrency: ${MANY} flows at once, cap ${connections} via the client's dispatcher option`);
      const capped = await runChildJson<ManyResult>(FILE, [
        "--child",
        "many",
        ...common,
        "--count",
        String(MANY),
      ]);
      note(`concurrency: ${MANY} flows at once, the client's own default dispatcher`);
      const own = await runChildJson<ManyResult>(FILE, [
        "--child",
        "many",
        "--base-url",
        sim.baseUrl,
        "--count",
        String(MANY),
      ]);
      rows.push(
        manyRow(capped, `cap ${connections} passed as the client's dispatcher (an Agent)`, true),
        manyRow(own, "the client's own default dispatcher (what a host that passes none gets)", false),
      );
      details.many = { capped, own };
    }
    return { bench: "concurrency", mode: smoke ? "smoke" : "full", rows, details };
  } finally {
    await sim.close();
  }
}

if (import.meta.main) {
  const childKind = argValue("--child");
  const connectionsArg = argValue("--connections");
  const connections = connectionsArg === undefined ? undefined : Number(connectionsArg);
  if (childKind) {
    const baseUrl = argValue("--base-url");
    if (!baseUrl) throw new Error("--child needs --base-url");
    const result =
      childKind === "many"
        ? await manyChild(baseUrl, connections, Number(argValue("--count") ?? MANY))
        : await batchChild(
            childKind as "flow" | "bare",
            baseUrl,
            connections ?? DEFAULT_CONNECTIONS,
            Number(argValue("--batches") ?? 4),
            Number(argValue("--warmup") ?? 1),
            Number(argValue("--concurrency") ?? CONCURRENCY),
          );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const { smoke, json } = benchArgs();
    emit(await run(smoke, connections), json);
  }
}
