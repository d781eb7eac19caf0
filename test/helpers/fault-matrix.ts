// The fault matrix: rows kept as data in fixtures/faults/*.json, each a server behaviour and what the whole flow
// must make of it, and the runner that drives one row through Steps 1-5 against the simulator.

import { lookup } from "node:dns/promises";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { ConfigInput } from "../../src/schema/config.ts";
import type { Notification } from "../../src/schema/host.ts";
import { FailureCodeSchema } from "../../src/schema/record.ts";
import { parseScenario, type Scenario, startSimulator } from "../../src/simulator/index.ts";
import { type FlowResult, runFlow, TEST_KEY } from "./flow.ts";

export const FAULTS_DIR = new URL("../../fixtures/faults/", import.meta.url);

/** `.invalid` is reserved (RFC 6761): it never resolves, so a lookup fails without any server involved. */
export const UNRESOLVABLE_BASE_URL = "https://tokenhub-setup-nonexistent.invalid/v1";

/**
 * A row's real time limit unless it sets `wallMsMax`. Backoffs run on the virtual clock, so a row that waits
 * seconds of virtual time must still finish in a fraction of that: a real sleep would break this limit.
 */
export const DEFAULT_WALL_MS_MAX = 2_000;

const MediaExpectSchema = z.strictObject({
  status: z.enum(["ok", "failed", "cancelled"]),
  /** The check's error code must start with this. */
  code: z.string().optional(),
  polls: z.number().int().nonnegative().optional(),
});

const ExpectSchema = z
  .strictObject({
    /** Where the flow rests. */
    state: z.enum(["complete", "escalated", "awaitingKey"]),
    /** The escalation's failure code; required exactly when `state` is "escalated". */
    failure: FailureCodeSchema.optional(),
    /** A regular expression the escalation's failure message must match (the outcome that ended the flow). */
    detail: z.string().optional(),
    /** Whether the escalation carries a `retryAt` (a server delay beyond the cap). */
    retryAt: z.boolean().optional(),
    /** Requests the simulator received: exact. */
    requests: z.number().int().nonnegative(),
    /** Attempts the flow made (Step-3 entries): exact; defaults to `requests` (they differ when nothing answers). */
    attempts: z.number().int().nonnegative().optional(),
    /** The model asked for in each request, in order. */
    models: z.array(z.string()).optional(),
    /** On completion: the model format that answered, and whether the answer was streamed. */
    served: z.strictObject({ model: z.string(), streamed: z.boolean() }).optional(),
    /** The reply preview a completed row records, when it is not the simulator's "OK". */
    reply: z.string().optional(),
    /** Bounds, inclusive, on the virtual time slept (the sum of the clock's sleeps), milliseconds. */
    sleptMs: z.tuple([z.number().nonnegative(), z.number().nonnegative()]),
    /** How many backoff sleeps: exact, when given. */
    sleeps: z.number().int().nonnegative().optional(),
    /** For a redirect to another origin: requests that origin received (the key must never get there). */
    otherOriginRequests: z.number().int().nonnegative().optional(),
    /** Largest growth of the process RSS while the row runs, in MiB (bodies that must not be buffered). */
    maxRssGrowthMb: z.number().positive().optional(),
    /** Real time limit for the row, milliseconds. @default DEFAULT_WALL_MS_MAX */
    wallMsMax: z.number().int().positive().optional(),
    /**
     * How each multimodal check ended (rows whose config asks for them): status, the error code's start, and
     * for video the number of polls. The text integration's own expectations above still hold.
     */
    media: z
      .strictObject({
        image: MediaExpectSchema.optional(),
        video: MediaExpectSchema.optional(),
        /** Files left in the output folder afterwards: exact (nothing on a failure). */
        files: z.number().int().nonnegative(),
      })
      .optional(),
  })
  .refine((e) => (e.state === "escalated") === (e.failure !== undefined), {
    message: '"failure" is required for an escalated row and only there',
  })
  .refine((e) => e.sleptMs[0] <= e.sleptMs[1], { message: "sleptMs is [min, max]" });

export const FaultRowSchema = z
  .strictObject({
    /** Unique across all files; lower-case words joined by hyphens. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    /** What the server does, in one line. */
    behaviour: z.string().min(10),
    /** A scenario under fixtures/scenarios/ ... */
    scenario: z.string().optional(),
    /** ... or inline steps (the simulator's step format) for POST /v1/chat/completions. */
    steps: z.array(z.unknown()).min(1).optional(),
    /** Config overrides (small timeouts, stream on/off, the model chain); validated when the session starts. */
    config: z.record(z.string(), z.unknown()).optional(),
    /** Where the flow's base URL points. @default "simulator" */
    target: z.enum(["simulator", "closed-port", "unresolvable-host"]).optional(),
    /** `{{redirectTo}}` points at a second simulator, another origin, whose requests are counted. */
    redirectTo: z.literal("other-origin").optional(),
    /** `{{mediaOrigin}}` (media URLs) points at a second simulator, whose requests are counted. */
    mediaOn: z.literal("other-origin").optional(),
    expect: ExpectSchema,
  })
  .refine((row) => (row.scenario === undefined) !== (row.steps === undefined), {
    message: 'a row has exactly one of "scenario" and "steps"',
  });
export type FaultRow = z.infer<typeof FaultRowSchema>;

