// The simulator in its own process, so its work does not share an event loop (or a core) with what is measured.
// Prints one JSON line {"baseUrl": ...} on stdout once it listens; exits when stdin closes (the parent went away).
//   node bench/sim-child.ts [scenario]

import { startSimulator } from "../src/simulator/index.ts";

const sim = await startSimulator({ scenario: process.argv[2] ?? "happy" });

// The simulator records every request for tests to inspect; a benchmark sends hundreds of thousands of them.
const trim = setInterval(() => {
  if (sim.requests.length > 5_000) sim.requests.length = 0;
}, 250);

const stop = async () => {
  clearInterval(trim);
  await sim.close();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
process.on("SIGTERM", stop);

process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl, pid: process.pid })}\n`);
