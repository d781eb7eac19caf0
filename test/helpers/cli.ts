import { execFile } from "node:child_process";

export const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tokenhub-setup` (src/cli/main.ts on this Node) with a minimal environment plus `env`. */
export function cli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { input?: string; cwd?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, cwd: options.cwd },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
