// The record tells the last verification (issue 11, item 2): a 401 or a cancel mid-check replaces an older
// success with a failed record, and keeps that success inside it as `last_success`, so nothing is lost. Real
// sessions, the simulator, and one file store shared by the runs, as a person's repeated runs share it.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { renderNotification } from "../../src/cli/render.ts";
import { silentLogger } from "../../src/log.ts";
import { withLastSuccess } from "../../src/machine/record.ts";
import type { Notification } from "../../src/schema/host.ts";
import { createSession } from "../../src/session/session.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { createFileStatusStore, type StatusStore } from "../../src/status/store.ts";

const GOOD = "sk-good-lastverif-4b1d9e07";
const BAD = "sk-bad-lastverif-8c2e5a13";

async function run(store: StatusStore, scenario: string, key: string, cancelOnRequest = false) {
  const sim = await startSimulator({ scenario, acceptKeys: [GOOD] });
  const session = createSession({
    config: { baseUrl: sim.baseUrl },
    sources: { env: { TOKENHUB_API_KEY: key }, keychain: false },
    store,
    logger: silentLogger(),
  });
  try {
    session.send({ type: "SETUP" });
    if (cancelOnRequest) {
      while (sim.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      session.send({ type: "CANCEL", reason: "interrupted (Ctrl-C)" });
    }
    return await session.untilRest();
  } finally {
    await session.stop();
    await sim.close();
  }
}

describe("the record tells the last verification", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-lastverif-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a 401 after a success: failed record, the success kept as last_success; a cancel then carries it on", async () => {
    const store = createFileStatusStore(join(dir, "status.json"));
    assert.equal(await run(store, "happy", GOOD), "complete");
    const success = await store.read();
    assert.equal(success?.integration_status, "success");

    assert.equal(await run(store, "happy", BAD), "awaitingKey");
    const rejected = await store.read();
    assert.equal(rejected?.integration_status, "failed");
    assert.equal(rejected?.failure?.code, "key_rejected");
    assert.match(rejected?.failure?.message ?? "", /TOKENHUB_API_KEY \(sk-…5a13\)/);
    assert.deepEqual(rejected?.last_success, success);
    assert.ok(!JSON.stringify(rejected).includes(BAD), "the record holds no key");

    assert.equal(await run(store, "slow-headers", GOOD, true), "cancelled");
    const cancelled = await store.read();
    assert.equal(cancelled?.failure?.code, "cancelled");
    // Not the 401's record: the success before it, carried on.
    assert.deepEqual(cancelled?.last_success, success);

    assert.equal(await run(store, "happy", GOOD), "complete");
    const again = await store.read();
    assert.equal(again?.integration_status, "success");
    assert.equal(again?.last_success, undefined, "a success stands on its own");
  });

  it("after a 401 the needKey names the rejected key's source and hint, and the other key a person can switch to", async () => {
    const sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    // The keychain's contract in memory: the real Secret Service is exercised in test/keychain.
    const keychain = {
      get: async () => GOOD,
      set: async () => {},
      delete: async () => false,
    };
    const notifications: Notification[] = [];
    const session = createSession({
      config: { baseUrl: sim.baseUrl },
      sources: { env: { TOKENHUB_API_KEY: BAD }, keychain },
      store: createFileStatusStore(join(dir, "other.json")),
      logger: silentLogger(),
    });
    session.subscribe((n) => notifications.push(n));
    try {
      session.send({ type: "SETUP" });
      assert.equal(await session.untilRest(), "awaitingKey");
      const needKey = notifications.find((n) => n.type === "needKey");
      assert.ok(needKey?.type === "needKey");
      assert.deepEqual(needKey.rejectedKey, { source: "env", hint: "sk-…5a13" });
      assert.deepEqual(needKey.otherKeys, [{ source: "keychain", hint: "sk-…9e07" }]);
      assert.match(needKey.message, /unset TOKENHUB_API_KEY to use it/);
      // The CLI says it in its own words, from the same facts.
      const text = renderNotification(needKey);
      assert.match(text, /rejected the key in TOKENHUB_API_KEY \(sk-…5a13\)/);
      assert.match(
        text,
        /The key in the OS keychain \(sk-…9e07\) is a different key: unset TOKENHUB_API_KEY/,
      );
      assert.match(text, /not read while TOKENHUB_API_KEY is set/);
      for (const key of [GOOD, BAD]) assert.ok(!JSON.stringify(notifications).includes(key));
    } finally {
      await session.stop();
      await sim.close();
    }
  });

  it("withLastSuccess keeps a success, carries one on, and leaves a success and a first failure alone", () => {
    const success = { integration_status: "success", validated_at: "2026-01-01T00:00:00.000Z" } as never;
    const failed = { integration_status: "failed", validated_at: null } as never;
    assert.equal(withLastSuccess(success, failed), success);
    assert.equal(withLastSuccess(failed, undefined), failed);
    assert.deepEqual(withLastSuccess(failed, success), { ...(failed as object), last_success: success });
    const chained = withLastSuccess(failed, { ...(failed as object), last_success: success } as never);
    assert.deepEqual(chained.last_success, success);
  });
});
