// Benchmark 1: what the whole Steps 1-5 flow costs on top of the one HTTP request it makes, and what the
// durable record write costs on top of a bare write + fsync + rename.
//   node bench/flow.ts [--smoke] [--json]

import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CompletionRecord } from "../src/schema/record.ts";
import { writeFileAtomic } from "../src/status/atomic-write.ts";
import { createFileStatusStore } from "../src/status/store.ts";
import { createFlowKit } from "./lib/flows.ts";
import { spawnSimulator } from "./lib/sim-process.ts";
import {
  type BenchReport,
  benchArgs,
  emit,
  interleave,
  median,
  ms,
  note,
  pairedDiff,
  percentile,
  type Row,
  x,
} from "./lib/stats.ts";

export async function flowOverhead(
  smoke: boolean,
): Promise<{ rows: Row[]; details: Record<string, unknown>; record: unknown }> {
  const sim = await spawnSimulator("happy");
  const kit = createFlowKit(sim.baseUrl);
  const rounds = smoke ? 150 : 3_000;
  const warmup = smoke ? 50 : 500;
  try {
    note(
      `flow: ${rounds} interleaved rounds of flow / turn / bare / openai against ${sim.baseUrl} (simulator pid ${sim.pid})`,
    );
    const t = await interleave(
      { flow: kit.flow, turn: kit.turn, bare: kit.bare, openai: kit.openai },
      { rounds, warmup },
    );
    const m = { flow: median(t.flow), turn: median(t.turn), bare: median(t.bare), openai: median(t.openai) };
    const ratio = m.flow / m.bare;
    const added = m.flow - m.bare;
    const rows: Row[] = [
      {
        bench: "flow",
        measurement: "Steps 1-5 via createSession, median per flow",
        value: ms(m.flow),
        against: `bare undici.request ${ms(m.bare)}`,
        ratio: x(ratio),
        goal: "<= 1.3x",
        met: ratio <= 1.3,
      },
      {
        bench: "flow",
        measurement: "added time per flow (createSession - bare)",
        value: ms(added),
        against: `paired median ${ms(pairedDiff(t.flow, t.bare))}`,
        ratio: ms(added),
        goal: "< 1 ms",
        met: added < 1,
      },
      {
        bench: "flow",
        measurement: "Steps 1-5 via createSession vs openai client",
        value: ms(m.flow),
        against: `openai chat.completions.create ${ms(m.openai)}`,
        ratio: x(m.flow / m.openai),
        goal: "",
        met: null,
      },
      {
        bench: "flow",
        measurement: "Steps 1-5 via runTurn (with snapshot), median per flow",
        value: ms(m.turn),
        against: `bare undici.request ${ms(m.bare)}`,
        ratio: x(m.turn / m.bare),
        goal: "",
        met: null,
        note: `added ${ms(m.turn - m.bare)}`,
      },
      {
        bench: "flow",
        measurement: "openai client vs bare undici.request",
        value: ms(m.openai),
        against: `bare undici.request ${ms(m.bare)}`,
        ratio: x(m.openai / m.bare),
        goal: "",
        met: null,
      },
    ];
    const p90 = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, percentile(v, 0.9)]));
    return {
      rows,
      details: { rounds, warmup, median: m, p90, agent: kit.agentOptions },
      record: kit.lastRecord(),
    };
  } finally {
    await kit.close();
    await sim.close();
  }
}

/**
 * The durable record write: createFileStatusStore(path).write(record) against a bare temp-file write, fsync,
 * close and rename of the same bytes (JSON.stringify done beforehand). Two more variants say where a difference
 * comes from: the bare write plus the directory fsync the store also does, and the store's writeFileAtomic alone
 * (the I/O without the record's validation, scrubbing and JSON.stringify).
 */
export async function recordWrite(
  smoke: boolean,
  record: CompletionRecord,
): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const dir = await mkdtemp(join(tmpdir(), "tokenhub-bench-"));
  const rounds = smoke ? 40 : 400;
  const warmup = smoke ? 5 : 20;
  const store = createFileStatusStore(join(dir, "status.json"));
  const bytes = `${JSON.stringify(record, null, 2)}\n`;
  let n = 0;
  const bareWrite = async (target: string, syncDir: boolean) => {
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
  try {
    note(
      `record write: ${rounds} interleaved rounds of store / bare / bare+dir-fsync / writeFileAtomic in ${dir}`,
    );
    const t = await interleave(
      {
        store: () => store.write(record),
        bare: () => bareWrite(join(dir, "bare.json"), false),
        bareDir: () => bareWrite(join(dir, "bare-dir.json"), true),
        atomic: () => writeFileAtomic(join(dir, "atomic.json"), bytes),
      },
      { rounds, warmup },
    );
    const m = {
      store: median(t.store),
      bare: median(t.bare),
      bareDir: median(t.bareDir),
      atomic: median(t.atomic),
    };
    const ratio = m.store / m.bare;
    const rows: Row[] = [
      {
        bench: "record write",
        measurement: "createFileStatusStore().write(record), median",
        value: ms(m.store),
        against: `bare write+fsync+rename ${ms(m.bare)}`,
        ratio: x(ratio),
        goal: "<= 1.1x",
        met: ratio <= 1.1,
      },
      {
        bench: "record write",
        measurement: "store write vs bare incl. directory fsync",
        value: ms(m.store),
        against: `bare write+fsync+rename+dir fsync ${ms(m.bareDir)}`,
        ratio: x(m.store / m.bareDir),
        goal: "",
        met: null,
      },
      {
        bench: "record write",
        measurement: "writeFileAtomic(bytes) alone vs bare incl. directory fsync",
        value: ms(m.atomic),
        against: `bare write+fsync+rename+dir fsync ${ms(m.bareDir)}`,
        ratio: x(m.atomic / m.bareDir),
        goal: "",
        met: null,
        note: `store - writeFileAtomic = ${ms(m.store - m.atomic)} (validate, scrub, stringify)`,
      },
    ];
    return { rows, details: { rounds, warmup, median: m, bytes: Buffer.byteLength(bytes), dir } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(smoke: boolean): Promise<BenchReport> {
  const flow = await flowOverhead(smoke);
  const write = await recordWrite(smoke, flow.record as CompletionRecord);
  return {
    bench: "flow",
    mode: smoke ? "smoke" : "full",
    rows: [...flow.rows, ...write.rows],
    details: { flow: flow.details, write: write.details },
  };
}

if (import.meta.main) {
  const { smoke, json } = benchArgs();
  emit(await run(smoke), json);
}
