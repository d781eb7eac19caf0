// The life of a key-page link over real HTTP: a key accepted (and the link spent), refused keys shown the form
// again, the link burnt after maxAttempts, expired by the clock or by its timer, closed; where the key was kept
// with and without a keychain; and the server not holding a process open. TokenHub is the simulator; the key's
// places are a stand-in (fixture.ts), so nothing touches the real keychain or HOME.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { findLeaks, inspected } from "../helpers/leak-scan.ts";
import {
  BAD,
  createTranscript,
  formPost,
  GOOD,
  KEY_FILE,
  type Opened,
  openTestPage,
  type TestPageOptions,
} from "./fixture.ts";

describe("a key-page link from open to settled", () => {
  let sim: Simulator;
  const transcript = createTranscript();
  const pages: Opened[] = [];
  const open = async (options: TestPageOptions = {}) => {
    const opened = await openTestPage(sim, options);
    pages.push(opened);
    return opened;
  };
  const post = (opened: Opened, fields: Record<string, string>) =>
    transcript.send(opened.page.url, formPost(opened.origin, fields));

  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
  });
  beforeEach(() => {
    sim.useScenario("happy");
    sim.reset();
  });
  afterEach(async () => {
    for (const opened of pages.splice(0)) {
      await opened.close();
      const channels = [
        ...transcript.channels,
        ["log", opened.lines.join("\n")] as const,
        ["page object", inspected(opened.page)] as const,
        ["outcome", inspected(await opened.page.outcome)] as const,
      ];
      assert.deepEqual(findLeaks([GOOD, BAD], channels), [], "no key in any answer, log line or object");
      assert.ok(!opened.lines.join("\n").includes(opened.path.slice(1)), "the token is in no log line");
    }
  });
  after(() => sim.close());

  it("takes a good key once: keychain, the words for it, then 'already used' (410) for the same link", async () => {
    const opened = await open();
    const accepted = await post(opened, { key: GOOD });
    assert.equal(accepted.status, 200);
    assert.match(accepted.body, /<h1>Key accepted<\/h1>/);
    assert.match(accepted.body, /kept in your OS keychain/);
    assert.match(accepted.body, /Return to your agent or terminal: the setup continues by itself/);
    assert.deepEqual(await opened.page.outcome, { status: "accepted", kept: "keychain", hint: "sk-…5f68" });
    assert.deepEqual(opened.stored, [{ in: "keychain", raw: GOOD }]);
    for (const again of [await transcript.send(opened.page.url), await post(opened, { key: GOOD })]) {
      assert.equal(again.status, 410);
      assert.match(again.body, /This link was already used/);
      assert.doesNotMatch(again.body, /<form/);
    }
    assert.equal(opened.stored.length, 1, "a reused link stores nothing");
    assert.equal(sim.requests.length, 1, "and probes nothing");
    const events = opened.events();
    assert.ok(events.some((e) => e.msg === "key accepted" && e.kept === "keychain"));
    assert.ok(events.some((e) => e.msg === "key page settled" && e.outcome === "accepted"));
  });

  it("shows a rejected key's problem tied to the field, with the form again and no key in it", async () => {
    const opened = await open();
    const refused = await post(opened, { key: BAD });
    assert.equal(refused.status, 422);
    assert.match(refused.body, /TokenHub rejected this key \(HTTP 401\); it was not stored\./);
    assert.match(refused.body, /<div class="problem" id="key-problem" role="alert">/);
    assert.match(refused.body, /aria-invalid="true" aria-describedby="key-problem key-help"/);
    assert.match(refused.body, /4 more tries with this link/);
    assert.doesNotMatch(refused.body, /value=/, "the field is never filled in");
    assert.deepEqual(opened.stored, []);
    const what = await post(opened, { key: "not a key" });
    assert.equal(what.status, 422);
    assert.match(what.body, /The key you entered/);
    assert.equal(sim.requests.length, 1, "what cannot be a key is not sent to TokenHub");
    assert.equal((await post(opened, { key: GOOD })).status, 200, "the link still takes a good key");
    assert.equal((await opened.page.outcome).status, "accepted");
  });

  it("says so when TokenHub gives no verdict (503), and keeps nothing", async () => {
    sim.useScenario("server-503-always");
    const opened = await open();
    const answer = await post(opened, { key: GOOD });
    assert.equal(answer.status, 503);
    assert.match(answer.body, /TokenHub could not check the key just now/);
    assert.match(answer.body, /<form/);
    assert.deepEqual(opened.stored, []);
  });

  it("burns the link after maxAttempts failed keys: 410 from then on, a good key included", async () => {
    const opened = await open({ maxAttempts: 3 });
    assert.equal((await post(opened, { key: BAD })).status, 422);
    assert.equal((await post(opened, { key: BAD })).status, 422);
    const last = await post(opened, { key: BAD });
    assert.equal(last.status, 410);
    assert.match(last.body, /This link can no longer be used/);
    assert.match(last.body, /TokenHub rejected this key/);
    assert.deepEqual(await opened.page.outcome, { status: "exhausted" });
    assert.equal((await post(opened, { key: GOOD })).status, 410);
    assert.equal((await transcript.send(opened.page.url)).status, 410);
    assert.deepEqual(opened.stored, []);
    assert.equal(sim.requests.length, 3);
  });

  it("expires by the clock: minutes shown, then 'expired, ask for a new link' (410), nothing kept", async () => {
    let clock = 1_000_000;
    const opened = await open({ now: () => clock, expiresInMs: 5 * 60_000 });
    assert.equal(opened.page.expiresAt, 1_000_000 + 5 * 60_000);
    assert.match((await transcript.send(opened.page.url)).body, /expires in 5 minutes/);
    clock = opened.page.expiresAt - 61_000;
    assert.match((await transcript.send(opened.page.url)).body, /expires in 2 minutes/);
    clock = opened.page.expiresAt;
    const expired = await transcript.send(opened.page.url);
    assert.equal(expired.status, 410);
    assert.match(expired.body, /This link has expired/);
    assert.match(expired.body, /Ask your agent \(or run the setup again\) for a new link/);
    assert.deepEqual(await opened.page.outcome, { status: "expired" });
    assert.equal((await post(opened, { key: GOOD })).status, 410);
    assert.deepEqual(opened.stored, []);
    assert.equal(sim.requests.length, 0);
    assert.ok(opened.events().some((e) => e.msg === "key page settled" && e.outcome === "expired"));
  });

  it("expires by its timer with nobody asking", async () => {
    const opened = await open({ expiresInMs: 80 });
    const started = Date.now();
    assert.deepEqual(await opened.page.outcome, { status: "expired" });
    assert.ok(Date.now() - started >= 70);
  });

  it("does not expire under a key being checked: one accepted after the deadline was entered in time", async () => {
    let clock = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const opened = await open({
      now: () => clock,
      expiresInMs: 1000,
      wrapEntry: (entry) => ({
        ...entry,
        submit: async (raw, o) => {
          await gate;
          return await entry.submit(raw, o);
        },
      }),
    });
    const pending = post(opened, { key: GOOD });
    await new Promise((r) => setTimeout(r, 50));
    clock = 5000;
    // A second submission meanwhile is told to wait (409), and is not counted as a try.
    const second = await post(opened, { key: GOOD });
    assert.equal(second.status, 409);
    release();
    assert.equal((await pending).status, 200);
    assert.equal((await opened.page.outcome).status, "accepted");
    assert.equal(opened.stored.length, 1);
  });

  it("a sender gone mid-body leaves the link open for the next submission (not stuck 'checking')", async () => {
    const opened = await open();
    const socket = connect(opened.port, "127.0.0.1");
    await once(socket, "connect");
    socket.write(
      `POST ${opened.path} HTTP/1.1\r\nHost: 127.0.0.1:${opened.port}\r\nOrigin: ${opened.origin}\r\n` +
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nkey=sk-",
    );
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await post(opened, { key: GOOD })).status, 200);
    assert.ok(opened.events().some((e) => e.reason === "abandoned"));
  });

  it("with no keychain: offers the file (named, explained), and keeps the key there only when ticked", async () => {
    const form = await open({ keychain: "missing" });
    const page = await transcript.send(form.page.url);
    assert.match(page.body, /<legend>No OS keychain works here<\/legend>/);
    assert.match(page.body, /type="checkbox" id="insecure-file" name="insecureFile" value="yes"/);
    assert.match(page.body, /<label for="insecure-file">Keep the key in a plain file readable only by you/);
    assert.ok(page.body.includes(KEY_FILE));
    const inFile = await post(form, { key: GOOD, insecureFile: "yes" });
    assert.match(inFile.body, /kept in a plain file readable only by you/);
    assert.deepEqual(await form.page.outcome, { status: "accepted", kept: "file", hint: "sk-…5f68" });
    assert.deepEqual(form.stored, [{ in: "file", raw: GOOD }]);

    const memory = await open({ keychain: "missing" });
    const held = await post(memory, { key: GOOD });
    assert.match(held.body, /kept in this process only until it stops/);
    assert.match(held.body, /Install and unlock gnome-keyring/, "with the keychain problem's remedy");
    assert.equal((await memory.page.outcome).status, "accepted");
    assert.equal(memory.entry.held(), GOOD);
    assert.deepEqual(memory.stored, []);
  });

  it("with a keychain: no file offered, and a forged tick does not put the key in a file", async () => {
    const opened = await open({ keychain: "works" });
    assert.doesNotMatch((await transcript.send(opened.page.url)).body, /checkbox|plain file/);
    await post(opened, { key: GOOD, insecureFile: "yes" });
    assert.deepEqual(opened.stored, [{ in: "keychain", raw: GOOD }]);
  });

  it("close(): outcome 'closed', idempotent, the port shut, a check in flight aborted", async () => {
    let signal: AbortSignal | undefined;
    const opened = await open({
      wrapEntry: (entry) => ({
        ...entry,
        submit: (_raw, o) => {
          signal = o?.signal;
          return new Promise(() => {});
        },
      }),
    });
    const pending = post(opened, { key: GOOD }).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([opened.page.close(), opened.page.close()]);
    await opened.page.close();
    assert.deepEqual(await opened.page.outcome, { status: "closed" });
    assert.equal(signal?.aborted, true);
    assert.ok((await pending) instanceof Error, "the connection in flight was closed");
    await assert.rejects(request(opened.page.url), /ECONNREFUSED/);
  });
});

