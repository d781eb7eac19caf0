// Benchmark 2: 1,000 flows at once in one process (in-memory record stores, one shared client and Agent)
// against 1,000 bare undici requests at once on the same Agent, alternating batch by batch.
//   node bench/concurrency.ts [--smoke] [--json] [--connections N]

import { createFlowKit } from "./lib/flows.ts";
import { spawnSimulator } from "./lib/sim-process.ts";
import { type BenchReport, benchArgs, emit, interleave, median, ms, note, type Row, x } from "./lib/stats.ts";

export const CONCURRENCY = 1_000;

/** This process's CPU time (user + system, ms) per variant, batch by batch: where the throughput goes. */
const cpu: Record<string, number[]> = { flow: [], bare: [] };

async function batch(name: "flow" | "bare", run: () => Promise<void>): Promise<void> {
  const before = process.cpuUsage();
  const all: Promise<void>[] = [];
  for (let i = 0; i < CONCURRENCY; i++) all.push(run());
  await Promise.all(all);
  const used = process.cpuUsage(before);
  cpu[name]?.push((used.user + used.system) / 1000);
}

export async function run(smoke: boolean, connections?: number): Promise<BenchReport> {
  const sim = await spawnSimulator("happy");
  // One Agent for both: the bare requests and the sessions' client draw on the same pool and settings.
  const kit = createFlowKit(sim.baseUrl, connections === undefined ? {} : { connections });
  const rounds = smoke ? 2 : 20;
  const warmup = smoke ? 1 : 2;
  try {
    note(
      `concurrency: ${rounds} interleaved rounds of ${CONCURRENCY} flows / ${CONCURRENCY} bare requests at once` +
        ` (connections per origin: ${connections ?? "unlimited, the client's default"})`,
    );
    const t = await interleave(
      { flow: () => batch("flow", kit.flow), bare: () => batch("bare", kit.bare) },
      { rounds, warmup },
    );
    const m = { flow: median(t.flow), bare: median(t.bare) };
    const throughput = { flow: (CONCURRENCY / m.flow) * 1000, bare: (CONCURRENCY / m.bare) * 1000 };
    const ratio = throughput.flow / throughput.bare;
    // Warm-up batches are recorded too; keep the measured ones (the last `rounds`).
    const cpuPer = {
      flow: median((cpu.flow ?? []).slice(-rounds)) / CONCURRENCY,
      bare: median((cpu.bare ?? []).slice(-rounds)) / CONCURRENCY,
    };
    const rows: Row[] = [
      {
        bench: "concurrency",
        measurement: `${CONCURRENCY} flows at once (createSession), throughput`,
        value: `${throughput.flow.toFixed(0)} flows/s (batch ${ms(m.flow, 1)})`,
        against: `bare undici ${throughput.bare.toFixed(0)} req/s (batch ${ms(m.bare, 1)})`,
        ratio: x(ratio),
        goal: ">= 0.7x",
        met: ratio >= 0.7,
        note: `connections per origin: ${connections ?? "unlimited"}`,
      },
      {
        bench: "concurrency",
        measurement: "CPU of this process per flow (user+system, median batch)",
        value: ms(cpuPer.flow),
        against: `per bare request ${ms(cpuPer.bare)}`,
        ratio: x(cpuPer.flow / cpuPer.bare),
        goal: "",
        met: null,
      },
    ];
    return {
      bench: "concurrency",
      mode: smoke ? "smoke" : "full",
      rows,
      details: { rounds, warmup, concurrency: CONCURRENCY, batchMs: t, cpuMs: cpu, agent: kit.agentOptions },
    };
  } finally {
    await kit.close();
    await sim.close();
  }
}

if (import.meta.main) {
  const { smoke, json } = benchArgs();
  const at = process.argv.indexOf("--connections");
  emit(await run(smoke, at > 0 ? Number(process.argv[at + 1]) : undefined), json);
}
