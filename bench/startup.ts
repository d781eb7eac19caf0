// Benchmark 4: start-up, as fresh processes side by side, round by round in rotating order, every time a
// ratio to `node -e 0` measured in the same round (or, for the whole run, to the `openai` client's script):
//   node -e 0                                             the baseline
//   node dist/index.js                                    import the package entry (the library)
//   node dist/cli/main.js --help / --version              the bin's quickest answers
//   node dist/cli/main.js --base-url SIM --json           a whole setup run against the simulator
//   node bench/openai-probe.mjs SIM RECORD                the same with the official openai client
// Each case runs twice per round: with a cold compile cache (NODE_COMPILE_CACHE set to a new, empty folder for
// every process: a first run) and a warm one (NODE_COMPILE_CACHE set to the folder the case's first cold run
// filled, as a second run of the same command finds it). The
// bin calls module.enableCompileCache() with no folder, which means NODE_COMPILE_CACHE when it is set and a
// shared folder under os.tmpdir() otherwise; the old benchmark removed the variable, so the bin used that
// shared, warm folder while the row said "from scratch". Here every case has the variable set, baseline included.
// Built files only (users run them): run `npm run build` first.
//   node bench/startup.ts [--smoke] [--json]

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { BENCH_KEY } from "./lib/flows.ts";
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
} from "./lib/stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST_ENTRY = "dist/index.js";
const DIST_CLI = "dist/cli/main.js";

type Mode = "cold" | "warm";

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
  for (const file of [DIST_ENTRY, DIST_CLI]) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
  }
  const sim = await spawnSimulator("happy");
  const scratch = mkdtempSync(join(tmpdir(), "tokenhub-bench-startup-"));
  const env: NodeJS.ProcessEnv = { ...process.env, TOKENHUB_API_KEY: BENCH_KEY };
  delete env.NODE_OPTIONS;
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  // The CLI's default folders (record, key file, cache) point into the scratch folder, never the user's.
  for (const v of ["XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"]) env[v] = join(scratch, v);
  const succeeded = (stdout: string) => {
    const record = JSON.parse(stdout) as { integration_status?: string };
    if (record.integration_status !== "success") throw new Error(`the run ended ${stdout.slice(0, 80)}`);
  };
  const cases: Record<string, Case> = {
    baseline: { args: ["-e", "0"] },
    import: { args: [DIST_ENTRY] },
    help: { args: [DIST_CLI, "--help"] },
    version: { args: [DIST_CLI, "--version"] },
    cli: {
      args: [
        DIST_CLI,
        "--base-url",
        sim.baseUrl,
        "--json",
        "--status-file",
        join(scratch, "cli-status.json"),
      ],
      check: succeeded,
    },
    openai: {
      args: ["bench/openai-probe.mjs", sim.baseUrl, join(scratch, "openai-status.json")],
      check: succeeded,
    },
  };
  const names = Object.keys(cases);
  const modes: Mode[] = ["cold", "warm"];
  const runs = modes.flatMap((mode) => names.map((name) => ({ mode, name })));
  // Each case's warm cache is the folder its first cold run filled (round 0 runs every cold case first).
  const warmCache: Record<string, string> = {};
  let fresh = 0;
  const cacheFor = (mode: Mode, name: string) => {
    if (mode === "warm") {
      const primed = warmCache[name];
      if (!primed) throw new Error(`no primed compile cache for ${name}`);
      return primed;
    }
    return join(scratch, `cold-${++fresh}`);
  };
  const rounds = smoke ? 1 : 20;
  const times: Record<string, number[]> = Object.fromEntries(runs.map((r) => [`${r.mode}:${r.name}`, []]));
  try {
    note(
      `startup: ${rounds} rounds of fresh processes, cold and warm compile cache: ${names.join(" / ")} (a case's warm cache is what its first cold run wrote)`,
    );
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < runs.length; i++) {
        const { mode, name } = runs[(round + i) % runs.length] as { mode: Mode; name: string };
        const cache = cacheFor(mode, name);
        times[`${mode}:${name}`]?.push(runOnce(cases[name] as Case, { ...env, NODE_COMPILE_CACHE: cache }));
        if (mode === "cold" && warmCache[name] === undefined) warmCache[name] = cache;
        else if (mode === "cold") rmSync(cache, { recursive: true, force: true });
      }
    }
  } finally {
    await sim.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const t = (mode: Mode, name: string) => times[`${mode}:${name}`] as number[];
  const rows: Row[] = [];
  const row = (
    mode: Mode,
    name: string,
    measurement: string,
    against: string,
    goal?: { text: string; max: number },
  ) => {
    const ratios = spreadOf(pairedRatios(t(mode, name), t(mode, against)));
    rows.push({
      bench: "startup",
      measurement: `${measurement}, ${mode} compile cache`,
      value: ms(median(t(mode, name)), 1),
      against: `${against === "baseline" ? "node -e 0" : "openai client script"} ${ms(median(t(mode, against)), 1)}`,
      ratio: x(ratios.median),
      spread: spreadText(ratios),
      goal: goal?.text ?? "",
      met: goal ? ratios.median <= goal.max : null,
    });
  };
  const fromZero = { text: "<= 1.5x", max: 1.5 };
  for (const mode of modes) {
    row(mode, "import", `library import: node ${DIST_ENTRY}`, "baseline", fromZero);
    row(mode, "help", `node ${DIST_CLI} --help`, "baseline", fromZero);
    row(mode, "version", `node ${DIST_CLI} --version`, "baseline", fromZero);
    row(mode, "cli", "whole run: tokenhub-setup --base-url SIM --json", "openai", {
      text: "<= 1.0x",
      max: 1.0,
    });
  }
  for (const mode of modes) {
    row(mode, "cli", "whole run: tokenhub-setup --base-url SIM --json", "baseline");
    row(mode, "openai", "the openai client script (bench/openai-probe.mjs)", "baseline");
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  return { bench: "startup", mode: smoke ? "smoke" : "full", rows, details: { rounds, median: m, times } };
}

if (import.meta.main) {
  const { smoke, json } = benchArgs();
  emit(await run(smoke), json);
}
