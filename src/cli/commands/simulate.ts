import { EXIT } from "../../session/index.ts";
import { listScenarios, loadScenario, startSimulator } from "../../simulator/index.ts";
import { type CliContext, stringOption } from "../context.ts";

/** The simulator in the foreground until Ctrl-C (a normal stop: exit 0). */
export async function simulateCommand(ctx: CliContext): Promise<number> {
  if (ctx.values["list-scenarios"] === true) {
    const scenarios = listScenarios();
    // What each scenario plays, for a script choosing one: the routes it answers ("POST /v1/chat/completions").
    const table = scenarios.map((s) => ({ ...s, routes: Object.keys(loadScenario(s.name).routes) }));
    if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(table, null, 2)}\n`);
    else for (const s of scenarios) ctx.io.stdout.write(`${s.name.padEnd(30)} ${s.description}\n`);
    return EXIT.complete;
  }
  const portText = stringOption(ctx.values, "port");
  const port = portText === undefined ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    ctx.say(`tokenhub-setup simulate: --port must be a number from 0 to 65535, not "${portText}".`);
    return EXIT.usage;
  }
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  try {
    sim = await startSimulator({ scenario: stringOption(ctx.values, "scenario") ?? "happy", port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    ctx.say(
      `tokenhub-setup simulate: ${code === "EADDRINUSE" ? `port ${port} is in use; pick another with --port or omit it` : (err as Error).message}`,
    );
    return EXIT.usage;
  }
  // Ctrl-C is caught before anything says it stops the simulator: a script that reads the URL and interrupts
  // at once must get the clean stop too, not Node's default exit on SIGINT.
  const interrupted = new Promise<void>((resolve) => {
    const remove = ctx.io.onInterrupt?.(() => {
      remove?.();
      resolve();
    });
    if (!remove) resolve();
  });
  ctx.io.stdout.write(
    ctx.json
      ? `${JSON.stringify({ baseUrl: sim.baseUrl, scenario: sim.scenario.name })}\n`
      : `${sim.baseUrl}\n`,
  );
  ctx.info(
    [
      `TokenHub simulator on ${sim.baseUrl} (scenario ${sim.scenario.name}). Any bearer key is accepted${sim.scenario.name === "unauthorized" ? ", and then refused with a 401, as this scenario plays" : ""}.`,
      `Try: TOKENHUB_API_KEY=sk-sim-0123456789abcdef npx tokenhub-setup --base-url ${sim.baseUrl}`,
      "Ctrl-C stops it.",
    ].join("\n"),
  );
  await interrupted;
  await sim.close();
  ctx.info(`Stopped after ${sim.requests.length} request(s).`);
  return EXIT.complete;
}
