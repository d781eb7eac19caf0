import { z } from "zod";
import { CONTRACT, MEDIA, VIDEO_PROTOCOLS } from "./quickstart.ts";

/**
 * The longest duration any option takes, milliseconds: one day. Far beyond any sensible wait, and well inside
 * what Node's timers hold (2^31-1 ms): past that, a timer fires at once, so 3e9 ms would time out immediately.
 */
export const MAX_DURATION_MS = 86_400_000;

/**
 * One routing rule: how a refusal that means "this model format cannot be served for you" is recognised.
 * TokenHub publishes no error codes (tokenhub-api.md, Errors), so rules match status plus code and message
 * patterns, case-insensitively. Rules given in config are tried before the built-in table.
 */
export const RoutingRuleSchema = z
  .object({
    reason: z.enum(["region_unavailable", "no_supplier", "model_not_offered"]),
    statuses: z.array(z.number().int().min(400).max(599)).min(1),
    code: z
      .string()
      .optional()
      .describe("Regular expression (source text) matched against the error code, if the body has one."),
    message: z
      .string()
      .optional()
      .describe("Regular expression (source text) matched against the error message."),
  })
  .strict()
  .refine((rule) => rule.code !== undefined || rule.message !== undefined, {
    message: "a routing rule needs a code or a message pattern",
  });
export type RoutingRule = z.infer<typeof RoutingRuleSchema>;

export const TimeoutsSchema = z
  .object({
    connectMs: z
      .number()
      .int()
      .positive()
      .max(MAX_DURATION_MS)
      .default(10_000)
      .describe("TCP + TLS connect timeout, milliseconds."),
    headersMs: z
      .number()
      .int()
      .positive()
      .max(MAX_DURATION_MS)
      .default(30_000)
      .describe("Time to wait for response headers, milliseconds."),
    bodyMs: z
      .number()
      .int()
      .positive()
      .max(MAX_DURATION_MS)
      .default(30_000)
      .describe("Longest silence between body chunks, milliseconds."),
    requestMs: z
      .number()
      .int()
      .positive()
      .max(MAX_DURATION_MS)
      .default(60_000)
      .describe("Whole-request limit (headers and body) for one attempt, milliseconds."),
    totalMs: z
      .number()
      .int()
      .positive()
      .max(MAX_DURATION_MS)
      .default(300_000)
      .describe(
        "Deadline for the text check, from SETUP to its verdict, milliseconds. The optional image and video checks that follow have their own limits (multimodal.requestMs, multimodal.video.deadlineMs).",
      ),
  })
  .strict();

export const RetrySchema = z
  .object({
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(3)
      .default(3)
      .describe("Attempts per model format, the first one included (the quickstart says at most 3)."),
    baseDelayMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_DURATION_MS)
      .default(1_000)
      .describe("First backoff delay, milliseconds; doubled for each further attempt."),
    maxDelayMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_DURATION_MS)
      .default(8_000)
      .describe("Largest computed backoff delay, milliseconds."),
    jitter: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe("Jitter as a fraction of the delay: the wait is delay * (1 ± jitter)."),
    serverDelayCapMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_DURATION_MS)
      .default(60_000)
      .describe("Longest server-requested delay (Retry-After) honoured; beyond it the flow escalates."),
  })
  .strict();

export const CAPABILITIES = ["image", "video"] as const;
export const CapabilitySchema = z.enum(CAPABILITIES);
export type Capability = z.infer<typeof CapabilitySchema>;

export const ImageCheckSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .max(200)
      .default(MEDIA.image.model)
      .describe("Image model (the quickstart's); `tokenhub/gpt-image-2` answers in the OpenAI shape."),
    size: z
      .string()
      .regex(/^\d{2,5}[*x]\d{2,5}$/, "a size looks like 1024*1024 (Wan) or 1024x1024 (OpenAI)")
      .default(MEDIA.image.size)
      .describe("Image size: `W*H` for Wan models, `WxH` for OpenAI-style ones."),
    prompt: z.string().min(1).max(500).default(MEDIA.image.prompt),
  })
  .strict();

export const VideoCheckSchema = z
  .object({
    model: z.string().min(1).max(200).default(MEDIA.video.model).describe("Video model (the quickstart's)."),
    protocol: z
      .enum(VIDEO_PROTOCOLS)
      .default("quickstart")
      .describe(
        "How the task is created: the quickstart's `{model, prompt}`, DashScope (`X-DashScope-Async: enable`, `{model, input, parameters}`) or OpenAI-style (`{model, prompt, duration}`).",
      ),
    prompt: z.string().min(1).max(500).default(MEDIA.video.prompt),
    durationS: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(5)
      .describe(
        "Requested clip length, seconds (dashscope and openai protocols; the quickstart sends none).",
      ),
    pollIntervalMs: z
      .number()
      .int()
      .min(10)
      .max(MAX_DURATION_MS)
      .default(12_000)
      .describe("Time between task polls, milliseconds (TokenHub advises 10-15 s)."),
    deadlineMs: z
      .number()
      .int()
      .positive()
      .max(MAX_DURATION_MS)
      .default(600_000)
      .describe("Give up on a task that has not finished this long after it was created, milliseconds."),
  })
  .strict();

