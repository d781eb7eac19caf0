// Variants in alternating fresh processes. Two variants sharing one process share one heap: the garbage one
// leaves behind is collected during the other's timing, and their JIT state mixes. Here every measurement is a
// child process of its own that runs one variant only, and the children alternate: repeat r runs the variants
// in an order rotated by r (A B, B A, A B, ... for two), one child at a time, so neighbours share the
// machine's conditions and no variant is always first. A result is compared with the other variants' results
// of the same repeat (paired ratios), and the spread of those ratios over the repeats is reported.

import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The measuring children load the TypeScript sources through Node's type stripping, which on this machine
 * costs about half a second per process; a compile cache of their own (Node caches stripped modules too) halves
 * that. It only shortens loading: every child measures after its own warm-up calls, and start-up itself is
 * measured by bench/startup.ts with its own, explicit cache settings.
 */
const CHILD_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_COMPILE_CACHE: join(tmpdir(), "tokenhub-bench-children-compile-cache"),
};

/** Runs `node [flags] file ...args` in the project root; resolves with the JSON object on its last stdout line. */
export function runChildJson<T>(
  file: string,
  args: readonly string[],
  options: { nodeFlags?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<T> {
  // `node bench/run.ts --cpu-prof-dir DIR` profiles the measuring children too (run.ts sets this variable).
  const profDir = process.env.BENCH_CPU_PROF_DIR;
  const prof = profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...prof, file, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? CHILD_ENV,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code !== 0) {
        const tail = err.trim().split("\n").slice(-4).join(" | ");
        return reject(new Error(`node ${file} ${args.join(" ")} exited ${code ?? signal}: ${tail}`));
      }
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as T);
      } catch {
        reject(new Error(`node ${file} ${args.join(" ")} printed no JSON result`));
      }
    });
  });
}

export interface AlternateOptions {
  /** Repeats: each runs every variant once, in a fresh process. */
  repeats: number;
  nodeFlags?: readonly string[];
  /** Called after each child (a progress note). */
  progress?: (repeat: number, variant: string) => void;
}

/**
 * Runs `node file ...args[variant]` for every variant, `repeats` times, one process at a time, in an order
 * rotated every repeat. Returns each variant's results by repeat (index i of every list is repeat i).
 */
export async function alternateFresh<K extends string, T>(
  file: string,
  variants: Record<K, readonly string[]>,
  options: AlternateOptions,
): Promise<Record<K, T[]>> {
  const names = Object.keys(variants) as K[];
  const results = Object.fromEntries(names.map((n) => [n, [] as T[]])) as unknown as Record<K, T[]>;
  for (let r = 0; r < options.repeats; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length] as K;
      const result = await runChildJson<T>(file, variants[name], {
        ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
      });
      results[name].push(result);
      options.progress?.(r, name);
    }
  }
  return results;
}

/** The value of `--name value` in argv, or undefined. */
export function argValue(name: string, argv: readonly string[] = process.argv): string | undefined {
  const at = argv.indexOf(name);
  return at > 0 ? argv[at + 1] : undefined;
}
