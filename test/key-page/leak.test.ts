// Keys of every character a form encodes (`&`, `=`, `+`, `%`, quotes, angle brackets...) posted to the key page,
// accepted and refused: the key shows in no answer (headers or body, in any of its encodings) and no log line,
// and the masked hint the page shows is escaped HTML. FUZZ_SEED replays a run (fast-check prints the seed).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { findLeaks } from "../helpers/leak-scan.ts";
import { createTranscript, formPost, GOOD, openTestPage } from "./fixture.ts";

const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
const RUNS = Number(process.env.KEY_PAGE_RUNS ?? 30);

const SPECIALS = [..."\"\\$`%&+/=?#'*()[]{}|^~;<>!@:,.-_"];
const keyChar = fc.oneof(
  { arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), weight: 3 },
  { arbitrary: fc.constantFrom(...SPECIALS), weight: 2 },
);
/** A key parseKey accepts (16 characters and more, printable ASCII), with a fixed tail so it is distinctive. */
const keyArb = fc.string({ unit: keyChar, minLength: 8, maxLength: 80 }).map((s) => `${s}-9e1f04c7`);

const escaped = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

describe("keys of every form-encoded character through the key page", () => {
  let anyKey: Simulator;
  let onlyGood: Simulator;
  before(async () => {
    anyKey = await startSimulator({ scenario: "happy" });
    onlyGood = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
  });
  after(async () => {
    await anyKey.close();
    await onlyGood.close();
  });

  it("accepted: kept as typed, the hint escaped, the key in no answer or log line", async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, async (key) => {
        const opened = await openTestPage(anyKey);
        const transcript = createTranscript();
        try {
          const answer = await transcript.send(opened.page.url, formPost(opened.origin, { key }));
          assert.equal(answer.status, 200);
          const outcome = await opened.page.outcome;
          assert.ok(outcome.status === "accepted");
          assert.ok(answer.body.includes(`(${escaped(outcome.hint)})`), "the hint, escaped");
          assert.deepEqual(opened.stored, [{ in: "keychain", raw: key }]);
        } finally {
          await opened.close();
        }
        const channels = [...transcript.channels, ["log", opened.lines.join("\n")] as const];
        assert.deepEqual(findLeaks([key], channels), []);
      }),
      { numRuns: RUNS, ...SEED },
    );
  });

  it("refused by TokenHub: the form again, nothing kept, the key in no answer or log line", async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, async (key) => {
        fc.pre(key !== GOOD);
        const opened = await openTestPage(onlyGood);
        const transcript = createTranscript();
        try {
          const answer = await transcript.send(opened.page.url, formPost(opened.origin, { key }));
          assert.equal(answer.status, 422);
          assert.deepEqual(opened.stored, []);
        } finally {
          await opened.close();
        }
        const channels = [...transcript.channels, ["log", opened.lines.join("\n")] as const];
        assert.deepEqual(findLeaks([key], channels), []);
      }),
      { numRuns: RUNS, ...SEED },
    );
  });
});
