// The CLI interrupted the way a person does it: Ctrl-C (SIGINT) once its progress shows a given text.
import { spawn } from "node:child_process";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/**
 * Runs `tokenhub-setup args` in its own process with exactly `env`, sends SIGINT once stderr contains `when`,
 * and resolves on "close" (not "exit"), when all of stdout and stderr has been read.
 */
export function runCliInterrupted(
  args: string[],
  env: NodeJS.ProcessEnv,
  when: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
    if (stderr.includes(when) && !child.killed) child.kill("SIGINT");
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
