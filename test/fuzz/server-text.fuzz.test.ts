// Hostile server text: a server that echoes the key somewhere in what it answers (an error message, a text
// body, broken JSON, a request-id header, an SSE error event, the reply, the `object` field), at any offset of
// texts of many lengths. Whatever the code keeps of that text is cut to a length somewhere; it must be scrubbed
// before any cut, or a key straddling the cut survives in part. The property: no run of 8 or more of the key's
// characters reaches any output channel (notifications, the record, the snapshot, logs at trace level, the
// CLI's rendered lines, the OpenClaw tool's text and status, the MCP tool's text and structured content).
//
// SERVER_TEXT_RUNS sets the number of cases (default 120); FUZZ_SEED replays a run (the seed is printed on
// failure by fast-check).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { renderNotification } from "../../src/cli/render.ts";
import { createLogger } from "../../src/log.ts";
import { turnText as mcpTurnText, turnOutput } from "../../src/mcp/text.ts";
import { statusText, turnText } from "../../src/openclaw/text.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { runTurn } from "../../src/session/turn.ts";
import type { Scenario, Simulator } from "../../src/simulator/index.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";
import { KEPT_HEADERS } from "../../src/tokenhub/client.ts";

const RUNS = Number(process.env.SERVER_TEXT_RUNS ?? 120);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
const RUN_LENGTH = 8;

/** Where the server puts the text that carries the key. */
const FIELDS = [
  "error-message",
  "dashscope-message",
  "text-body",
  "malformed-json",
  "header",
  "sse-error",
  "reply",
  "object",
] as const;
type Field = (typeof FIELDS)[number];

/** Lengths the code cuts server text to (messages, excerpts, headers, previews): offsets near them matter most. */
const CUTS = [40, 80, 128, 160, 200, 300, 512, 2000];

// Keys of upper-case letters and digits; the filler around them is lower-case words, spaces and newlines, so a
// run of 8 key characters in the output can only have come from the key.
const keyArb = fc
  .string({ unit: fc.constantFrom(..."ABCDEFGHJKLMNPQRSTUVWXYZ23456789"), minLength: 24, maxLength: 48 })
  .map((s) => `sk-${s}`);
const fillerUnit = fc.constantFrom(..."abcdefghij klmnop qrstuvwxyz\n\t,.:");

interface Case {
  key: string;
  field: Field;
  text: string;
  header: string;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    key: keyArb,
    field: fc.constantFrom(...FIELDS),
    filler: fc.string({ unit: fillerUnit, minLength: 0, maxLength: 2600 }),
    near: fc.constantFrom(...CUTS),
    back: fc.integer({ min: 1, max: 60 }),
    uniform: fc.double({ min: 0, max: 1, noNaN: true }),
    nearCut: fc.boolean(),
    // Every header the client keeps may carry server text.
    header: fc.constantFrom(...KEPT_HEADERS),
  })
  .map(({ key, field, filler, near, back, uniform, nearCut, header }) => {
    // Near a cut: the key starts `back` characters before it (so it straddles the cut), else anywhere.
    const at = nearCut
      ? Math.max(0, near - Math.min(back, key.length - 1))
      : Math.floor(uniform * filler.length);
    const padded = filler.length < at ? filler.padEnd(at, "x") : filler;
    return { key, field, header, text: `${padded.slice(0, at)}${key}${padded.slice(at)}` };
  });

function scenarioFor({ field, text, header }: Case): Scenario {
  const chat = (step: Record<string, unknown>) =>
    ({
      name: `server-text-${field}`,
      description: "a server that echoes the key",
      routes: { "POST /v1/chat/completions": [step] },
    }) as Scenario;
  const completion = (content: string, object = "chat.completion") => ({
    id: "chatcmpl-x",
    object,
    created: 1735689600,
    model: "{{model}}",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
  });
  switch (field) {
    case "error-message":
      return chat({ status: 400, body: { error: { message: text, type: "invalid_request_error" } } });
    case "dashscope-message":
      return chat({ status: 400, body: { code: "InvalidParameter", message: text, request_id: "r-1" } });
    case "text-body":
      return chat({ status: 400, text });
    case "malformed-json":
      // JSON.parse's own error message quotes a stretch of the text around the fault, cut by V8.
      return chat({ status: 200, headers: { "content-type": "application/json" }, text: `{"x": ${text}` });
    case "header": {
      // A redirect's Location is read as a URL (its host lower-cased), the others as text.
      const value = header === "location" ? `https://${text.replace(/[^A-Za-z0-9-]/g, "")}.example/x` : text;
      return chat({
        status: header === "location" ? 302 : header.startsWith("retry-after") ? 503 : 400,
        headers: { [header]: value.replace(/[\n\t]/g, " ") },
        body: { error: { message: "bad request" } },
      });
    }
    case "sse-error":
      return chat({ sse: [{ event: "error", data: JSON.stringify({ error: { message: text } }) }] });
    case "reply":
      return chat({ body: completion(text) });
    case "object":
      return chat({ body: completion("OK", text) });
  }
}

/** Every run of RUN_LENGTH characters of the key found in the text, in any letter case (URLs lower-case hosts). */
function runsOf(key: string, text: string): string[] {
  const hits = new Set<string>();
  const haystack = text.toLowerCase();
  for (let i = 0; i + RUN_LENGTH <= key.length; i++) {
    const run = key.slice(i, i + RUN_LENGTH);
    if (haystack.includes(run.toLowerCase())) hits.add(run);
  }
  return [...hits];
}

describe("server text that carries the key is scrubbed before any cut", () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ scenario: "happy" });
  });
  after(async () => {
    await sim.close();
  });

  it(`no run of ${RUN_LENGTH} key characters in any channel, over ${RUNS} hostile answers`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        sim.useScenario(scenarioFor(c));
        const lines: string[] = [];
        const store = createMemoryStatusStore();
        const turn = await runTurn({
          event: { type: "SETUP" },
          config: {
            baseUrl: sim.baseUrl,
            stream: c.field === "sse-error",
            retry: { maxAttempts: 1 },
            modelChain: ["deepseek-v3.2"],
          },
          sources: { env: { TOKENHUB_API_KEY: c.key }, keychain: false },
          store,
          clock: createVirtualClock(),
          logger: createLogger({ level: "trace", destination: { write: (l: string) => void lines.push(l) } }),
        });
        const record = store.records.at(-1);
        const channels: Array<[string, string]> = [
          ["notifications", JSON.stringify(turn.notifications)],
          ["rendered (CLI)", turn.notifications.map((n) => renderNotification(n)).join("\n")],
          ["snapshot", JSON.stringify(turn.snapshot)],
          ["output", JSON.stringify(turn.output ?? null)],
          ["record", JSON.stringify(record ?? null)],
          ["logs (trace)", lines.join("")],
          ["OpenClaw tool text", turnText(turn, { recordPath: "/tmp/status.json" })],
          ["OpenClaw status", statusText(record, "/tmp/status.json")],
          ["MCP tool text", mcpTurnText(turn, { recordPath: "/tmp/status.json" })],
          ["MCP structuredContent", JSON.stringify(turnOutput("start", turn))],
        ];
        const leaks = channels.flatMap(([name, text]) => runsOf(c.key, text).map((run) => `${name}: ${run}`));
        assert.deepEqual(
          leaks,
          [],
          `${c.field}: key at offset ${c.text.indexOf(c.key)} of ${c.text.length} characters`,
        );
      }),
      { numRuns: RUNS, ...SEED },
    );
  });
});
