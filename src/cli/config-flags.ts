/**
 * The config as the setup and mcp commands take it from their flags: the multimodal flags checked and
 * gathered, and a value the config refuses named by the flag it came from.
 */
import {
  CAPABILITIES,
  type Capability,
  type ConfigError,
  type ConfigInput,
  VIDEO_PROTOCOLS,
} from "../session/index.ts";
import { type CliContext, stringOption } from "./context.ts";
import { freshSimulatedMediaDir, simulatedMediaRoot } from "./simulated-media.ts";

/** The options the config paths come from, so a refused value is named as the person typed it. */
const FLAG_FOR_PATH: Array<[RegExp, string]> = [
  [/^modelChain(\.|$)/, "--model"],
  [/^baseUrl$/, "--base-url"],
  [/^stream$/, "--stream"],
  [/^multimodal\.outputDir$/, "--output-dir"],
  [/^multimodal\.maxDownloadBytes$/, "--max-media-bytes"],
  [/^multimodal\.image\.model$/, "--image-model"],
  [/^multimodal\.video\.model$/, "--video-model"],
  [/^multimodal\.video\.protocol$/, "--video-protocol"],
  [/^multimodal\.video\.pollIntervalMs$/, "--poll-interval"],
  [/^multimodal\.transferCommand(\.|$)/, "--transfer-command"],
];

/**
 * What is wrong with the flags `setup` and `mcp` share (an empty --base-url would quietly mean the production
 * default; --simulate is its own base URL; --scenario plays only on the simulator), or undefined.
 */
export function targetProblem(values: CliContext["values"]): string | undefined {
  const simulate = values.simulate === true;
  const baseUrl = stringOption(values, "base-url");
  if (baseUrl === "") return "--base-url needs a URL (got an empty value).";
  if (simulate && baseUrl)
    return "--simulate and --base-url cannot be combined: the simulator is the base URL.";
  if (stringOption(values, "scenario") && !simulate) return "--scenario needs --simulate.";
  return undefined;
}

/** A refused config value as the person typed it: `--model: ...` rather than `modelChain.0: ...`. */
export function inFlagTerms(err: ConfigError): string {
  const flag = FLAG_FOR_PATH.find(([pattern]) => pattern.test(err.path ?? ""))?.[1];
  if (!flag) return err.toLine();
  return `${flag}: ${(err.detail ?? err.message).replace(/[.!]?$/, ".")} See \`tokenhub-setup --help\`.`;
}

/**
 * The download cap with --simulate, unless --max-media-bytes says otherwise: far above any file the simulator
 * serves as good media, and below the 64 MiB its too-large scenarios serve, so those fail as they are named
 * (under the real default of 200 MiB they would pass).
 */
const SIMULATED_MAX_MEDIA_BYTES = 16 * 1024 * 1024;

/**
 * --multimodal and its companions as the config's `multimodal` section (undefined when not asked for). With
 * --simulate the polls are fast, downloads are capped low and files go to the latest run's folder
 * (simulated-media.ts), so a demo neither waits nor litters.
 */
export function multimodalOptions(
  ctx: CliContext,
  simulated: boolean,
): ConfigInput["multimodal"] | "usage" | undefined {
  const { values } = ctx;
  const list = stringOption(values, "multimodal");
  if (list === undefined) return undefined;
  const capabilities = [
    ...new Set(
      list
        .split(",")
        .map((c) => c.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  const unknown = capabilities.filter((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (capabilities.length === 0 || unknown.length > 0) {
    ctx.say(`tokenhub-setup: --multimodal takes image, video or image,video (got "${list}"). See --help.`);
    return "usage";
  }
  const protocol = stringOption(values, "video-protocol");
  if (protocol !== undefined && !isVideoProtocol(protocol)) {
    ctx.say(
      `tokenhub-setup: --video-protocol is one of ${VIDEO_PROTOCOLS.join(", ")} (got "${protocol}"). See --help.`,
    );
    return "usage";
  }
  const pollText = stringOption(values, "poll-interval");
  const pollSeconds = pollText === undefined ? (simulated ? 0.5 : undefined) : Number(pollText);
  if (
    pollSeconds !== undefined &&
    !(Number.isFinite(pollSeconds) && pollSeconds >= 0.01 && pollSeconds <= 86_400)
  ) {
    ctx.say(
      `tokenhub-setup: --poll-interval takes seconds, from 0.01 to 86400 (got "${pollText}"). See --help.`,
    );
    return "usage";
  }
  if (stringOption(values, "output-dir") === "") {
    ctx.say("tokenhub-setup: --output-dir needs a folder (got an empty value). See --help.");
    return "usage";
  }
  const capText = stringOption(values, "max-media-bytes");
  if (
    capText !== undefined &&
    !(/^\d+$/.test(capText) && Number.isSafeInteger(Number(capText)) && Number(capText) >= 1)
  ) {
    ctx.say(
      `tokenhub-setup: --max-media-bytes takes a whole number of bytes, at least 1 (got "${capText}"). See --help.`,
    );
    return "usage";
  }
  const maxDownloadBytes =
    capText !== undefined ? Number(capText) : simulated ? SIMULATED_MAX_MEDIA_BYTES : undefined;
  const transfer = stringOption(values, "transfer-command")?.split(/\s+/).filter(Boolean);
  let outputDir = stringOption(values, "output-dir");
  if (outputDir === undefined && simulated) {
    try {
      outputDir = freshSimulatedMediaDir(ctx.io.env);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      ctx.say(
        `tokenhub-setup: cannot make a folder for the simulated media under ${simulatedMediaRoot(ctx.io.env)} (${e.code ?? e.message}); name one with --output-dir DIR.`,
      );
      return "usage";
    }
  }
  const imageModel = stringOption(values, "image-model");
  const videoModel = stringOption(values, "video-model");
  return {
    capabilities: capabilities as Capability[],
    ...(outputDir ? { outputDir } : {}),
    ...(maxDownloadBytes !== undefined ? { maxDownloadBytes } : {}),
    ...(transfer && transfer.length > 0 ? { transferCommand: transfer } : {}),
    ...(imageModel ? { image: { model: imageModel } } : {}),
    video: {
      ...(videoModel ? { model: videoModel } : {}),
      ...(protocol ? { protocol } : {}),
      ...(pollSeconds !== undefined ? { pollIntervalMs: Math.round(pollSeconds * 1000) } : {}),
    },
  };
}

function isVideoProtocol(value: string): value is (typeof VIDEO_PROTOCOLS)[number] {
  return (VIDEO_PROTOCOLS as readonly string[]).includes(value);
}
