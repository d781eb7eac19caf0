// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by where the code lives
// (src/<layer>, node_modules/<package>, node:internal, ...), and total (inclusive) time of our own functions.
//   node bench/profile-summary.ts FILE.cpuprofile [--top N] [--filter TEXT]

import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function where(url: string): string {
  if (url === "") return "(native / V8)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `node_modules/${nm[1]}`;
  const src = /\/(src|bench|test)\/([^/]+)/.exec(url);
  if (src) return `${src[1]}/${(src[2] as string).replace(/\.ts$/, "")}`;
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  return url;
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, "$1");
  return `${frame.functionName || "(anonymous)"} ${file ? `${file}:${frame.lineNumber + 1}` : ""}`.trim();
}

export function summarise(profile: Profile, top = 25, filter?: string): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const selfByFn = new Map<string, number>();
  const selfByWhere = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const key = label(node.callFrame);
    selfByFn.set(key, (selfByFn.get(key) ?? 0) + us);
    const w = where(node.callFrame.url);
    selfByWhere.set(w, (selfByWhere.get(w) ?? 0) + us);
    // Inclusive time: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame) break;
      const k = label(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number) =>
    `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`;
  const list = (m: Map<string, number>, n: number, keep: (k: string) => boolean = () => true) =>
    [...m]
      .filter(([k]) => keep(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`)
      .join("\n");
  const ours = (k: string) => (filter ? k.includes(filter) : /\b(src|bench)\//.test(k));
  return [
    `sampled ${(total / 1000).toFixed(0)} ms`,
    "self time by location:",
    list(selfByWhere, top),
    "self time by function:",
    list(selfByFn, top),
    `inclusive time, ${filter ? `functions matching "${filter}"` : "our own functions (src/, bench/)"}:`,
    list(inclusive, top, ours),
  ].join("\n");
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node bench/profile-summary.ts FILE.cpuprofile [--top N] [--filter TEXT]\n");
    process.exit(2);
  }
  const topAt = process.argv.indexOf("--top");
  const filterAt = process.argv.indexOf("--filter");
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  process.stdout.write(
    `${summarise(profile, topAt > 0 ? Number(process.argv[topAt + 1]) : 25, filterAt > 0 ? process.argv[filterAt + 1] : undefined)}\n`,
  );
}