export const MultimodalSchema = z
  .object({
    capabilities: z
      .array(CapabilitySchema)
      .max(2)
      .default([])
      .describe("Checks to run after the text path succeeded (opt-in): image, video, or both."),
    outputDir: z
      .string()
      .min(1)
      .optional()
      .describe("Where generated files are saved; unset means $XDG_STATE_HOME/tokenhub-setup/media."),
    maxDownloadBytes: z
      .number()
      .int()
      .positive()
      .default(200 * 1024 * 1024)
      .describe("Largest media file downloaded, bytes."),
    requestMs: z
      .number()
      .int()
      .positive()
      .max(MAX_DURATION_MS)
      .default(180_000)
      .describe("Limit for one image request, task call or download, milliseconds."),
    transferCommand: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "Object-storage hook: a command (argv, no shell) run after each download with the file path appended; its first stdout line is recorded as the location.",
      ),
    image: ImageCheckSchema.default(ImageCheckSchema.parse({})),
    video: VideoCheckSchema.default(VideoCheckSchema.parse({})),
  })
  .strict();
export type MultimodalConfig = z.output<typeof MultimodalSchema>;

/**
 * The default cap on connections to one origin, per process: enough to keep a gateway busy, few enough that
 * thousands of concurrent flows queue for a connection instead of running out of file descriptors (EMFILE).
 */
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 128;

export const ConfigSchema = z
  .object({
    baseUrl: z
      .url()
      .default(CONTRACT.baseUrl)
      .describe("TokenHub API base, ending in /v1. `https:` unless the host is loopback."),
    modelChain: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(10)
      .default([...CONTRACT.modelFormats])
      .describe(
        "Model formats to try in order: bare (routing chooses a provider), provider-pinned, then a plan model. The next one is used only when TokenHub says the current one cannot be served (region, supplier, model).",
      ),
    stream: z
      .boolean()
      .default(false)
      .describe("Ask for a server-sent-event stream instead of one JSON body."),
    timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
    retry: RetrySchema.default(RetrySchema.parse({})),
    maxResponseBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024)
      .describe("Largest response body read, bytes (after decompression)."),
    maxConnectionsPerOrigin: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_CONNECTIONS_PER_ORIGIN)
      .describe(
        "Most connections open at once to one origin, shared by every flow of the process; further requests queue.",
      ),
    statusPath: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Where the Step-5 record is written; unset means $XDG_STATE_HOME/tokenhub-setup/status.json.",
      ),
    consoleUrl: z
      .url()
      .default("https://www.tokenhub.link/console/api-keys")
      .describe("Where a user creates an API key (not published by TokenHub; a documented default)."),
    contactUrl: z
      .url()
      .default("https://www.tokenhub.link/enterprise")
      .describe('Where escalations point (TokenHub publishes an "Enterprise Support" entry but no address).'),
    keychainService: z
      .string()
      .min(1)
      .default("tokenhub-setup")
      .describe("OS keychain service name the key is stored under."),
    keychainAccount: z.string().min(1).default("TOKENHUB_API_KEY").describe("OS keychain account name."),
    routingRules: z
      .array(RoutingRuleSchema)
      .default([])
      .describe("Extra routing rules, tried before the built-in ones."),
    multimodal: MultimodalSchema.default(MultimodalSchema.parse({})),
    logLevel: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .optional()
      .describe(
        "Log level for the skill's own pino logger; unset means TOKENHUB_SETUP_LOG_LEVEL, else info.",
      ),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.output<typeof ConfigSchema>;

/** What `checkConfig` says: the config with every default filled in, or the first value it refuses. */
export type ConfigResolution =
  | { ok: true; config: Config }
  | {
      ok: false;
      /** The refused value's path, dotted (`multimodal.video.model`); "" for the root. */
      path: string;
      /** The schema's own words for what is wrong with it. */
      detail: string;
      /** One sentence naming the path and the problem. */
      message: string;
      remedy: string;
      cause: z.ZodError;
    };

/**
 * The config as the flow uses it: the input checked against ConfigSchema, defaults filled in. A refusal is
 * returned, not thrown: the contract layer imports nothing but zod, and the typed error (ConfigError, which
 * scrubs its message) is the session's to raise (session/config.ts `resolveConfig`).
 */
export function checkConfig(input: ConfigInput | undefined): ConfigResolution {
  const parsed = ConfigSchema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    path: issue?.path.join(".") ?? "",
    detail: issue?.message ?? "invalid",
    message: `Invalid configuration at ${issue?.path.join(".") || "(root)"}: ${issue?.message}.`,
    remedy: "Fix the setting; see the configuration table in the README.",
    cause: parsed.error,
  };
}
