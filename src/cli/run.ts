import { randomBytes } from "node:crypto";
import type { Writable } from "node:stream";
import { TokenHubSetupError } from "../errors.ts";
import { createLogger } from "../log.ts";
import type { Notification, Output } from "../schema/host.ts";
import { createSession } from "../session/session.ts";
import { startSimulator } from "../simulator/index.ts";
import { defaultStatusPath } from "../status/paths.ts";
import { createFileStatusStore, createMemoryStatusStore, type StatusStore } from "../status/store.ts";
import { HELP, parseCliArgs } from "./args.ts";
import { EXIT } from "./exit-codes.ts";
import { renderNotification } from "./render.ts";

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  /** Registers a Ctrl-C handler; returns its remover. */
  onInterrupt?: (handler: () => void) => () => void;
  version?: string;
}

/** The non-interactive run: Steps 1-5 with the key from the environment or keychain. Returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const say = (text: string) => io.stderr.write(`${text}\n`);
  let options: ReturnType<typeof parseCliArgs>;
  try {
    options = parseCliArgs(argv);
  } catch (err) {
    say(`tokenhub-setup: ${(err as Error).message}. See --help.`);
    return EXIT.usage;
  }
  if (options.help) {
    io.stdout.write(HELP);
    return EXIT.complete;
  }
  if (options.version) {
    io.stdout.write(`${io.version ?? "unknown"}\n`);
    return EXIT.complete;
  }
  if (options.simulate && options.baseUrl) {
    say(
      "tokenhub-setup: --simulate and --base-url cannot be combined: the simulator is the base URL. See --help.",
    );
    return EXIT.usage;
  }
  if (options.scenario && !options.simulate) {
    say("tokenhub-setup: --scenario needs --simulate. See --help.");
    return EXIT.usage;
  }

  // A fresh demo key per run: the simulator accepts only it, and it is scrubbed like any real key.
  const demoKey = `sk-sim-${randomBytes(12).toString("hex")}`;
  let sim: Awaited<ReturnType<typeof startSimulator>> | undefined;
  try {
    sim = options.simulate
      ? await startSimulator({ scenario: options.scenario ?? "happy", acceptKeys: [demoKey] })
      : undefined;
  } catch (err) {
    say(`tokenhub-setup: ${(err as Error).message}`);
    return EXIT.usage;
  }
  if (sim)
    say(
      `tokenhub-setup: simulator on ${sim.baseUrl} (scenario ${sim.scenario.name}); the real record is not touched.`,
    );

  // --simulate never overwrites the real record: it keeps the record in memory unless a file is named.
  const store: StatusStore =
    sim && !options.statusFile
      ? createMemoryStatusStore()
      : createFileStatusStore(options.statusFile ?? defaultStatusPath(io.env));
  // Through io.stderr, not fd 2: the caller decides where the (scrubbed) log lines go.
  const logger = createLogger({
    level: options.verbose ? "debug" : (io.env.TOKENHUB_SETUP_LOG_LEVEL ?? "error"),
    destination: io.stderr,
  });

  let session: ReturnType<typeof createSession>;
  try {
    session = createSession({
      config: {
        ...(sim ? { baseUrl: sim.baseUrl } : options.baseUrl ? { baseUrl: options.baseUrl } : {}),
        ...(options.models ? { modelChain: options.models } : {}),
        ...(options.stream ? { stream: true } : {}),
      },
      sources: sim ? { env: { TOKENHUB_API_KEY: demoKey }, keychain: false } : { env: io.env },
      store,
      logger,
    });
  } catch (err) {
    await sim?.close();
    if (err instanceof TokenHubSetupError) {
      say(`tokenhub-setup: ${err.toLine()}`);
      return EXIT.usage;
    }
    throw err;
  }

  let needKey: Extract<Notification, { type: "needKey" }> | undefined;
  session.subscribe((n) => {
    if (n.type === "needKey") needKey = n;
    say(renderNotification(n));
  });
  const removeInterrupt = io.onInterrupt?.(() =>
    session.send({ type: "CANCEL", reason: "interrupted (Ctrl-C)" }),
  );
  try {
    session.send({ type: "SETUP" });
    const state = await session.untilRest();
    const output = state === "awaitingKey" ? undefined : await session.done();
    if (options.json) io.stdout.write(`${JSON.stringify(jsonResult(state, output, needKey), null, 2)}\n`);
    if (output && output.status !== "cancelled" && store.location !== "memory")
      say(`Record: ${store.location}`);
    return exitCode(state, output, needKey);
  } finally {
    removeInterrupt?.();
    await session.stop();
    await sim?.close();
  }
}

function jsonResult(
  state: string,
  output: Output | undefined,
  needKey: Extract<Notification, { type: "needKey" }> | undefined,
) {
  if (output?.status === "complete") return output.record;
  if (output?.status === "escalated")
    return output.record ?? { integration_status: "failed", failure: output.escalation.failure };
  if (output?.status === "cancelled") return { state: "cancelled", reason: output.reason };
  return {
    state,
    needKey: needKey
      ? { reason: needKey.reason, message: needKey.message, instructions: needKey.instructions }
      : null,
  };
}

function exitCode(
  state: string,
  output: Output | undefined,
  needKey: { reason: string } | undefined,
): number {
  if (state === "awaitingKey") return needKey?.reason === "rejected" ? EXIT.keyRejected : EXIT.keyMissing;
  switch (output?.status) {
    case "complete":
      return EXIT.complete;
    case "cancelled":
      return EXIT.cancelled;
    case "escalated":
      return output.escalation.failure.code === "invalid_response" ? EXIT.invalidResponse : EXIT.escalated;
    default:
      return EXIT.failure;
  }
}
