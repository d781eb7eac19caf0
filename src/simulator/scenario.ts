import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { MEDIA_KINDS } from "./media.ts";

/**
 * Scenarios are data: one JSON file per scenario under `fixtures/scenarios/`, validated by the schema below.
 * The folder is resolved from this module's URL; `src/simulator/` and the built `dist/simulator/` sit at the
 * same depth, so the same relative URL finds the package's `fixtures/` from both.
 */
export const SCENARIOS_DIR: URL = new URL("../../fixtures/scenarios/", import.meta.url);

/**
 * Placeholders a scenario may use inside header values and string values of bodies, text and SSE events.
 * `{{httpDate+Ns}}` / `{{httpDate-Ns}}` is "now ± N seconds" as an HTTP date (`toUTCString`).
 * `{{mediaOrigin}}` is where media URLs point (the `mediaOrigin` option, by default the simulator itself),
 * `{{imageB64}}` the base64 of the `png` media, and `{{taskId}}` the `<id>` of a `/v1/video/tasks/<id>` poll,
 * or on any other request a fresh `task-<n>` (n as in that request's `x-request-id: req-<n>`).
 */
export const PLACEHOLDERS = [
  "model",
  "origin",
  "requestId",
  "redirectTo",
  "httpDate",
  "httpDate±Ns",
  "mediaOrigin",
  "imageB64",
  "taskId",
] as const;

const PLACEHOLDER_PATTERN = /\{\{([^}]*)\}\}/g;
const KNOWN_PLACEHOLDER =
  /^(model|origin|requestId|redirectTo|httpDate|httpDate[+-]\d+s|mediaOrigin|imageB64|taskId)$/;

/** A route key: an HTTP method, one space, and a path. A path segment `*` or `{name}` matches any one segment. */
const ROUTE_KEY = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \/\S*$/;

/** A named SSE event, sent as `event: <event>\ndata: <data>\n\n` (data as JSON unless it is a string). */
export const NamedSseEventSchema = z.strictObject({ event: z.string().min(1), data: z.unknown() });
export type NamedSseEvent = z.infer<typeof NamedSseEventSchema>;

/**
 * One SSE event: a string is sent verbatim as `data: <string>\n\n`; an object with exactly `event` and `data`
 * is a named event; any other object is sent as `data: <JSON>\n\n`.
 */
export const SseEventSchema = z.union([z.string(), NamedSseEventSchema, z.record(z.string(), z.unknown())]);
export type SseEvent = z.infer<typeof SseEventSchema>;

const nonNegativeInt = z.number().int().nonnegative();

