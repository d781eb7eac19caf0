import { join } from "node:path";
import { createMcpApp, type HttpListener, listenHttp, type McpApp, serveStdio } from "../../mcp/index.ts";
import { ConfigError, defaultStateDir, EXIT, TokenHubSetupError } from "../../session/index.ts";
import { inFlagTerms, targetProblem } from "../config-flags.ts";
import { type CliContext, stringOption } from "../context.ts";
import { type Demo, startDemo } from "../demo.ts";

/**
 * `tokenhub-setup mcp`: the skill as an MCP server. On stdio (what a client's server entry starts) stdout
 * carries only the protocol; every word for a person goes to stderr, which clients show in their server log.
 */
export async function mcpCommand(ctx: CliContext): Promise<number> {
  const { values } = ctx;
  const simulate = values.simulate === true;
  const baseUrl = stringOption(values, "base-url");
  const scenario = stringOption(values, "scenario");
  const statusFile = stringOption(values, "status-file");
  const usage = (message: string) => {
    ctx.say(`tokenhub-setup mcp: ${message} See \`tokenhub-setup mcp --help\`.`);
    return EXIT.usage;
  };
  const problem = targetProblem(values);
  if (problem) return usage(problem);
  const portText = stringOption(values, "port");
  const port = portText === undefined ? 0 : Number(portText);
  if (portText !== undefined && values.http !== true) return usage("--port needs --http.");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return usage(`--port must be a number from 0 to 65535, not "${portText}".`);

  let demo: Demo | undefined;
  try {
    demo = simulate ? await startDemo(scenario) : undefined;
  } catch (err) {
    return usage((err as Error).message);
  }
  const sim = demo?.sim;
  // A simulated server keeps its conversations and record apart from the real ones.
  const stateDir = join(defaultStateDir(ctx.io.env), simulate ? "mcp-simulated" : "mcp");
  const models = values.model as string[] | undefined;
  let app: McpApp;
  try {
    app = createMcpApp({
      config: {
        ...(sim ? { baseUrl: sim.baseUrl } : baseUrl ? { baseUrl } : {}),
        ...(models ? { modelChain: models } : {}),
        ...(statusFile
          ? { statusPath: statusFile }
          : sim
            ? { statusPath: join(stateDir, "status.json") }
            : {}),
      },
      env: ctx.io.env,
      stateDir,
      logger: ctx.logger,
      version: ctx.io.version ?? "0.0.0",
      ...(demo ? { sources: demo.sources } : {}),
    });
  } catch (err) {
    await sim?.close();
    if (err instanceof ConfigError) {
      ctx.say(`tokenhub-setup mcp: ${inFlagTerms(err)}`);
      return EXIT.usage;
    }
    if (err instanceof TokenHubSetupError) return usage(err.toLine());
    throw err;
  }
  // Ctrl-C is how a person stops a server they started by hand: a normal stop, as for `simulate`.
  const stop = new Promise<void>((resolve) => {
    const remove = ctx.io.onInterrupt?.(() => {
      remove?.();
      resolve();
    });
  });
  let listener: HttpListener | undefined;
  try {
    const target = sim ? `the simulator on ${sim.baseUrl} (scenario ${sim.scenario.name})` : "TokenHub";
    if (values.http === true) {
      listener = await listenHttp(app, { port, logger: ctx.logger });
      ctx.io.stdout.write(ctx.json ? `${JSON.stringify({ url: listener.url })}\n` : `${listener.url}\n`);
      ctx.info(`tokenhub-setup mcp: Streamable HTTP on ${listener.url}, for ${target}. Ctrl-C stops it.`);
      await stop;
    } else {
      if (!ctx.io.stdin) return usage("no standard input to serve on.");
      ctx.info(`tokenhub-setup mcp: serving MCP on stdio, for ${target}.`);
      await Promise.race([serveStdio(app, { stdin: ctx.io.stdin, stdout: ctx.io.stdout }), stop]);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
      return usage(`port ${port} is in use; pick another with --port or omit it.`);
    throw err;
  } finally {
    await listener?.close();
    await app.close();
    await sim?.close();
  }
  return EXIT.complete;
}
