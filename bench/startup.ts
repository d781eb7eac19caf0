// Benchmark 4: start-up, as fresh processes side by side, round by round in rotating order:
//   node -e 0                                   the baseline
//   node src/index.ts                           import the package entry (type stripping included)
//   node dist/index.js                          the built entry, when dist/ exists
//   node src/cli/main.ts --simulate --json      a whole CLI run against the built-in simulator
//   node dist/cli/main.js --simulate --json     the same with the built CLI (what the bin runs), if present
// Reported: medians and the time over the baseline. NODE_OPTIONS and NODE_COMPILE_CACHE are removed from the
// children's environment, so every run compiles from scratch as a first run on a user's machine does.
//   node bench/startup.ts [--smoke] [--json]

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type BenchReport, benchArgs, emit, median, ms, note, type Row, x } from "./lib/stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST_ENTRY = "dist/index.js";
const DIST_CLI = "dist/cli/main.js";

interface Case {
  args: string[];
  /** Throws when the process did not do what it should have. */
  check?: (stdout: string) => void;
}

function runOnce(c: Case, env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, c.args, {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  const elapsed = performance.now() - started;
  if (child.status !== 0) {
    const tail = `${child.stderr}`.trim().split("\n").slice(-3).join(" | ");
    throw new Error(`node ${c.args.join(" ")} exited ${child.status ?? child.signal}: ${tail}`);
  }
  c.check?.(child.stdout);
  return elapsed;
}

export async function run(smoke: boolean): Promise<BenchReport> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_COMPILE_CACHE;
  const completes = (stdout: string) => {
    const record = JSON.parse(stdout) as { integration_status?: string };
    if (record.integration_status !== "success")
      throw new Error(`the --simulate run ended ${stdout.slice(0, 80)}`);
  };
  const cases: Record<string, Case> = {
    baseline: { args: ["-e", "0"] },
    src: { args: ["src/index.ts"] },
    ...(existsSync(`${ROOT}/${DIST_ENTRY}`) ? { dist: { args: [DIST_ENTRY] } } : {}),
    cli: { args: ["src/cli/main.ts", "--simulate", "--json"], check: completes },
    ...(existsSync(`${ROOT}/${DIST_CLI}`)
      ? { distCli: { args: [DIST_CLI, "--simulate", "--json"], check: completes } }
      : {}),
  };
  const names = Object.keys(cases);
  const rounds = smoke ? 2 : 30;
  // The smoke run has no time for a warm-up round; its medians are of two fresh runs each.
  const warmup = smoke ? 0 : 1;
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  note(
    `startup: ${rounds} interleaved rounds of fresh processes: ${names.join(" / ")} (plus ${warmup} warm-up)`,
  );
  for (let round = 0; round < warmup + rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] as string;
      const elapsed = runOnce(cases[name] as Case, env);
      if (round >= warmup) times[name]?.push(elapsed);
    }
  }
  const m = Object.fromEntries(names.map((n) => [n, median(times[n] as number[])])) as Record<string, number>;
  const base = m.baseline as number;
  const rows: Row[] = [];
  const importRow = (name: string, label: string) => {
    const over = (m[name] as number) - base;
    rows.push({
      bench: "startup",
      measurement: `import the package entry: node ${label}`,
      value: ms(m[name] as number, 1),
      against: `node -e 0 ${ms(base, 1)}`,
      ratio: `+${ms(over, 1)} (${x((m[name] as number) / base)})`,
      goal: "< 50 ms over baseline",
      met: over < 50,
    });
  };
  importRow("src", "src/index.ts");
  if (m.dist !== undefined) importRow("dist", `${DIST_ENTRY} (built; may be older than src)`);
  rows.push({
    bench: "startup",
    measurement: "CLI run: node src/cli/main.ts --simulate --json",
    value: ms(m.cli as number, 1),
    against: `node -e 0 ${ms(base, 1)}`,
    ratio: `+${ms((m.cli as number) - base, 1)} (${x((m.cli as number) / base)})`,
    goal: "",
    met: null,
  });
  if (m.distCli !== undefined) {
    rows.push({
      bench: "startup",
      measurement: `CLI run, built: node ${DIST_CLI} --simulate --json`,
      value: ms(m.distCli, 1),
      against: `node -e 0 ${ms(base, 1)}`,
      ratio: `+${ms(m.distCli - base, 1)} (${x(m.distCli / base)})`,
      goal: "",
      met: null,
    });
  }
  return {
    bench: "startup",
    mode: smoke ? "smoke" : "full",
    rows,
    details: { rounds, warmup, median: m, times },
  };
}

if (import.meta.main) {
  const { smoke, json } = benchArgs();
  emit(await run(smoke), json);
}
