// Benchmark 5: the scrubber as a long-running host sees it, with more and more distinct keys registered, side
// by side with the straightforward design it replaced (one `includes` + split/join per variant, the whole list
// re-sorted on every registration), fed the same keys and the same variants:
//   per line      scrub() of a 200-character log line with N keys registered
//   per new key   registering one more key, then 50 lines scrubbed (what one new user's flow costs), at N keys
// The registries only grow, so the sizes run in increasing order in one process, the two designs alternating.
//   node bench/scrubber.ts [--smoke] [--json]

import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { REDACTED, registerSecret, scrub, secretVariants } from "../src/secrets/scrubber.ts";
import { type BenchReport, benchArgs, emit, median, note, type Row, x } from "./lib/stats.ts";

const LINE =
  '{"level":30,"time":1764028800000,"msg":"attempt finished","model":"deepseek-v3.2","status":200,"requestId":"req-1","latencyMs":12.5,"url":"https://tokenhub.link/v1/chat/completions"}';

const µs = (value: number) => `${value.toFixed(2)} µs`;
/** A ratio that may be tiny: "0.27x", or "0.0022x (1/457)". */
const ratio = (value: number) =>
  value >= 0.1 ? x(value) : `${value.toPrecision(2)}x (1/${Math.round(1 / value)})`;

/** The design before: every variant tested with `includes`, longest first, the list rebuilt per key. */
function loopScrubber() {
  const variants = new Map<string, string[]>();
  let ordered: string[] = [];
  return {
    register(secret: string) {
      variants.set(secret, secretVariants(secret));
      ordered = [...new Set([...variants.values()].flat())].sort((a, b) => b.length - a.length);
    },
    scrub(text: string) {
      let out = text;
      for (const v of ordered) if (out.includes(v)) out = out.split(v).join(REDACTED);
      return out;
    },
  };
}
const newKey = () => `sk-${randomBytes(16).toString("hex")}`;

/** µs per call of `fn`, over a batch of `calls`. */
function perCall(fn: () => void, calls: number): number {
  const started = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return ((performance.now() - started) * 1000) / calls;
}

export async function run(smoke: boolean): Promise<BenchReport> {
  const sizes = smoke ? [1, 100, 1000] : [1, 100, 1000, 3000];
  const rounds = smoke ? 5 : 15;
  const newKeys = smoke ? 20 : 60;
  note(
    `scrubber: sizes ${sizes.join(" / ")} keys; ${rounds} rounds per line measurement, ${newKeys} new keys per size`,
  );
  const loop = loopScrubber();
  let registered = 0;
  const line: Record<number, { tiers: number; loop: number }> = {};
  const perKey: Record<number, { tiers: number; loop: number }> = {};
  for (const size of sizes) {
    while (registered < size) {
      const key = newKey();
      registerSecret(key);
      loop.register(key);
      registered++;
    }
    scrub(LINE); // fold the registrations in before timing lines
    const tiers: number[] = [];
    const loops: number[] = [];
    for (let r = 0; r < rounds; r++) {
      tiers.push(perCall(() => scrub(LINE), 200));
      loops.push(perCall(() => loop.scrub(LINE), size >= 1000 ? 5 : 200));
    }
    line[size] = { tiers: median(tiers), loop: median(loops) };
    // New keys, each followed by 50 lines: the mean, since the tiers' occasional full rebuild is part of the cost.
    let tiersTotal = 0;
    let loopTotal = 0;
    for (let k = 0; k < newKeys; k++) {
      const key = newKey();
      let started = performance.now();
      registerSecret(key);
      for (let i = 0; i < 50; i++) scrub(LINE);
      tiersTotal += performance.now() - started;
      started = performance.now();
      loop.register(key);
      for (let i = 0; i < 50; i++) loop.scrub(LINE);
      loopTotal += performance.now() - started;
      registered++;
    }
    perKey[size] = { tiers: (tiersTotal * 1000) / newKeys, loop: (loopTotal * 1000) / newKeys };
  }
  const rows: Row[] = [];
  for (const size of sizes) {
    const l = line[size] as { tiers: number; loop: number };
    const k = perKey[size] as { tiers: number; loop: number };
    rows.push({
      bench: "scrubber",
      measurement: `scrub() of one log line, ${size} key${size === 1 ? "" : "s"} registered`,
      value: µs(l.tiers),
      against: `per-variant loop ${µs(l.loop)}`,
      ratio: ratio(l.tiers / l.loop),
      goal: "",
      met: null,
    });
    rows.push({
      bench: "scrubber",
      measurement: `one more key + 50 lines scrubbed, at ${size} key${size === 1 ? "" : "s"} (mean)`,
      value: µs(k.tiers),
      against: `per-variant loop ${µs(k.loop)}`,
      ratio: ratio(k.tiers / k.loop),
      goal: "",
      met: null,
    });
  }
  return {
    bench: "scrubber",
    mode: smoke ? "smoke" : "full",
    rows,
    details: { sizes, rounds, newKeys, line, perKey },
  };
}

if (import.meta.main) {
  const { smoke, json } = benchArgs();
  emit(await run(smoke), json);
}