const FaultFileSchema = z.strictObject({
  description: z.string().min(1),
  rows: z.array(FaultRowSchema).min(1),
});

/** Every row of every file in fixtures/faults/, validated, names unique, files in name order. */
export function loadFaultRows(dir: URL = FAULTS_DIR): FaultRow[] {
  const rows: FaultRow[] = [];
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .sort();
  for (const file of files) {
    const parsed = FaultFileSchema.safeParse(JSON.parse(readFileSync(new URL(file, dir), "utf8")));
    if (!parsed.success) throw new Error(`fixtures/faults/${file}:\n${z.prettifyError(parsed.error)}`);
    rows.push(...parsed.data.rows);
  }
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.name)) throw new Error(`fixtures/faults: the row name "${row.name}" is used twice`);
    seen.add(row.name);
    scenarioOf(row); // an invalid inline scenario fails here, naming the row
  }
  return rows;
}

/** The row's scenario: a name, or its inline steps made into a one-route scenario (validated). */
export function scenarioOf(row: FaultRow): string | Scenario {
  if (row.scenario !== undefined) return row.scenario;
  return parseScenario(
    { name: row.name, description: row.behaviour, routes: { "POST /v1/chat/completions": row.steps } },
    `fault row "${row.name}"`,
  );
}

export interface FaultRun {
  flow: FlowResult;
  /** Step-3 starts ("<model> (attempt N)"): one per attempt, whether or not anything answered. */
  attempts: number;
  sleptMs: number;
  /** Requests the second origin received, when the row redirects or puts media there. */
  otherOriginRequests: number | undefined;
  /** What the second origin saw of credentials: `authorization` per request. */
  otherOriginAuthorization: string[];
  /** Files in the multimodal output folder afterwards. */
  mediaFiles: string[];
  /** Peak RSS growth during the row, bytes (sampled every few milliseconds). */
  rssGrowthBytes: number;
  wallMs: number;
}

/** Run one row: the whole flow on a virtual clock with an in-memory record store. */
export async function runFaultRow(row: FaultRow, options: { key?: string } = {}): Promise<FaultRun> {
  const other =
    row.redirectTo === "other-origin" || row.mediaOn === "other-origin"
      ? await startSimulator({ scenario: "happy" })
      : undefined;
  const mediaDir = await mkdtemp(join(tmpdir(), "tokenhub-fault-media-"));
  const baseUrl =
    row.target === "closed-port"
      ? await closedPortBaseUrl()
      : row.target === "unresolvable-host"
        ? UNRESOLVABLE_BASE_URL
        : undefined;
  const rss = sampleRss();
  const started = performance.now();
  try {
    const config = row.config as ConfigInput | undefined;
    const flow = await runFlow(scenarioOf(row), {
      config: config?.multimodal
        ? { ...config, multimodal: { ...config.multimodal, outputDir: mediaDir } }
        : config,
      env: { TOKENHUB_API_KEY: options.key ?? TEST_KEY },
      ...(other && row.redirectTo ? { simulator: { redirectTo: `${other.baseUrl}/chat/completions` } } : {}),
      ...(other && row.mediaOn ? { simulator: { mediaOrigin: other.origin } } : {}),
      ...(baseUrl ? { baseUrl } : {}),
    });
    const wallMs = performance.now() - started;
    return {
      flow,
      attempts: flow.notifications.filter(isAttemptStart).length,
      sleptMs: flow.sleeps.reduce((sum, ms) => sum + ms, 0),
      otherOriginRequests: other?.requests.length,
      otherOriginAuthorization: other?.requests.map((r) => r.authorization) ?? [],
      mediaFiles: await readdir(mediaDir),
      rssGrowthBytes: rss.stop(),
      wallMs,
    };
  } finally {
    rss.stop();
    await other?.close();
    await rm(mediaDir, { recursive: true, force: true });
  }
}

/** Step-3 also reports backoffs and fallbacks; an attempt starts with "<model> (attempt N)". */
function isAttemptStart(n: Notification): boolean {
  return n.type === "progress" && n.step === 3 && /\(attempt \d+\)$/.test(n.detail ?? "");
}

/** A loopback port that was just listening and is now closed: connecting to it is refused. */
async function closedPortBaseUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

/**
 * Why the DNS row cannot give a deterministic answer here, or undefined when it can: `.invalid` must fail
 * with ENOTFOUND (NXDOMAIN), and quickly. Without a resolver (an offline sandbox) the answer is EAI_AGAIN, a
 * transient failure the flow rightly retries, which is a different row.
 */
export async function unresolvableHostProblem(): Promise<string | undefined> {
  const host = new URL(UNRESOLVABLE_BASE_URL).hostname;
  const started = performance.now();
  try {
    await lookup(host);
    return `${host} resolved: this resolver rewrites NXDOMAIN`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const ms = Math.round(performance.now() - started);
    if (code !== "ENOTFOUND") return `looking up ${host} gave ${code}, not ENOTFOUND (no resolver?)`;
    if (ms > 2_000) return `looking up ${host} took ${ms} ms`;
    return undefined;
  }
}

/** Samples process RSS until stopped; `stop()` returns the peak growth over the starting value, in bytes. */
function sampleRss(): { stop(): number } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return peak - start;
    },
  };
}
