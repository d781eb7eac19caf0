// Issue 15, per process and not per session: what sessions of one host share, and that sharing it changes
// nothing a session sees.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withPreferences } from "../../src/machine/context.ts";
import { machineSettings, resolveConfig } from "../../src/session/session.ts";

describe("settings shared by the sessions of one config", () => {
  it("one frozen object per config and base URL; another base URL or config gets its own", () => {
    const config = resolveConfig({ baseUrl: "http://127.0.0.1:9/v1" });
    const a = machineSettings(config, config.baseUrl);
    assert.equal(machineSettings(config, config.baseUrl), a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.multimodal));
    const other = machineSettings(config, "http://127.0.0.1:10/v1");
    assert.notEqual(other, a);
    assert.equal(other.baseUrl, "http://127.0.0.1:10/v1");
    const streaming = resolveConfig({ baseUrl: "http://127.0.0.1:9/v1", stream: true });
    assert.equal(machineSettings(streaming, streaming.baseUrl).stream, true);
    assert.equal(machineSettings(config, config.baseUrl).stream, false);
  });

  it("a conversation's preferences make a new object and leave the shared one as it was", () => {
    const config = resolveConfig({ baseUrl: "http://127.0.0.1:9/v1" });
    const shared = machineSettings(config, config.baseUrl);
    const before = JSON.stringify(shared);
    assert.equal(withPreferences(shared, undefined), shared);
    assert.equal(
      withPreferences(shared, { modelChain: [...shared.modelChain], stream: shared.stream, multimodal: [] }),
      shared,
      "preferences equal to the settings change nothing",
    );
    const chosen = withPreferences(shared, { modelChain: ["glm-5"], multimodal: ["image"] });
    assert.notEqual(chosen, shared);
    assert.deepEqual(chosen.modelChain, ["glm-5"]);
    assert.deepEqual(chosen.multimodal.capabilities, ["image"]);
    assert.equal(withPreferences(shared, { stream: true }).stream, true);
    assert.equal(JSON.stringify(shared), before);
  });
});
