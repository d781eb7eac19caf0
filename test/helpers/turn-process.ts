// One runTurn per process, the way a host that keeps nothing in memory between turns runs the skill: the
// snapshot goes to a file between turns, the whole turn result to stdout, the skill's logs to stderr.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { isolatedEnv } from "./cli.ts";

const ENTRY = new URL("../../src/session/turn.ts", import.meta.url).pathname;

export interface TurnProcess {
  /** Runs one turn in a new Node process; `env` is all the environment it gets besides PATH, HOME (`dir`) and
   * the XDG folders in it (test/helpers/cli.ts). */
  turn(event: object, env?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
  readonly snapshotPath: string;
}

export async function createTurnProcess(options: {
  dir: string;
  baseUrl: string;
  statusPath: string;
  logLevel: "silent" | "debug";
}): Promise<TurnProcess> {
  const script = join(options.dir, "turn-process.ts");
  const snapshotPath = join(options.dir, "turn-process-snapshot.json");
  await writeFile(
    script,
    `import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { runTurn } from ${JSON.stringify(ENTRY)};
const [snapshotPath, event] = process.argv.slice(2);
const result = await runTurn({
  event: JSON.parse(event),
  snapshot: existsSync(snapshotPath) ? readFileSync(snapshotPath, "utf8") : undefined,
  config: ${JSON.stringify({ baseUrl: options.baseUrl, statusPath: options.statusPath, logLevel: options.logLevel })},
  sources: { keychain: false },
});
writeFileSync(snapshotPath, JSON.stringify(result.snapshot));
process.stdout.write(JSON.stringify(result));
`,
  );
  return {
    snapshotPath,
    turn: (event, env = {}) =>
      promisify(execFile)(process.execPath, [script, snapshotPath, JSON.stringify(event)], {
        env: isolatedEnv({ HOME: options.dir, ...env }).env,
      }),
  };
}
