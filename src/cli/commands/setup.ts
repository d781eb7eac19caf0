import {
  ConfigError,
  createSession,
  defaultStatusPath,
  EXIT,
  type Keys,
  keyFormatProblem,
  type Notification,
  noteUnverifiedRun,
  type Output,
  openKeys,
  recordFile,
  recordInMemory,
  resolveConfig,
  type Session,
  type StatusStore,
  TokenHubSetupError,
} from "../../session/index.ts";
import { inFlagTerms, multimodalOptions, targetProblem } from "../config-flags.ts";
import { type CliContext, stringOption } from "../context.ts";
import { type Demo, startDemo } from "../demo.ts";
import { createProgressLines } from "../progress-lines.ts";
import { needKeyLines, type RenderFacts, renderNotification } from "../render.ts";
import { SIMULATED_MEDIA_FATE } from "../simulated-media.ts";
import { createSpinner } from "../spinner.ts";
import { terminalSafe } from "../terminal-text.ts";

type NeedKey = Extract<Notification, { type: "needKey" }>;

/** Steps 1-5. Off a terminal it never prompts (exit 3 when the key is missing); on one it asks for the key. */
export async function setupCommand(ctx: CliContext): Promise<number> {
  const { values } = ctx;
  const simulate = values.simulate === true;
  const baseUrl = stringOption(values, "base-url");
  const problem = targetProblem(values);
  if (problem) {
    ctx.say(`tokenhub-setup: ${problem} See --help.`);
    return EXIT.usage;
  }
  const scenario = stringOption(values, "scenario");
  const statusFile = stringOption(values, "status-file");

  const multimodal = multimodalOptions(ctx, simulate);
  if (multimodal === "usage") return EXIT.usage;

  let demo: Demo | undefined;
  try {
    demo = simulate ? await startDemo(scenario) : undefined;
  } catch (err) {
    ctx.say(`tokenhub-setup: ${(err as Error).message}`);
    return EXIT.usage;
  }
  const sim = demo?.sim;
  if (sim)
    ctx.info(
      `tokenhub-setup: simulator on ${sim.baseUrl} (scenario ${sim.scenario.name}); ${statusFile ? `the record goes to ${statusFile}` : "the real record is not touched"}.`,
    );

  // --simulate never overwrites the real record: it keeps the record in memory unless a file is named.
  const store: StatusStore =
    sim && !statusFile ? recordInMemory() : recordFile(statusFile ?? defaultStatusPath(ctx.io.env));
  const models = values.model as string[] | undefined;
  if (multimodal?.outputDir && sim && !stringOption(values, "output-dir")) {
    ctx.info(`tokenhub-setup: simulated media files go to ${multimodal.outputDir}; ${SIMULATED_MEDIA_FATE}.`);
  }
  const configInput = {
    ...(sim ? { baseUrl: sim.baseUrl } : baseUrl ? { baseUrl } : {}),
    ...(models ? { modelChain: models } : {}),
    ...(values.stream === true ? { stream: true } : {}),
    ...(multimodal ? { multimodal } : {}),
  };
  let session: Session;
  let keys: Keys | undefined;
  let config: ReturnType<typeof resolveConfig>;
  try {
    // Resolved here to name a refused value by its flag; the session takes it as it is, and the keychain too.
    config = resolveConfig(configInput);
    keys = sim ? undefined : openKeys({ env: ctx.io.env, config });
    session = createSession({
      config,
      sources: keys ? keys.sources : (demo as Demo).sources,
      store,
      logger: ctx.logger,
      ...(ctx.io.clock ? { clock: ctx.io.clock } : {}),
    });
  } catch (err) {
    await sim?.close();
    if (err instanceof TokenHubSetupError) {
      ctx.say(`tokenhub-setup: ${err instanceof ConfigError ? inFlagTerms(err) : err.toLine()}`);
      return EXIT.usage;
    }
    throw err;
  }

  // --key-page asks in a browser instead of the terminal; with --simulate the demo key is never missing.
  const keyPage = values["key-page"] === true && keys !== undefined;
  const ui = ctx.interactive && !keyPage ? await interactiveUi(ctx, keys, sim !== undefined) : undefined;
  let needKey: NeedKey | undefined;
  // Off a terminal, repeated updates (download progress) are thinned to a few lines (progress-lines.ts).
  const render = (n: Notification) => renderNotification(n, { keychain: true, simulated: sim !== undefined });
  const lines = createProgressLines((n) => ctx.info(render(n)));
  const videoClock = createVideoClock(
    config.multimodal.video.deadlineMs,
    () => ctx.io.clock?.now() ?? Date.now(),
  );
  session.subscribe((event) => {
    const n = videoClock(event);
    // Shown once the flow rests, with what this machine's keychain can do (see showNeedKey).
    if (n.type === "needKey") needKey = n;
    else if (ui) ui.show(n);
    else if (n.type === "progress") lines.progress(n);
    else {
      lines.flush();
      ctx.say(render(n));
    }
  });
  let needKeyFacts: RenderFacts = { keychain: false };
  const showNeedKey = async (n: NeedKey) => {
    const facts = {
      keychain: keys ? (await keys.keychainProblem()) === undefined : false,
      ...(keyPage ? { keyPage: true } : {}),
    };
    needKeyFacts = facts;
    if (ui) ui.needKey(n, facts);
    else {
      lines.flush();
      ctx.say(renderNotification(n, facts));
    }
  };
  let interrupted = false;
  const interruption = new AbortController();
  const removeInterrupt = ctx.io.onInterrupt?.(() => {
    interrupted = true;
    interruption.abort();
    ui?.interrupted();
    session.send({ type: "CANCEL", reason: "interrupted (Ctrl-C)" });
  });
  try {
    session.send({ type: "SETUP" });
    await session.untilRest();
    const waitsForKey = () => session.rest?.resumeWith === "KEY_READY";
    if (waitsForKey() && needKey) await showNeedKey(needKey);
    // On a terminal (or the key page), a missing or rejected key is asked for, and the flow goes on from there.
    while (waitsForKey() && (ui || keyPage) && needKey && !interrupted) {
      if (keyPage && keys) {
        // The key page (node:http, and with it Node's own undici) is loaded only when it is shown.
        const { keyFromPage } = await import("../key-page-wait.ts");
        const answer = await keyFromPage(ctx, { keys, config, signal: interruption.signal });
        if ("ended" in answer) break;
        session.send(answer.event);
        const asked = needKey;
        await session.untilRest();
        if (waitsForKey() && needKey !== asked) await showNeedKey(needKey);
        continue;
      }
      const answer = await (ui as NonNullable<typeof ui>).askForKey(needKey);
      if (answer === "cancel") {
        session.send({ type: "CANCEL", reason: "cancelled at the key prompt" });
      } else {
        session.send({ type: "KEY_PROVIDED", key: answer.key, remember: answer.remember });
      }
      const asked = needKey;
      await session.untilRest();
      if (waitsForKey() && needKey !== asked) await showNeedKey(needKey);
    }
    const rest = session.rest;
    const output = rest?.final ? await session.done() : undefined;
    lines.flush();
    if (ctx.json)
      ctx.io.stdout.write(
        `${JSON.stringify(jsonResult(rest?.state ?? session.state, output, needKey, needKeyFacts), null, 2)}\n`,
      );
    const wroteRecord =
      output?.status === "complete" ||
      (output?.status === "escalated" && output.escalation.failure.code !== "status_write_failed") ||
      (output?.status === "cancelled" && output.record !== undefined) ||
      rest?.needKey === "rejected";
    if (store.location !== "memory") {
      if (wroteRecord) ctx.info(`Record: ${store.location}`);
      else await noteRunWithoutRequest(ctx, store.location, rest?.needKey ? "key_missing" : "cancelled");
    }
    // Ctrl-C during the multimodal checks keeps the text integration's record (written whole), but the run
    // was still interrupted: say so in the exit code.
    if (interrupted && output?.status === "complete") return EXIT.cancelled;
    return rest?.exitCode ?? EXIT.failure;
  } finally {
    removeInterrupt?.();
    ui?.close();
    await session.stop();
    await sim?.close();
  }
}

