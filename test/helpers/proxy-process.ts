// Starts test/helpers/proxy-server.ts as a child process and collects what the proxy saw.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ProxySeen {
  method: string;
  url: string;
  authorization: "present" | "absent";
}

export interface ProxyProcess {
  url: string;
  seen: ProxySeen[];
  close(): Promise<void>;
}

const SCRIPT = new URL("./proxy-server.ts", import.meta.url).pathname;

export async function startProxyProcess(): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  const seen: ProxySeen[] = [];
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the proxy process exited (${code}) before listening`)));
    lines.on("line", (line) => {
      const value = JSON.parse(line) as ProxySeen | { port: number };
      if ("port" in value) resolve(value.port);
      else seen.push(value);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
