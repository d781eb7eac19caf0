// Reversible config edits (what wiring writes into OpenClaw's config): undoing gives back the config as it was,
// byte for byte as JSON, for generated configs and paths; fast-check prints its seed when a case fails.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { applyEdit, mergeEdits, revertEdit, valueAt } from "../../src/openclaw/config-edits.ts";

const key = fc.constantFrom(
  "agents",
  "defaults",
  "model",
  "primary",
  "models",
  "auth",
  "profiles",
  "x",
  "a/b",
);
const json = fc.jsonValue({ maxDepth: 3 });
const config = fc.dictionary(
  key,
  fc.oneof(json, fc.dictionary(key, fc.oneof(json, fc.dictionary(key, json)))),
  {
    maxKeys: 4,
  },
);
const path = fc.array(key, { minLength: 1, maxLength: 4 });

describe("config edits", () => {
  it("apply then revert gives back the config, whatever was there (generated)", () => {
    fc.assert(
      fc.property(config, fc.array(fc.tuple(path, json), { minLength: 1, maxLength: 3 }), (cfg, writes) => {
        const draft = structuredClone(cfg);
        const edits = writes.flatMap(([p, v]) => applyEdit(draft, p, v) ?? []);
        for (const edit of [...edits].reverse()) assert.ok(revertEdit(draft, edit), edit.path.join("."));
        assert.equal(JSON.stringify(draft), JSON.stringify(cfg));
      }),
    );
  });

  it("sets the value, creating parents, and removes only the parents it created", () => {
    const draft: Record<string, unknown> = { agents: { list: [1] } };
    const edit = applyEdit(draft, ["agents", "defaults", "model", "primary"], "tokenhub/m");
    assert.equal(valueAt(draft, ["agents", "defaults", "model", "primary"]), "tokenhub/m");
    assert.equal(edit?.created, 1);
    assert.ok(edit && revertEdit(draft, edit));
    assert.deepEqual(draft, { agents: { list: [1] } });
  });

  it("refuses to write through a value that is not an object", () => {
    const draft: Record<string, unknown> = { agents: { defaults: { model: "mock/m" } } };
    assert.equal(applyEdit(draft, ["agents", "defaults", "model", "primary"], "tokenhub/m"), null);
    assert.deepEqual(draft, { agents: { defaults: { model: "mock/m" } } });
  });

  it("leaves a value the user changed since, and keeps what they added beside ours", () => {
    const draft: Record<string, unknown> = {};
    const edit = applyEdit(draft, ["agents", "defaults", "model", "primary"], "tokenhub/m");
    assert.ok(edit);
    (draft.agents as { defaults: { model: { primary: string } } }).defaults.model.primary = "other/x";
    assert.equal(revertEdit(draft, edit), false);
    assert.equal(valueAt(draft, ["agents", "defaults", "model", "primary"]), "other/x");

    const second: Record<string, unknown> = {};
    const mine = applyEdit(second, ["auth", "profiles", "tokenhub:default"], { provider: "tokenhub" });
    (second.auth as { profiles: Record<string, unknown> }).profiles["openai:x"] = { provider: "openai" };
    assert.ok(mine && revertEdit(second, mine));
    assert.deepEqual(second, { auth: { profiles: { "openai:x": { provider: "openai" } } } });
  });

  it("a second edit of a path keeps the first one's 'before'", () => {
    const draft: Record<string, unknown> = { m: "old" };
    const first = applyEdit(draft, ["m"], "t/1");
    const second = applyEdit(draft, ["m"], "t/2");
    assert.ok(first && second);
    const merged = mergeEdits([first], [second]);
    assert.equal(merged.length, 1);
    assert.ok(revertEdit(draft, merged[0] as NonNullable<typeof first>));
    assert.deepEqual(draft, { m: "old" });
  });
});
