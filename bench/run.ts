// Runs every benchmark, each in a fresh child process (so one's heap and JIT state do not colour the next),
// and prints one table of ratios with each goal met or missed, then the goal rows alone. flow and concurrency
// go further: each of their variants runs in fresh processes of its own, alternating (bench/lib/fresh.ts).
//   node bench/run.ts [--smoke] [--only flow,concurrency,parked,startup,scrubber] [--markdown] [--cpu-prof-dir DIR]
// --smoke   short mode (about 30 s on a quiet machine); every row is still printed, from fewer repeats and
//           rounds (one repeat, so its spreads say nothing; the 10,000-flow row is full-run only).
// --markdown  also prints both tables as markdown (for BENCHMARKS.md).
// Exit code: 0 whenever every benchmark ran, missed goals included; 1 only when one crashed.

import { execFileSync, spawn } from "node:child_process";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type BenchReport, formatTable, goalRows, markdownTable, type Row } from "./lib/stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const BENCHES: { name: string; file: string; nodeFlags: string[] }[] = [
  { name: "flow", file: "bench/flow.ts", nodeFlags: [] },
  { name: "concurrency", file: "bench/concurrency.ts", nodeFlags: [] },
  { name: "parked", file: "bench/parked.ts", nodeFlags: ["--expose-gc"] },
  { name: "startup", file: "bench/startup.ts", nodeFlags: [] },
  { name: "scrubber", file: "bench/scrubber.ts", nodeFlags: [] },
];

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "";
  }
}

export function machine(): Record<string, string> {
  const cpus = os.cpus();
  const dirty = git(["status", "--porcelain", "--", "src", "package.json"]);
  return {
    node: process.versions.node,
    cpus: `${os.availableParallelism()} x ${cpus[0]?.model ?? "unknown"}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    commit: `${git(["rev-parse", "--short", "HEAD"]) || "unknown"}${dirty ? " + uncommitted changes in src/package.json" : ""}`,
    date: new Date().toISOString(),
  };
}

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

function runChild(
  file: string,
  flags: string[],
  smoke: boolean,
  profileDir: string | undefined,
): Promise<BenchReport> {
  const args = [
    ...flags,
    ...(profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []),
    file,
    "--json",
    ...(smoke ? ["--smoke"] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code !== 0) return reject(new Error(`${file} exited ${code ?? signal}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as BenchReport);
      } catch {
        reject(new Error(`${file} printed no report`));
      }
    });
  });
}

async function main(): Promise<number> {
  const smoke = process.argv.includes("--smoke");
  const only = option("--only")?.split(",");
  const profileDir = option("--cpu-prof-dir");
  // The benchmarks measure in child processes of their own (bench/lib/fresh.ts); they profile those too.
  if (profileDir) process.env.BENCH_CPU_PROF_DIR = profileDir;
  const started = performance.now();
  const info = machine();
  const header = [
    `tokenhub-setup benchmarks (${smoke ? "smoke" : "full"}): node ${process.argv.slice(1).join(" ").replace(ROOT, "")}`,
    ...Object.entries(info).map(([k, v]) => `  ${k.padEnd(7)} ${v}`),
    `  load    ${load()} (1/5/15 min) at start; the machine is shared, so compare ratios, not absolute times`,
  ];
  process.stderr.write(`${header.join("\n")}\n\n`);

  const rows: Row[] = [];
  const crashed: string[] = [];
  for (const bench of BENCHES) {
    if (only && !only.includes(bench.name)) continue;
    const t0 = performance.now();
    try {
      const report = await runChild(bench.file, bench.nodeFlags, smoke, profileDir);
      rows.push(...report.rows);
      process.stderr.write(`  ${bench.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      crashed.push(bench.name);
      process.stderr.write(`  ${bench.name}: CRASHED: ${(err as Error).message}\n`);
      rows.push({
        bench: bench.name,
        measurement: "(crashed)",
        value: "",
        against: (err as Error).message,
        ratio: "",
        goal: "",
        met: null,
        crashed: true,
        note: (err as Error).message,
      });
    }
  }
  const wall = (performance.now() - started) / 1000;
  const withGoal = rows.filter((r) => r.met !== null);
  const missed = withGoal.filter((r) => r.met === false);
  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  process.stdout.write(`The goals (issue 15), one line each:\n${formatTable(goalRows(rows))}\n\n`);
  process.stdout.write(
    `goals: ${withGoal.length - missed.length} met, ${missed.length} missed` +
      `${crashed.length ? `; CRASHED: ${crashed.join(", ")}` : ""}; wall time ${wall.toFixed(1)} s; load ${load()} at end\n`,
  );
  if (process.argv.includes("--markdown")) {
    process.stdout.write(`\n${markdownTable(goalRows(rows))}\n\nAll rows:\n\n${markdownTable(rows)}\n`);
  }
  if (profileDir) process.stdout.write(`CPU profiles in ${profileDir}: node bench/profile-summary.ts FILE\n`);
  // Missed goals are results, not failures: only a crash fails the run.
  return crashed.length > 0 ? 1 : 0;
}

if (import.meta.main) process.exitCode = await main();