/**
 * A video can take minutes: its waits say how long the check has run and when it gives up (the task's deadline),
 * so a person can tell a slow render from a stuck one. Other notifications pass through untouched.
 */
function createVideoClock(deadlineMs: number, now: () => number) {
  let startedAt: number | undefined;
  return (n: Notification): Notification => {
    if (n.type !== "progress" || n.capability !== "video" || !n.detail) return n;
    startedAt ??= now();
    if (!/next poll in|polling task/.test(n.detail)) return n;
    const elapsed = duration(now() - startedAt);
    return { ...n, detail: `${n.detail} (${elapsed} so far; gives up after ${duration(deadlineMs)})` };
  };
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * A run that ended before any request leaves the record as it was; this note beside it lets `status` say that
 * the record is older than the last attempt. Failing to write the note is said, never fatal.
 */
async function noteRunWithoutRequest(
  ctx: CliContext,
  recordPath: string,
  outcome: "key_missing" | "cancelled",
) {
  const message =
    outcome === "key_missing"
      ? "no TokenHub API key was found, so nothing was sent."
      : "it was cancelled before any request was sent.";
  const at = new Date(ctx.io.clock?.now() ?? Date.now()).toISOString();
  await noteUnverifiedRun(recordPath, { at, outcome, message }).catch((err: unknown) =>
    ctx.logger.warn({ err }, "could not note the unverified run beside the record"),
  );
}

function jsonResult(
  state: string,
  output: Output | undefined,
  needKey: NeedKey | undefined,
  facts: RenderFacts,
) {
  if (output?.status === "complete") return output.record;
  if (output?.status === "escalated")
    return output.record ?? { integration_status: "failed", failure: output.escalation.failure };
  if (output?.status === "cancelled") return { state: "cancelled", reason: output.reason };
  if (!needKey) return { state, needKey: null };
  // The command line's own words (what the person does next, from where they are), not the host tool's.
  const { headline, steps } = needKeyLines(needKey, facts);
  return {
    state,
    needKey: {
      reason: needKey.reason,
      message: headline,
      rejectedKey: needKey.rejectedKey ?? null,
      otherKeys: needKey.otherKeys ?? [],
      instructions: {
        consoleUrl: needKey.instructions.consoleUrl,
        envVar: needKey.instructions.envVar,
        steps,
        neverPasteInChat: true,
      },
    },
  };
}

/**
 * The terminal UI: a spinner per step and a hidden-input prompt for the key, drawn by @clack/prompts (what
 * OpenClaw uses) on stderr. Loaded only on a terminal, so scripted runs do not pay for it.
 */
async function interactiveUi(ctx: CliContext, keys: Keys | undefined, simulated: boolean) {
  const render = (n: Notification) => renderNotification(n, { keychain: true, simulated });
  // clack colours through node:util's styleText, which honours NO_COLOR but knows nothing of --no-color.
  if (!ctx.color) process.env.NO_COLOR = "1";
  const clack = await import("@clack/prompts");
  const common = { output: ctx.io.stderr, ...(ctx.io.stdin ? { input: ctx.io.stdin } : {}) };
  // Our own spinner: clack's takes stdin into raw mode and exits 0 on Ctrl-C (see cli/spinner.ts).
  const spin = createSpinner(ctx.io.stderr, ctx.paint);
  clack.intro(ctx.paint("bold", "tokenhub-setup"), common);
  let wasInterrupted = false;
  const stop = (message: string, outcome: "ok" | "failed" | "cancelled" | "attention" = "ok") => {
    if (spin.active) spin.stop(message, outcome);
    else if (outcome === "failed") clack.log.error(message, common);
    else if (outcome === "ok") clack.log.success(message, common);
    else clack.log.warn(message, common);
  };
  return {
    show(n: Notification) {
      switch (n.type) {
        case "progress": {
          const text = terminalSafe(`Step ${n.step}/5 ${n.title}${n.detail ? `: ${n.detail}` : ""}`);
          if (spin.active) spin.message(text);
          else if (n.step !== 2) spin.start(text);
          return;
        }
        case "needKey":
          return;
        case "completed":
          stop(ctx.paint("green", render(n)));
          // Ctrl-C during the image or video check: the text integration is verified and recorded, the rest
          // was stopped, and the run exits 130; the closing line says so rather than "Done.".
          clack.outro(
            wasInterrupted
              ? ctx.paint(
                  "yellow",
                  "Stopped: the media checks were cancelled; the verified integration is recorded.",
                )
              : "Done.",
            common,
          );
          return;
        case "escalated":
          stop(ctx.paint("red", render(n)), "failed");
          // A closing line, as a success has: the run is over, and where to look.
          clack.outro(
            ctx.paint("red", "Not verified. `npx tokenhub-setup status` shows the record."),
            common,
          );
          return;
        case "cancelled":
          stop(render(n), "cancelled");
          clack.outro("Stopped.", common);
          return;
      }
    },
    /** Why a key is asked for, and where to get one; the prompt below takes it. */
    needKey(n: NeedKey, facts: RenderFacts) {
      const { headline, steps } = needKeyLines(n, facts);
      stop("Step 2/5 A TokenHub API key is needed", "attention");
      // Here the prompt takes the key, so only the steps before "store it" apply.
      const here = steps.filter((step) => !/^(Store it|Put |Run tokenhub-setup again)/.test(step));
      clack.note(terminalSafe([headline, "", ...here].join("\n")), "Key", common);
    },
    async askForKey(_needKey: NeedKey): Promise<{ key: string; remember: boolean } | "cancel"> {
      const key = await clack.password({
        ...common,
        message: "Paste your TokenHub API key (hidden; it never reaches your shell history)",
        validate: (value) => keyFormatProblem(value ?? "", "The key you typed"),
      });
      if (clack.isCancel(key)) return "cancel";
      const remember = keys ? await offerKeychain(keys, clack, common) : false;
      if (remember === "cancel") return "cancel";
      return { key, remember };
    },
    interrupted() {
      wasInterrupted = true;
      if (spin.active) spin.stop("Interrupted: cancelling", "cancelled");
    },
    close() {
      spin.clear();
    },
  };
}

/** Offers the OS keychain, or says plainly why it is not available and what that means. */
async function offerKeychain(
  keys: Keys,
  clack: typeof import("@clack/prompts"),
  common: { output: NodeJS.WritableStream },
): Promise<boolean | "cancel"> {
  const problem = await keys.keychainProblem();
  if (problem) {
    clack.log.warn(
      `${problem.message}\nThe key will be used for this run only. To keep it, set TOKENHUB_API_KEY in your shell profile or secret manager, or run \`npx tokenhub-setup key set --insecure-storage\` (a plaintext file readable only by you).`,
      common as never,
    );
    return false;
  }
  const answer = await clack.confirm({
    ...(common as object),
    message: "Remember this key in the OS keychain (only after TokenHub accepts it)?",
    initialValue: true,
  });
  if (clack.isCancel(answer)) return "cancel";
  return answer;
}