describe("the key page and the process it runs in", () => {
  const face = fileURLToPath(new URL("../../src/key-page/index.ts", import.meta.url));
  /** Runs a script with a stand-in entry in a child process; how long it took to exit on its own. */
  const exitTime = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const script = `
        import { openKeyPage } from ${JSON.stringify(face)};
        const entry = { keychainProblem: async () => undefined, submit: async () => ({ ok: false }),
          held: () => undefined, close: async () => {} };
        ${body}`;
      const started = Date.now();
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
      const timer = setTimeout(() => child.kill(), 10_000);
      child.on("error", reject);
      child.on("exit", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(Date.now() - started);
        else reject(new Error(`the child exited with ${code} (killed after 10 s if it hung)`));
      });
    });

  it("holds the process while the link is open, lets it go once settled, and after close()", async () => {
    const baseline = await exitTime("");
    const untilExpiry = await exitTime(
      "const page = await openKeyPage({ entry, consoleUrl: 'https://x', expiresInMs: 1500 });",
    );
    assert.ok(
      untilExpiry >= baseline + 1200,
      `kept alive until expiry (${untilExpiry} ms vs ${baseline} ms)`,
    );
    assert.ok(untilExpiry < baseline + 4000, `and let go after it (${untilExpiry} ms)`);
    const closed = await exitTime(
      "const page = await openKeyPage({ entry, consoleUrl: 'https://x' }); await fetch(page.url); await page.close();",
    );
    assert.ok(closed < baseline + 1500, `exits right after close() (${closed} ms vs ${baseline} ms)`);
  });
});
