import { z } from "zod";

/**
 * One routing rule: how a refusal that means "this model format cannot be served for you" is recognised.
 * TokenHub publishes no error codes (tokenhub-api.md, Errors), so rules match status plus code and message
 * patterns, case-insensitively. Rules given in config are tried before the built-in table.
 */
export const RoutingRuleSchema = z
  .object({
    reason: z.enum(["region_unavailable", "no_supplier", "model_not_offered"]),
    statuses: z.array(z.number().int().min(400).max(599)).min(1),
    /** Regular expression (source text) matched against the error code, if the body has one. */
    code: z.string().optional(),
    /** Regular expression (source text) matched against the error message. */
    message: z.string().optional(),
  })
  .strict()
  .refine((rule) => rule.code !== undefined || rule.message !== undefined, {
    message: "a routing rule needs a code or a message pattern",
  });
export type RoutingRule = z.infer<typeof RoutingRuleSchema>;

export const TimeoutsSchema = z
  .object({
    /** TCP + TLS connect timeout, milliseconds. @default 10000 */
    connectMs: z.number().int().positive().default(10_000),
    /** Time to wait for response headers, milliseconds. @default 30000 */
    headersMs: z.number().int().positive().default(30_000),
    /** Longest silence between body chunks, milliseconds. @default 30000 */
    bodyMs: z.number().int().positive().default(30_000),
    /** Whole-request limit (headers and body) for one attempt, milliseconds. @default 60000 */
    requestMs: z.number().int().positive().default(60_000),
    /** Deadline for the whole flow, from SETUP to the record, milliseconds. @default 300000 */
    totalMs: z.number().int().positive().default(300_000),
  })
  .strict();

export const RetrySchema = z
  .object({
    /** Attempts per model format, the first one included (the quickstart says at most 3). @default 3 */
    maxAttempts: z.number().int().min(1).max(3).default(3),
    /** First backoff delay, milliseconds; doubled for each further attempt. @default 1000 */
    baseDelayMs: z.number().int().min(0).default(1_000),
    /** Largest computed backoff delay, milliseconds. @default 8000 */
    maxDelayMs: z.number().int().min(0).default(8_000),
    /** Jitter as a fraction of the delay: the wait is delay * (1 ± jitter). @default 0.2 */
    jitter: z.number().min(0).max(1).default(0.2),
    /** Longest server-requested delay (Retry-After) honoured; beyond it the flow escalates. @default 60000 */
    serverDelayCapMs: z.number().int().min(0).default(60_000),
  })
  .strict();

export const ConfigSchema = z
  .object({
    /** TokenHub API base, ending in /v1. `https:` unless the host is loopback. @default "https://tokenhub.link/v1" */
    baseUrl: z.url().default("https://tokenhub.link/v1"),
    /**
     * Model formats to try in order: bare (routing chooses a provider), provider-pinned, then a plan model.
     * The next one is used only when TokenHub says the current one cannot be served (region, supplier, model).
     * @default ["deepseek-v3.2", "alibaba/deepseek-v3.2"]
     */
    modelChain: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(10)
      .default(["deepseek-v3.2", "alibaba/deepseek-v3.2"]),
    /** Ask for a server-sent-event stream instead of one JSON body. @default false */
    stream: z.boolean().default(false),
    timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
    retry: RetrySchema.default(RetrySchema.parse({})),
    /** Largest response body read, bytes (after decompression). @default 1048576 */
    maxResponseBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Where the Step-5 record is written. @default "$XDG_STATE_HOME/tokenhub-setup/status.json" */
    statusPath: z.string().min(1).optional(),
    /** Where a user creates an API key (not published by TokenHub; a documented default). */
    consoleUrl: z.url().default("https://www.tokenhub.link/console/api-keys"),
    /** Where escalations point (TokenHub publishes an "Enterprise Support" entry but no address). */
    contactUrl: z.url().default("https://www.tokenhub.link/enterprise"),
    /** OS keychain service name the key is stored under. @default "tokenhub-setup" */
    keychainService: z.string().min(1).default("tokenhub-setup"),
    /** OS keychain account name. @default "TOKENHUB_API_KEY" */
    keychainAccount: z.string().min(1).default("TOKENHUB_API_KEY"),
    /** Extra routing rules, tried before the built-in ones. @default [] */
    routingRules: z.array(RoutingRuleSchema).default([]),
    /** Log level for the skill's own pino logger. @default "info" */
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.output<typeof ConfigSchema>;
