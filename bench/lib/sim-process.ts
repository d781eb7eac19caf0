import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("../sim-child.ts", import.meta.url));

export interface SimProcess {
  baseUrl: string;
  pid: number;
  close(): Promise<void>;
}

/** Starts the simulator (scenario `happy` unless told) in a child process and waits for its URL. */
export async function spawnSimulator(scenario = "happy"): Promise<SimProcess> {
  const child = spawn(process.execPath, [CHILD, scenario], { stdio: ["pipe", "pipe", "inherit"] });
  let buffered = "";
  const line = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const end = buffered.indexOf("\n");
      if (end >= 0) {
        child.stdout.off("data", onData);
        resolve(buffered.slice(0, end));
      }
    };
    child.stdout.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the simulator process exited early (code ${code})`)));
  });
  const { baseUrl, pid } = JSON.parse(line) as { baseUrl: string; pid: number };
  return {
    baseUrl,
    pid,
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.stdin.end();
      await exited;
    },
  };
}
