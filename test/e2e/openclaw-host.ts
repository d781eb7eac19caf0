// A real OpenClaw host for the end-to-end test: installed once into a cache folder outside the package's own
// dependencies, run on this project's Node 24, with every bit of its state in a temp folder.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

export const OPENCLAW_VERSION = "2026.9.6";
const run = promisify(execFile);

/** `$TOKENHUB_OPENCLAW_CACHE`, else ~/.cache/tokenhub-setup/openclaw-<version>: kept between runs. */
export function cacheDir(): string {
  return (
    process.env.TOKENHUB_OPENCLAW_CACHE ??
    join(homedir(), ".cache", "tokenhub-setup", `openclaw-${OPENCLAW_VERSION}`)
  );
}

/** The openclaw entry script, installing the package into the cache first if it is not there (~650 MB). */
export async function ensureOpenClaw(log: (line: string) => void): Promise<string> {
  const dir = cacheDir();
  const bin = join(dir, "node_modules", "openclaw", "openclaw.mjs");
  if (existsSync(bin)) return bin;
  log(
    `installing openclaw@${OPENCLAW_VERSION} into ${dir} (about 650 MB, once; set TOKENHUB_OPENCLAW_CACHE to move it)`,
  );
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  // --ignore-scripts: OpenClaw's postinstall is not needed headless, and npm 11 would gate it anyway.
  await run(
    "npm",
    [
      "install",
      `openclaw@${OPENCLAW_VERSION}`,
      "--prefix",
      dir,
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ],
    {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 15 * 60_000,
    },
  );
  log(`installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return bin;
}

export interface Host {
  root: string;
  stateDir: string;
  configPath: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
  /** Runs `openclaw ...` and returns its output; rejects with stdout/stderr on a non-zero exit. */
  oc(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; ms: number }>;
  ocJson<T>(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<T>;
}

export async function createHost(bin: string, root: string, config: Record<string, unknown>): Promise<Host> {
  const stateDir = join(root, "state");
  const home = join(root, "home");
  const configPath = join(root, "openclaw.json");
  const logFile = join(root, "logs", "openclaw.log");
  await mkdir(home, { recursive: true });
  await mkdir(dirname(logFile), { recursive: true });
  await writeFile(configPath, `${JSON.stringify({ logging: { file: logFile }, ...config }, null, 2)}\n`);
  const env: NodeJS.ProcessEnv = {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    HOME: home,
    OPENCLAW_HOME: home,
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    OPENCLAW_OFFLINE: "1",
    NO_COLOR: "1",
    TMPDIR: join(root, "tmp"),
    // One token for the gateway and every CLI call that talks to it (HTTP and `openclaw agent` need it).
    OPENCLAW_GATEWAY_TOKEN: `e2e-gateway-token-${Date.now()}`,
  };
  await mkdir(join(root, "tmp"), { recursive: true });
  const oc: Host["oc"] = async (args, extraEnv = {}) => {
    const started = Date.now();
    try {
      const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
        env: { ...env, ...extraEnv },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 120_000,
      });
      return { stdout, stderr, ms: Date.now() - started };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `openclaw ${args.join(" ")} failed: ${e.message}\nstdout: ${e.stdout}\nstderr: ${e.stderr}`,
      );
    }
  };
  return {
    root,
    stateDir,
    configPath,
    logFile,
    env,
    oc,
    async ocJson<T>(args: string[], extraEnv?: NodeJS.ProcessEnv) {
      const { stdout } = await oc(args, extraEnv);
      // Some commands print a banner before the JSON document.
      const start = stdout.search(/^[[{]/m);
      return JSON.parse(stdout.slice(start)) as T;
    },
  };
}

/** The log file's size now: pass it to `waitForLog` to look only at what comes after. */
export async function logOffset(host: Host): Promise<number> {
  return stat(host.logFile).then(
    (s) => s.size,
    () => 0,
  );
}

/** Waits until OpenClaw's log file, past `offset`, matches `pattern`. */
export async function waitForLog(
  host: Host,
  pattern: RegExp,
  offset: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(host.logFile).then(
      (b) => b.subarray(offset).toString(),
      () => "",
    );
    if (pattern.test(text)) return;
    if (Date.now() > deadline)
      throw new Error(`OpenClaw's log did not show ${pattern} in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Gateway {
  port: number;
  token: string;
  output(): string;
  invoke(
    tool: string,
    args: unknown,
    sessionKey: string,
  ): Promise<{ text: string; details: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** `openclaw gateway run` in the background, resolved once it logs that it is ready. */
export async function startGateway(
  bin: string,
  host: Host,
  port: number,
  extraEnv: NodeJS.ProcessEnv,
): Promise<Gateway> {
  const token = host.env.OPENCLAW_GATEWAY_TOKEN ?? "";
  // Readiness is read from OpenClaw's log file (its stdout stops short of the final line when piped); only what
  // this start appends counts, as a restart writes to the same file.
  const logOffset = await stat(host.logFile).then(
    (s) => s.size,
    () => 0,
  );
  const child: ChildProcess = spawn(process.execPath, [bin, "gateway", "run", "--port", String(port)], {
    env: { ...host.env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  const ready = async () => {
    const text = await readFile(host.logFile).then(
      (b) => b.subarray(logOffset).toString(),
      () => "",
    );
    // Not just "ready": "spawn broker ready" comes seconds before the HTTP server listens.
    return /"gateway ready"/.test(text);
  };
  while (!(await ready())) {
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the gateway did not become ready in 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    port,
    token,
    output: () => output,
    async invoke(tool, args, sessionKey) {
      const res = await fetch(`http://127.0.0.1:${port}/tools/invoke`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ tool, args, sessionKey }),
      });
      // HTTP answers {ok, result}; `gateway call tools.invoke` answers {ok, output}.
      type Output = { content?: Array<{ text?: string }>; details?: Record<string, unknown> };
      const body = (await res.json()) as { ok?: boolean; result?: Output; output?: Output; error?: unknown };
      if (!res.ok || body.ok === false)
        throw new Error(`tools/invoke ${tool} failed: ${res.status} ${JSON.stringify(body)}`);
      const out = body.result ?? body.output ?? {};
      return { text: out.content?.map((c) => c.text ?? "").join("\n") ?? "", details: out.details ?? {} };
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