/** One scripted response. Exactly one body source at most: `body`, `text`, `sse`, `template` or `media`. */
export const StepSchema = z
  .strictObject({
    /** HTTP status. @default 200 */
    status: z.number().int().min(100).max(599).optional(),
    /** Response headers; values may use placeholders. They override the simulator's defaults. */
    headers: z.record(z.string(), z.string()).optional(),
    /** Any JSON, sent as `application/json`. */
    body: z.unknown().optional(),
    /** A raw body; `text/plain` unless `headers` set a content-type. */
    text: z.string().optional(),
    /** SSE events, sent as `text/event-stream`, followed by `data: [DONE]` unless `done` is false. */
    sse: z.array(SseEventSchema).optional(),
    /** Append `data: [DONE]` after the `sse` events. @default true */
    done: z.boolean().optional(),
    /** A response generated from the request: `chat` answers "OK" as JSON, or as SSE when `stream: true`. */
    template: z.literal("chat").optional(),
    /**
     * A small file of that type with its content-type (`html` is a page, for "the media host answered with
     * something that is not media"); `headers` may claim another content-type. The images decode (1x1), the
     * videos are container headers only: enough for a client that checks magic bytes, which is all it should.
     */
    media: z.enum(MEDIA_KINDS).optional(),
    /**
     * Make the body at least this many bytes (oversized-body tests). For `body`, `text`, `media` and bodiless
     * steps the padding (trailing spaces) is generated as the client reads it, never held in memory, so a
     * 50 MB body costs the simulator next to nothing.
     */
    padBytes: nonNegativeInt.optional(),
    /** Wait before sending headers, in milliseconds. */
    delayMs: nonNegativeInt.optional(),
    /** Wait between SSE events, in milliseconds. */
    chunkDelayMs: nonNegativeInt.optional(),
    /**
     * Break the connection: without any answer (`before-headers`), after the headers and the first half of the
     * body bytes (`mid-body`, which may cut an SSE event in two), or after the first half of the SSE events,
     * each sent whole (`mid-stream`: a stream cut between events, without `[DONE]`; on a reply that turns out
     * not to be SSE, such as the `chat` template answering a non-stream request, it acts as `mid-body`).
     */
    drop: z.enum(["before-headers", "mid-body", "mid-stream"]).optional(),
    /** Never answer: hold the request open, sending nothing, until the client gives up or the simulator closes. */
    never: z.literal(true).optional(),
    /**
     * Send the headers and the first half of the body (half the bytes; half the events for SSE), then stall
     * this long before sending the rest, in milliseconds (body-timeout tests).
     */
    stallBodyMs: nonNegativeInt.optional(),
    /**
     * `true`: gzip the body on the wire (`content-encoding: gzip`, chunked, no content-length), flushed after
     * each SSE event. `"lie"`: say `content-encoding: gzip` but send the bytes as they are.
     */
    gzip: z.union([z.literal(true), z.literal("lie")]).optional(),
    /** Send the body chunked, without content-length, so a client learns its size only by reading it. */
    chunked: z.literal(true).optional(),
    /** This step belongs to the sequence of requests for that model (or models) only. */
    match: z
      .strictObject({ model: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]) })
      .optional(),
    /** Send this step this many times before moving on. @default 1 */
    repeat: z.number().int().positive().optional(),
  })
  .superRefine((step, ctx) => {
    const sources = (["body", "text", "sse", "template", "media"] as const).filter(
      (key) => step[key] !== undefined,
    );
    if (sources.length > 1) {
      ctx.addIssue({
        code: "custom",
        message: `a step has one body source at most, got ${sources.join(", ")}`,
      });
    }
    if (step.drop === "mid-body" && sources.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["drop"],
        message: '"mid-body" needs a body, text, sse, template or media',
      });
    }
    if (step.drop === "mid-stream" && step.sse === undefined && step.template === undefined) {
      ctx.addIssue({ code: "custom", path: ["drop"], message: '"mid-stream" needs an sse or template body' });
    }
    if (step.stallBodyMs !== undefined && sources.length === 0 && step.padBytes === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["stallBodyMs"],
        message: '"stallBodyMs" needs a body, text, sse, template, media or padBytes',
      });
    }
    if (step.never === true) {
      const extra = (["drop", "stallBodyMs", "delayMs", "chunkDelayMs", "gzip", "chunked"] as const).filter(
        (key) => step[key] !== undefined,
      );
      if (extra.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: ["never"],
          message: `"never" sends nothing, so ${extra.join(", ")} cannot apply`,
        });
      }
    }
    if (step.done !== undefined && step.sse === undefined) {
      ctx.addIssue({ code: "custom", path: ["done"], message: '"done" applies to "sse" steps only' });
    }
  });
export type Step = z.infer<typeof StepSchema>;

export const ScenarioSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "scenario names are lower-case words joined by hyphens"),
    description: z.string().min(1),
    routes: z.record(z.string(), z.array(StepSchema).min(1)),
  })
  .superRefine((scenario, ctx) => {
    // A request whose model matches no `match` step takes the default sequence, so there must be one.
    for (const [route, steps] of Object.entries(scenario.routes)) {
      // Checked here rather than as the record's key schema, whose issue would not say what a key looks like.
      if (!ROUTE_KEY.test(route)) {
        const message = `route keys look like "POST /v1/chat/completions", got ${JSON.stringify(route)}`;
        ctx.addIssue({ code: "custom", path: ["routes", route], message });
      }
      if (steps.every((step) => step.match !== undefined)) {
        const message = "a route needs at least one step without `match` (the sequence for all other models)";
        ctx.addIssue({ code: "custom", path: ["routes", route], message });
      }
    }
    // Unknown placeholders would be sent literally; catch the typo when the file is read instead.
    for (const [path, text] of stringsIn(scenario.routes, ["routes"])) {
      for (const [, inner] of text.matchAll(PLACEHOLDER_PATTERN)) {
        if (!KNOWN_PLACEHOLDER.test(inner ?? "")) {
          ctx.addIssue({ code: "custom", path, message: `unknown placeholder {{${inner}}}` });
        }
      }
    }
  });
