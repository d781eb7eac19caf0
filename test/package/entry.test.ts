// The package entry (src/index.ts) hands out stand-ins and wrappers that load their modules on first use
// (issue 15): it exports exactly what its parts export, and each export answers as the part's own does.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor } from "xstate";
import { z } from "zod";
import * as errors from "../../src/errors.ts";
import * as entry from "../../src/index.ts";
import * as chart from "../../src/machine/chart.ts";
import type { Settings } from "../../src/machine/context.ts";
import * as schemas from "../../src/schema/index.ts";

/** What the entry re-exported by name before it was made lazy, from each part. */
const NAMED = [
  "createLogger",
  "silentLogger",
  "MACHINE_VERSION",
  "setupMachine",
  "REDACTED",
  "registerSecret",
  "scrub",
  "createSession",
  "createVirtualClock",
  "openEnvelope",
  "runTurn",
  "systemClock",
  "createFileStatusStore",
  "createMemoryStatusStore",
  "defaultStatusPath",
  "classify",
  "createTokenHubClient",
];

const isSchema = (value: unknown): value is z.ZodType => value instanceof z.ZodType;

describe("the package entry", () => {
  it("exports its parts' names: the errors, every schema module's, and the named ones", () => {
    const expected = [...Object.keys(errors), ...Object.keys(schemas), ...NAMED].sort();
    assert.deepEqual(Object.keys(entry).sort(), expected);
  });

  it("says the statechart's own version", () => {
    assert.equal(entry.MACHINE_VERSION, chart.MACHINE_VERSION);
  });

  it("hands out each schema as one that parses, refuses and describes itself as the real one", () => {
    const samples: unknown[] = [{}, null, "x", { type: "SETUP" }, { baseUrl: "ftp://x" }];
    for (const [name, real] of Object.entries(schemas)) {
      const given = (entry as Record<string, unknown>)[name];
      if (!isSchema(real)) {
        if (typeof real !== "function") assert.deepEqual(given, real, name);
        continue;
      }
      assert.ok(isSchema(given), `${name} is a zod schema`);
      for (const sample of samples) {
        assert.deepEqual(
          given.safeParse(sample),
          real.safeParse(sample),
          `${name} on ${JSON.stringify(sample)}`,
        );
      }
      const json = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: "any", io: "input" });
      assert.deepEqual(json(given), json(real), `${name} as JSON Schema`);
    }
    assert.deepEqual(Object.keys(entry.SetupRequestShape), Object.keys(schemas.SetupRequestShape));
    assert.deepEqual(
      z.toJSONSchema(z.object(entry.SetupRequestShape)),
      z.toJSONSchema(z.object(schemas.SetupRequestShape)),
    );
  });

  it("answers through its functions as the parts do", () => {
    assert.deepEqual(entry.checkConfig({}), schemas.checkConfig({}));
    assert.equal(entry.checkConfig({ baseUrl: "nope" }).ok, false);
    assert.equal(entry.replyText([{ text: "O" }, { text: "K" }]), "OK");
    assert.equal(entry.defaultStatusPath({ XDG_STATE_HOME: "/s" }), "/s/tokenhub-setup/status.json");
  });

  it("hands out the statechart as one an actor starts from", () => {
    const settings: Settings = {
      modelChain: ["deepseek-v3.2"],
      stream: false,
      retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 8000, jitter: 0.2, serverDelayCapMs: 60_000 },
      totalMs: 300_000,
      baseUrl: "https://tokenhub.link/v1",
      consoleUrl: "https://console.example",
      contactUrl: "https://support.example",
      multimodal: {
        capabilities: [],
        imageModel: "wanx2.1-t2i-turbo",
        videoModel: "wan2.6-t2v",
        pollIntervalMs: 12_000,
        deadlineMs: 600_000,
      },
    };
    const actor = createActor(entry.setupMachine, { input: { settings } });
    const real = createActor(chart.setupMachine, { input: { settings } });
    assert.deepEqual(actor.getSnapshot().value, real.getSnapshot().value);
    assert.ok(entry.setupMachine instanceof chart.setupMachine.constructor);
  });
});
