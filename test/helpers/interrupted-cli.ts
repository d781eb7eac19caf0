// The CLI interrupted the way a person does it: Ctrl-C (SIGINT) once its progress shows a given text.
import { spawnCli } from "./cli.ts";

/**
 * Runs `tokenhub-setup args` in its own process, isolated as test/helpers/cli.ts isolates every run, plus
 * `env`; sends SIGINT once stderr contains `when`, and resolves on "close" (not "exit"), when all of stdout and
 * stderr has been read.
 */
export function runCliInterrupted(
  args: string[],
  env: Record<string, string | undefined>,
  when: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, env);
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
