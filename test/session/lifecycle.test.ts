import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, EventError, SnapshotError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { MACHINE_VERSION } from "../../src/machine/chart.ts";
import type { Notification } from "../../src/schema/host.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { createSession } from "../../src/session/session.ts";
import { openEnvelope } from "../../src/session/snapshot.ts";
import { runTurn } from "../../src/session/turn.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { createFileStatusStore, createMemoryStatusStore } from "../../src/status/store.ts";
import { createTurnProcess } from "../helpers/turn-process.ts";

const GOOD = "sk-good-lifecycle-5f2c9a";
const BAD = "sk-bad-lifecycle-77e1d0";

describe("session lifecycle", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-lifecycle-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("after a 401, accepts a new key handed over in KEY_PROVIDED and completes", async () => {
    const sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    const store = createMemoryStatusStore();
    const session = createSession({
      config: { baseUrl: sim.baseUrl },
      sources: { env: { TOKENHUB_API_KEY: BAD }, keychain: false },
      store,
      logger: silentLogger(),
    });
    const seen: Notification[] = [];
    session.subscribe((n) => seen.push(n));
    try {
      session.send({ type: "SETUP" });
      assert.equal(await session.untilRest(), "awaitingKey");
      assert.equal(sim.requests.length, 1);
      // KEY_READY re-reads the sources: the env still has the rejected key, so no second request is made.
      session.send({ type: "KEY_READY" });
      assert.equal(await session.untilRest(), "awaitingKey");
      assert.equal(sim.requests.length, 1, "a rejected key is not sent again");
      const again = seen.filter((n) => n.type === "needKey").at(-1);
      assert.ok(again?.type === "needKey" && again.reason === "rejected");
      session.send({ type: "KEY_PROVIDED", key: `  ${GOOD}\n` });
      assert.equal(await session.untilRest(), "complete");
      assert.equal(sim.requests.length, 2);
      assert.equal(store.records.at(-1)?.result.key_source, "event");
    } finally {
      await session.stop();
      await sim.close();
    }
  });

  it("remembers a handed-over key in the keychain only after it validated, and says so in the record", async () => {
    const sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    const stored: string[] = [];
    const keychain = {
      get: async () => undefined,
      set: async (value: string) => void stored.push(value),
      delete: async () => true,
    };
    const failing = { ...keychain, set: async () => Promise.reject(new Error("locked collection")) };
    try {
      for (const [chain, expectNote] of [
        [keychain, /stored in the OS keychain/],
        [failing, /not stored/],
      ] as const) {
        const store = createMemoryStatusStore();
        const session = createSession({
          config: { baseUrl: sim.baseUrl },
          sources: { env: {}, keychain: chain },
          store,
          logger: silentLogger(),
        });
        session.send({ type: "SETUP" });
        assert.equal(await session.untilRest(), "awaitingKey");
        session.send({ type: "KEY_PROVIDED", key: GOOD, remember: true });
        assert.equal(await session.untilRest(), "complete");
        assert.match(store.records.at(-1)?.notes ?? "", expectNote);
        await session.stop();
      }
      assert.deepEqual(stored, [GOOD]);

      // A rejected key is never stored.
      const store = createMemoryStatusStore();
      const session = createSession({
        config: { baseUrl: sim.baseUrl },
        sources: { env: {}, keychain },
        store,
        logger: silentLogger(),
      });
      session.send({ type: "KEY_PROVIDED", key: BAD, remember: true });
      assert.equal(await session.untilRest(), "awaitingKey");
      await session.stop();
      assert.deepEqual(stored, [GOOD]);
    } finally {
      await sim.close();
    }
  });

  it("answers a malformed handed-over key with needKey and stays put", async () => {
    const session = createSession({
      config: { baseUrl: "http://127.0.0.1:9/v1" },
      sources: { env: {}, keychain: false },
      store: createMemoryStatusStore(),
      logger: silentLogger(),
    });
    const seen: Notification[] = [];
    session.subscribe((n) => seen.push(n));
    session.send({ type: "SETUP" });
    assert.equal(await session.untilRest(), "awaitingKey");
    session.send({ type: "KEY_PROVIDED", key: "sk-has space-inside" });
    assert.equal(session.state, "awaitingKey");
    const last = seen.at(-1);
    assert.ok(last?.type === "needKey");
    assert.match(last.message, /whitespace inside/);
    assert.doesNotMatch(JSON.stringify(seen), /has space/);
    await session.stop();
  });

  it("refuses events that are not in the contract", () => {
    const session = createSession({ sources: { env: {}, keychain: false }, logger: silentLogger() });
    assert.throws(() => session.send({ type: "LAUNCH" } as never), EventError);
    assert.throws(() => session.send({ type: "KEY_PROVIDED", key: 42 } as never), EventError);
    void session.stop();
  });

  it("refuses an http: base URL that is not loopback before any request", () => {
    assert.throws(
      () =>
        createSession({
          config: { baseUrl: "http://tokenhub.link/v1" },
          sources: { env: {}, keychain: false },
        }),
      (err: unknown) => err instanceof ConfigError && err.code === "insecure_base_url",
    );
  });

  it("cancels mid-request: the request is aborted and the record says the check was cancelled", async () => {
    const sim = await startSimulator({ scenario: "slow-headers" });
    const store = createMemoryStatusStore();
    const session = createSession({
      config: { baseUrl: sim.baseUrl },
      sources: { env: { TOKENHUB_API_KEY: GOOD }, keychain: false },
      store,
      logger: silentLogger(),
    });
    try {
      session.send({ type: "SETUP" });
      while (sim.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(session.state, "requesting");
      const started = Date.now();
      session.send({ type: "CANCEL", reason: "user changed their mind" });
      const output = await session.done();
      assert.ok(Date.now() - started < 1000, "cancel does not wait for the slow response");
      assert.equal(output.status, "cancelled");
      assert.equal(output.status === "cancelled" && output.reason, "user changed their mind");
      assert.equal(store.records.length, 1);
      assert.equal(store.records[0]?.failure?.code, "cancelled");
      assert.match(store.records[0]?.failure?.message ?? "", /user changed their mind/);
      // The request itself was aborted (its connection closed), not merely left to finish unheard.
      for (const until = Date.now() + 3_000; !sim.requests[0]?.abandoned; ) {
        assert.ok(Date.now() < until, "the simulator saw the client go away");
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await session.stop();
      await sim.close();
    }
  });

  it("takes snapshots only at rest states", async () => {
    const sim = await startSimulator({ scenario: "slow-headers" });
    const session = createSession({
      config: { baseUrl: sim.baseUrl },
      sources: { env: { TOKENHUB_API_KEY: GOOD }, keychain: false },
      store: createMemoryStatusStore(),
      logger: silentLogger(),
    });
    try {
      session.send({ type: "SETUP" });
      while (sim.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      assert.throws(() => session.snapshot(), /cannot be taken in requesting/);
    } finally {
      await session.stop();
      await sim.close();
    }
  });

  it("keeps a backoff across persist and restore (absolute retry time)", async () => {
    const sim = await startSimulator({ scenario: "server-500-then-ok" });
    const clock = createVirtualClock();
    const common = {
      config: { baseUrl: sim.baseUrl },
      sources: { env: { TOKENHUB_API_KEY: GOOD }, keychain: false as const },
      store: createMemoryStatusStore(),
      logger: silentLogger(),
      clock,
    };
    try {
      const first = await runTurn({ ...common, event: { type: "SETUP" }, maxWaitMs: 0 });
      assert.equal(first.state, "backingOff");
      const retryAt = (first.snapshot.snapshot.context as { run: { retryAt: number } }).run.retryAt;
      assert.ok(retryAt > clock.now(), "the retry time is in the future");
      const text = JSON.stringify(first.snapshot);
      const second = await runTurn({ ...common, snapshot: text });
      assert.equal(second.state, "complete");
      assert.equal(sim.requests.length, 2);
      assert.ok(clock.now() >= retryAt, "the restored flow waited until the stored retry time");
      assert.equal(second.output?.status, "complete");
    } finally {
      await sim.close();
    }
  });

  it("says the key is lost when a handed-over key is gone after a restore", async () => {
    const sim = await startSimulator({ scenario: "server-500-then-ok" });
    const clock = createVirtualClock();
    const common = {
      config: { baseUrl: sim.baseUrl },
      sources: { env: {}, keychain: false as const },
      store: createMemoryStatusStore(),
      logger: silentLogger(),
      clock,
    };
    try {
      const first = await runTurn({ ...common, event: { type: "SETUP" } });
      assert.equal(first.state, "awaitingKey");
      const second = await runTurn({
        ...common,
        snapshot: first.snapshot,
        event: { type: "KEY_PROVIDED", key: GOOD },
        maxWaitMs: 0,
      });
      assert.equal(second.state, "backingOff");
      const third = await runTurn({ ...common, snapshot: second.snapshot });
      assert.equal(third.state, "awaitingKey");
      const needKey = third.notifications.find((n) => n.type === "needKey");
      assert.ok(needKey?.type === "needKey" && needKey.reason === "lost");
      assert.equal(sim.requests.length, 1);
    } finally {
      await sim.close();
    }
  });

  it("refuses foreign, other-version and corrupt snapshots with a clear error, and runTurn starts afresh", async () => {
    const good = (
      await runTurn({
        event: { type: "SETUP" },
        sources: { env: {}, keychain: false },
        logger: silentLogger(),
      })
    ).snapshot;
    assert.equal(good.state, "awaitingKey");
    const cases: Array<[unknown, string]> = [
      ["{not json", "snapshot_corrupt"],
      [{ hello: "world" }, "snapshot_foreign"],
      [{ ...good, machineVersion: "tokenhub-setup/0" }, "snapshot_version"],
      [
        { ...good, state: "requesting", snapshot: { ...good.snapshot, value: "requesting" } },
        "snapshot_corrupt",
      ],
      [
        {
          ...good,
          snapshot: {
            ...good.snapshot,
            context: {
              ...good.snapshot.context,
              run: { ...(good.snapshot.context.run as object), modelIndex: "x" },
            },
          },
        },
        "snapshot_corrupt",
      ],
      [null, "snapshot_foreign"],
    ];
    for (const [bad, code] of cases) {
      assert.throws(
        () => openEnvelope(bad),
        (err: unknown) =>
          err instanceof SnapshotError && err.code === code && /start the setup again/.test(err.remedy),
        `expected ${code}`,
      );
    }
    const turn = await runTurn({
      snapshot: { hello: "world" },
      event: { type: "SETUP" },
      sources: { env: {}, keychain: false },
      logger: silentLogger(),
    });
    assert.equal(turn.refusedSnapshot?.code, "snapshot_foreign");
    assert.equal(turn.state, "awaitingKey");
    assert.equal(turn.snapshot.machineVersion, MACHINE_VERSION);
  });

  it("resumes in a fresh process after the user supplies a key", async () => {
    const sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    const statusPath = join(dir, "resume-status.json");
    const { turn, snapshotPath } = await createTurnProcess({
      dir,
      baseUrl: sim.baseUrl,
      statusPath,
      logLevel: "silent",
    });
    try {
      const one = await turn({ type: "SETUP" });
      assert.equal(JSON.parse(one.stdout).state, "awaitingKey");
      // The user set the variable where the agent runs; a new process picks the flow up from the snapshot.
      const two = await turn({ type: "KEY_READY" }, { TOKENHUB_API_KEY: GOOD });
      const result = JSON.parse(two.stdout) as { state: string; notifications: Notification[] };
      assert.equal(result.state, "complete");
      assert.ok(result.notifications.some((n) => n.type === "completed"));
      const record = await createFileStatusStore(statusPath).read();
      assert.equal(record?.integration_status, "success");
      assert.doesNotMatch(await readFile(snapshotPath, "utf8"), new RegExp(GOOD));
    } finally {
      await sim.close();
    }
  });
});
