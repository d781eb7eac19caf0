// Child process for crash.test.ts. It imports only the store it exercises (startup is most of each kill's cost),
// says "ready" on stdout, then writes:
//
//   node writer.ts loop status   <target> <a.json> <b.json>  records A, B, A, ... through createFileStatusStore,
//                                                            saying "done <i>" after each
//   node writer.ts loop snapshot <target> <a.json> <b.json>  the texts of A, B, A, ... through writeFileAtomic
//   node writer.ts once status   <target> <a.json>           after a line on stdin: one write, then "wrote <t0> <t1>"
//   node writer.ts once snapshot <target> <a.json>
//
// A loop runs until the parent kills it (SIGKILL). `once` reports when its write started and ended (on the
// machine's monotonic clock, nanoseconds), so the parent can tell whether two writers overlapped.

import { readFileSync } from "node:fs";
import type { CompletionRecord } from "../../src/schema/record.ts";

const [mode, kind, target, ...inputs] = process.argv.slice(2);
if ((mode !== "loop" && mode !== "once") || (kind !== "status" && kind !== "snapshot") || !target) {
  process.stderr.write("usage: writer.ts loop|once status|snapshot <target> <a.json> [<b.json>]\n");
  process.exit(2);
}
const texts = inputs.map((file) => readFileSync(file, "utf8"));
// Records are parsed once, so the loop spends its time in the store, not in JSON.parse.
const values: unknown[] = kind === "status" ? texts.map((text) => JSON.parse(text)) : texts;
const write = await writerFor(kind, target);
// CLOCK_MONOTONIC, in nanoseconds: one clock for every process on the machine, unlike performance.now().
const now = () => process.hrtime.bigint();

if (mode === "loop") {
  process.stdout.write("ready\n");
  // Each finished write is reported (its index in the A, B, A, ... sequence), so the parent knows which whole
  // record must be on disk when the kill lands: that one, or the next if it finished before the kill.
  for (let i = 0; ; i++) {
    await write(values[i % values.length]);
    process.stdout.write(`done ${i}\n`);
  }
} else {
  process.stdout.write("ready\n");
  process.stdin.once("data", async () => {
    const started = now();
    await write(values[0]);
    process.stdout.write(`wrote ${started} ${now()}\n`);
    process.exit(0);
  });
}

/** A status record goes through the real file store (validated, scrubbed); a snapshot text through writeFileAtomic. */
async function writerFor(
  what: "status" | "snapshot",
  path: string,
): Promise<(value: unknown) => Promise<void>> {
  if (what === "status") {
    const { createFileStatusStore } = await import("../../src/status/store.ts");
    const store = createFileStatusStore(path);
    return (value) => store.write(value as CompletionRecord);
  }
  const { writeFileAtomic } = await import("../../src/status/atomic-write.ts");
  return (value) => writeFileAtomic(path, String(value));
}