export type Scenario = z.infer<typeof ScenarioSchema>;

/** Stable codes, so callers match on `code` and never on message text. */
export type ScenarioErrorCode = "SIM_SCENARIO_NOT_FOUND" | "SIM_SCENARIO_INVALID";

/** A scenario that cannot be found, read or validated. `issues` holds the zod issues when validation failed. */
export class ScenarioError extends Error {
  override name = "ScenarioError";
  readonly code: ScenarioErrorCode;
  readonly file: string | undefined;
  readonly issues: z.ZodError["issues"];

  constructor(
    code: ScenarioErrorCode,
    message: string,
    details: { file?: string; issues?: z.ZodError["issues"]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.issues = details.issues ?? [];
  }
}

/** Validate a scenario given as an object (inline in a test, or read from a file named `source`). */
export function parseScenario(input: unknown, source = "inline scenario"): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ScenarioError(
    "SIM_SCENARIO_INVALID",
    `Invalid scenario ${source}:\n${z.prettifyError(result.error)}`,
    {
      file: source,
      issues: result.error.issues,
    },
  );
}

/**
 * Read and validate `<dir>/<name>.json`. The file's `name` must equal its file name, which keeps names unique.
 * @param dir the scenario folder. @default SCENARIOS_DIR (the package's `fixtures/scenarios/`)
 */
export function loadScenario(name: string, dir: URL = SCENARIOS_DIR): Scenario {
  // The name becomes a file name: refuse anything that could leave the folder.
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new ScenarioError("SIM_SCENARIO_NOT_FOUND", `Invalid scenario name ${JSON.stringify(name)}`);
  }
  const file = fileURLToPath(new URL(`${name}.json`, dir));
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (cause) {
    const known = listScenarioNames(dir).join(", ");
    throw new ScenarioError(
      "SIM_SCENARIO_NOT_FOUND",
      `Unknown scenario "${name}" (${file}); known: ${known}`,
      {
        file,
        cause,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ScenarioError("SIM_SCENARIO_INVALID", `Invalid scenario file ${file}: not JSON (${reason})`, {
      file,
      cause,
    });
  }
  const scenario = parseScenario(json, `file ${file}`);
  if (scenario.name !== name) {
    throw new ScenarioError(
      "SIM_SCENARIO_INVALID",
      `Invalid scenario file ${file}: "name" is "${scenario.name}" but the file is named "${name}.json"`,
      { file },
    );
  }
  return scenario;
}

/** Every scenario in `dir`, sorted by name. Reads and validates each file, so a bad file throws here too. */
export function listScenarios(dir: URL = SCENARIOS_DIR): { name: string; description: string }[] {
  return listScenarioNames(dir).map((name) => {
    const { description } = loadScenario(name, dir);
    return { name, description };
  });
}

function listScenarioNames(dir: URL): string[] {
  try {
    return readdirSync(dir)
      .filter((file) => file.endsWith(".json"))
      .map((file) => basename(file, ".json"))
      .sort();
  } catch {
    return [];
  }
}

/** Every string value in a JSON-like tree, with its path. Keys are skipped: placeholders are filled in values only. */
function* stringsIn(value: unknown, path: (string | number)[]): Generator<[(string | number)[], string]> {
  if (typeof value === "string") {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringsIn(item, [...path, index]);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) yield* stringsIn(item, [...path, key]);
  }
}
