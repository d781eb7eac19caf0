// Measurement helpers shared by the benchmarks. The machine these run on is shared and noisy, so nothing here
// trusts an absolute time on its own: variants run interleaved (A, B, A, B, ...), in a balanced order that changes
// each round so none is always first or always after the same neighbour, and results are medians compared as ratios.

import { performance } from "node:perf_hooks";

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The p-th percentile (0..1), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}

export type Variants<K extends string> = Record<K, () => Promise<unknown>>;

export interface InterleaveOptions {
  /** Measured rounds; each round runs every variant once (or `batch` times). */
  rounds: number;
  /** Unmeasured rounds first (JIT, connection pool, caches). @default 0 */
  warmup?: number;
  /** Calls per variant per round, timed together and divided. @default 1 */
  batch?: number;
  /** Called between rounds, outside the timed region (e.g. a progress dot). */
  between?: (round: number) => void | Promise<void>;
}

/**
 * The orders of a balanced (Williams) design for n variants: every variant comes first equally often and follows
 * every other equally often over the cycle (n orders for even n, 2n for odd). A plain rotation (A B C D, B C D A,
 * ...) always puts the same variant after the same neighbour, so what one leaves behind (the bare write without a
 * directory fsync leaves the disk work for whoever writes next) is always paid by the same other.
 */
export function balancedOrders(n: number): number[][] {
  const base: number[] = [];
  for (let i = 0, lo = 1, hi = n - 1; i < n; i++) base.push(i === 0 ? 0 : i % 2 === 1 ? lo++ : hi--);
  const rows = Array.from({ length: n }, (_, r) => base.map((v) => (v + r) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/**
 * Runs the variants interleaved, in the balanced orders of `balancedOrders` round after round, and
 * returns each variant's per-call times in milliseconds, round by round (index i of every list is the same
 * round, so paired comparisons are possible).
 */
export async function interleave<K extends string>(
  variants: Variants<K>,
  options: InterleaveOptions,
): Promise<Record<K, number[]>> {
  const names = Object.keys(variants) as K[];
  const batch = options.batch ?? 1;
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<K, number[]>;
  const total = (options.warmup ?? 0) + options.rounds;
  const orders = balancedOrders(names.length);
  for (let round = 0; round < total; round++) {
    const measured = round >= (options.warmup ?? 0);
    for (const index of orders[round % orders.length] as number[]) {
      const name = names[index] as K;
      const run = variants[name];
      const started = performance.now();
      for (let j = 0; j < batch; j++) await run();
      const elapsed = (performance.now() - started) / batch;
      if (measured) times[name].push(elapsed);
    }
    await options.between?.(round);
  }
  return times;
}

/** Median of the per-round differences a[i] - b[i] (the rounds were interleaved, so pairs share conditions). */
export function pairedDiff(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x - (b[i] as number)));
}

/** Median of the per-round ratios a[i] / b[i]. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / (b[i] as number)));
}

/** The per-round ratios a[i] / b[i] (pairs share a round, so conditions). */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / (b[i] as number));
}

/** The per-round differences a[i] - b[i]. */
export function pairedDiffs(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x - (b[i] as number));
}

/** Median and spread of a sample: min-max always, the quartiles when there are enough values to mean much. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  n: number;
}

export function spreadOf(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    q1: percentile(values, 0.25),
    q3: percentile(values, 0.75),
    n: values.length,
  };
}

/**
 * The spread in words: min-max for up to 9 values (repeats), the interquartile range beyond that (rounds),
 * with n. `unit` formats one value ("1.23x", "45 µs").
 */
export function spreadText(s: Spread, unit: (v: number) => string = x): string {
  if (s.n <= 9) return `${unit(s.min)} - ${unit(s.max)} (min-max, n=${s.n})`;
  return `${unit(s.q1)} - ${unit(s.q3)} (IQR, n=${s.n})`;
}

export function µs(value: number, digits = 0): string {
  return `${value.toFixed(digits)} µs`;
}

/** One line of the results table. */
export interface Row {
  bench: string;
  measurement: string;
  /** The measured value, formatted with its unit. */
  value: string;
  /** What it is compared with, formatted ("bare undici 0.41 ms"), or "" */
  against: string;
  /** The ratio or difference the goal is about, formatted, or "". */
  ratio: string;
  /** The spread of `ratio` over repeats (min-max) or rounds (IQR), or "". */
  spread?: string;
  /** The goal in words, or "" for an informative row. */
  goal: string;
  /** true met, false missed, null no goal. */
  met: boolean | null;
  note?: string;
  /** The benchmark crashed: no measurement. */
  crashed?: boolean;
}

export interface BenchReport {
  bench: string;
  mode: "smoke" | "full";
  rows: Row[];
  /** Free-form details (sample counts, settings) for the report. */
  details: Record<string, unknown>;
}

export function ms(value: number, digits = 3): string {
  return `${value.toFixed(digits)} ms`;
}

export function x(value: number): string {
  return `${value.toFixed(2)}x`;
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KB`;
}

/** Prints a progress note on stderr (stdout carries the JSON report). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Parses the flags every benchmark understands. */
export function benchArgs(argv: readonly string[] = process.argv.slice(2)): {
  smoke: boolean;
  json: boolean;
} {
  return { smoke: argv.includes("--smoke"), json: argv.includes("--json") };
}

/** Ends a benchmark run: the report as JSON on stdout (for run.ts) or as a table. */
export function emit(report: BenchReport, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${formatTable(report.rows)}\n`);
}

/** met / MISSED / - (no goal) / CRASHED (the benchmark itself failed; `note` says why). */
function verdict(r: Row, markdown = false): string {
  if (r.crashed) return markdown ? "**crashed**" : "CRASHED";
  if (r.met === null) return "-";
  return r.met ? "met" : markdown ? "**missed**" : "MISSED";
}

export function formatTable(rows: readonly Row[]): string {
  const header = ["bench", "measurement", "value", "against", "ratio / delta", "spread", "goal", "result"];
  const lines = rows.map((r) => [
    r.bench,
    r.measurement,
    r.value,
    r.against,
    r.ratio,
    r.spread ?? "",
    r.goal,
    verdict(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join("  ");
  return [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt)].join("\n");
}

/** Only the rows that carry a goal: the one-screen answer to "which goals are met". */
export function goalRows(rows: readonly Row[]): Row[] {
  return rows.filter((r) => r.met !== null || r.crashed);
}

export function markdownTable(rows: readonly Row[]): string {
  const header = "| bench | measurement | value | against | ratio / delta | spread | goal | result |";
  const sep = "| --- | --- | --- | --- | --- | --- | --- | --- |";
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const lines = rows.map(
    (r) =>
      `| ${[r.bench, r.measurement, r.value, r.against, r.ratio, r.spread ?? "", r.goal, verdict(r, true)].map(esc).join(" | ")} |`,
  );
  return [header, sep, ...lines].join("\n");
}
