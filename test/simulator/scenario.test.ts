import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import {
  listScenarios,
  loadScenario,
  PLACEHOLDERS,
  parseScenario,
  SCENARIOS_DIR,
  ScenarioError,
} from "../../src/simulator/index.ts";

const REQUIRED = [
  "happy",
  "unauthorized",
  "rate-limited-seconds",
  "rate-limited-http-date",
  "rate-limited-ms",
  "retry-after-too-long",
  "server-500-then-ok",
  "server-502-then-ok",
  "server-504-then-ok",
  "server-503-always",
  "reset-then-ok",
  "reset-mid-body-always",
  "region-unavailable-dashscope",
  "no-supplier-openai",
  "routing-exhausted",
  "model-not-found",
  "insufficient-balance",
  "empty-choices",
  "null-content",
  "wrong-object",
  "malformed-json",
  "oversized",
  "redirect",
  "stream-happy",
  "stream-error-event",
  "stream-no-done",
  "stream-answered-json",
  "slow-headers",
  "image-dashscope",
  "image-openai-url",
  "image-openai-b64",
  "video-dashscope",
  "video-openai",
  "video-failed",
  "video-failed-openai",
  "video-never-finishes",
  "media-too-large",
  "media-not-image",
  "media-wrong-magic",
  "media-redirect-offsite",
];

const chatRoute = "POST /v1/chat/completions";

/** A throwaway scenario folder holding one file. */
function folderWith(file: string, content: string): URL {
  const dir = mkdtempSync(join(tmpdir(), "sim-scenarios-"));
  writeFileSync(join(dir, file), content);
  return pathToFileURL(`${dir}/`);
}

describe("scenario files", () => {
  it("all parse, and every name is unique and equals its file name", () => {
    const files = readdirSync(SCENARIOS_DIR).filter((file) => file.endsWith(".json"));
    const names = files.map((file) => loadScenario(file.replace(/\.json$/, "")).name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(
      names,
      files.map((file) => file.replace(/\.json$/, "")),
    );
  });

  it("include every scenario the skill relies on, each with a description", () => {
    const listed = listScenarios();
    const names = listed.map((scenario) => scenario.name);
    for (const name of REQUIRED) assert.ok(names.includes(name), `missing scenario ${name}`);
    for (const { description } of listed) assert.ok(description.length > 10);
  });
});

describe("scenario validation", () => {
  it("names the file and the zod issue for a bad scenario file", () => {
    const dir = folderWith(
      "bad.json",
      JSON.stringify({ name: "bad", description: "bad", routes: { [chatRoute]: [{ status: 1000 }] } }),
    );
    assert.throws(
      () => loadScenario("bad", dir),
      (error: unknown) => {
        assert.ok(error instanceof ScenarioError);
        assert.equal(error.code, "SIM_SCENARIO_INVALID");
        assert.match(error.message, /bad\.json/);
        assert.match(error.message, /status/);
        assert.ok(error.issues.length > 0);
        return true;
      },
    );
  });

  it("reports a file that is not JSON", () => {
    const dir = folderWith("broken.json", "{ nope");
    assert.throws(() => loadScenario("broken", dir), /broken\.json: not JSON/);
  });

  it("refuses a file whose name differs from its scenario name", () => {
    const dir = folderWith("one.json", JSON.stringify({ name: "two", description: "x", routes: {} }));
    assert.throws(() => loadScenario("one", dir), /"name" is "two"/);
  });

  it("refuses unknown and path-like scenario names", () => {
    assert.throws(() => loadScenario("no-such-scenario"), { code: "SIM_SCENARIO_NOT_FOUND" });
    assert.throws(() => loadScenario("../package"), { code: "SIM_SCENARIO_NOT_FOUND" });
  });

  it("refuses two body sources, unknown keys, unknown placeholders and a route with only match steps", () => {
    const scenario = (steps: unknown[]) => ({ name: "x", description: "x", routes: { [chatRoute]: steps } });
    assert.throws(() => parseScenario(scenario([{ body: {}, text: "" }])), /one body source at most/);
    assert.throws(() => parseScenario(scenario([{ stauts: 200 }])), /stauts/);
    assert.throws(
      () => parseScenario(scenario([{ text: "{{modle}}" }])),
      /unknown placeholder \{\{modle\}\}/,
    );
    assert.throws(() => parseScenario(scenario([{ match: { model: "a" }, text: "" }])), /without `match`/);
    assert.throws(() => parseScenario(scenario([{ drop: "mid-body" }])), /mid-body/);
    assert.throws(
      () => parseScenario({ name: "x", description: "x", routes: { "/v1/chat": [{}] } }),
      /route keys/,
    );
  });

  it("takes media as a body source of its own, of a known kind only", () => {
    const scenario = (steps: unknown[]) => ({
      name: "x",
      description: "x",
      routes: { "GET /media/x": steps },
    });
    assert.throws(
      () => parseScenario(scenario([{ media: "png", text: "" }])),
      /one body source at most, got text, media/,
    );
    assert.throws(() => parseScenario(scenario([{ media: "bmp" }])), /media/);
    const ok = parseScenario(
      scenario([
        { media: "mp4", drop: "mid-body" },
        { media: "webm", stallBodyMs: 10, padBytes: 1024 },
        { media: "html", headers: { "content-type": "image/png" } },
      ]),
    );
    assert.equal(ok.routes["GET /media/x"]?.length, 3);
  });

  it("knows the media placeholders", () => {
    const body = { url: "{{mediaOrigin}}/media/a.png", b64: "{{imageB64}}", id: "{{taskId}}" };
    const scenario = { name: "x", description: "x", routes: { "GET /v1/video/tasks/{id}": [{ body }] } };
    assert.deepEqual(parseScenario(scenario).routes["GET /v1/video/tasks/{id}"]?.[0]?.body, body);
    assert.ok(PLACEHOLDERS.includes("mediaOrigin") && PLACEHOLDERS.includes("imageB64"));
    assert.ok(PLACEHOLDERS.includes("taskId"));
  });
});
