// The guided flow as a person meets it: a real pseudo-terminal (tmux), keys typed with send-keys, the screen
// read with capture-pane. Skipped, with the reason, where tmux is not installed (.ci/run installs it).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { cliArgv, readFakeKeychain } from "../helpers/cli.ts";

const GOOD = "sk-typed-good-5d0c2e81a7";
const BAD = "sk-typed-bad-99ab17f3c0";

const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** An SGR sequence (ESC [ ... m): colour or another text attribute as the terminal was told to draw it. */
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);

describe("interactive setup in a pseudo-terminal", {
  skip: hasTmux ? false : "tmux is not installed",
}, () => {
  let dir: string;
  let sim: Simulator;
  const socket = `tokenhub-test-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  const screen = (name: string) => tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", name);
  const waitFor = async (name: string, pattern: RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = screen(name);
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) assert.fail(`screen never showed ${pattern}:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const start = (
    name: string,
    home: string,
    args: string[] = ["--base-url", sim.baseUrl],
    env: Record<string, string> = {},
  ) => {
    // env -i: no TOKENHUB_API_KEY (unless given), no D-Bus session, a fresh HOME and state, and keytar faked
    // (test/helpers/fake-keytar.ts: no keychain answers unless env names TOKENHUB_TEST_KEYCHAIN).
    const command = [
      "env -i",
      ...Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
      `PATH=${JSON.stringify(process.env.PATH ?? "")}`,
      `HOME=${home}`,
      `XDG_CONFIG_HOME=${join(home, "config")}`,
      `XDG_STATE_HOME=${join(home, "state")}`,
      `XDG_CACHE_HOME=${join(home, "cache")}`,
      "TERM=xterm-256color",
      JSON.stringify(process.execPath),
      ...cliArgv(args).map((arg) => JSON.stringify(arg)),
      "; echo EXIT=$?; sleep 60",
    ].join(" ");
    tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "50", command);
  };
  const type = (name: string, text: string) => tmux("send-keys", "-t", name, "-l", text);
  const press = (name: string, key: string) => tmux("send-keys", "-t", name, key);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-tty-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
  });
  after(async () => {
    try {
      tmux("kill-server");
    } catch {}
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("asks for the key with hidden input, says why the keychain is unavailable, and completes", async () => {
    const home = join(dir, "a");
    start("a", home);
    await waitFor("a", /Paste your TokenHub API key/);
    const asked = screen("a");
    assert.match(asked, /API Keys/, "it says where to create a key");
    type("a", GOOD);
    const typed = await waitFor("a", /▪{10,}/);
    assert.ok(!typed.includes(GOOD), "the typed key is not echoed");
    press("a", "Enter");
    const done = await waitFor("a", /EXIT=\d+/);
    // No keychain answers: a plain sentence about why, and no offer to remember the key.
    assert.match(done, /OS keychain unavailable: no Secret Service/);
    assert.doesNotMatch(done, /Remember this key/);
    assert.match(done, /Integration complete/);
    assert.match(done, /EXIT=0/);
    assert.ok(!done.includes(GOOD), "the key is nowhere on the screen");
    const record = await readFile(join(home, "state", "tokenhub-setup", "status.json"), "utf8");
    assert.match(record, /"integration_status": "success"/);
    assert.ok(!record.includes(GOOD));
    assert.equal(sim.requests.at(-1)?.authorization, "present");
  });

  it("where a keychain answers, offers to remember the key and stores it once TokenHub accepts it", async () => {
    const home = join(dir, "remember");
    const keychain = join(dir, "remember-keychain.json");
    start("remember", home, ["--base-url", sim.baseUrl], { TOKENHUB_TEST_KEYCHAIN: keychain });
    await waitFor("remember", /Paste your TokenHub API key/);
    type("remember", GOOD);
    await waitFor("remember", /▪{10,}/);
    press("remember", "Enter");
    await waitFor("remember", /Remember this key in the OS keychain/);
    press("remember", "Enter");
    const done = await waitFor("remember", /EXIT=\d+/);
    assert.match(done, /EXIT=0/);
    assert.doesNotMatch(done, /OS keychain unavailable/);
    assert.ok(!done.includes(GOOD), "the key is nowhere on the screen");
    assert.deepEqual(readFakeKeychain(keychain), { "tokenhub-setup": { TOKENHUB_API_KEY: GOOD } });
  });

  it("asks again after TokenHub rejects the key, then completes", async () => {
    start("b", join(dir, "b"));
    await waitFor("b", /Paste your TokenHub API key/);
    type("b", BAD);
    press("b", "Enter");
    // Which key, in the person's words, with a masked hint: never "from the host", never the key.
    const rejected = await waitFor("b", /rejected the key you entered \(sk-…\w{4}\) \(HTTP 401\)/);
    assert.doesNotMatch(rejected, /from the host|say the key is ready|conversation/);
    await waitFor("b", /◆\s+Paste your TokenHub API key/);
    type("b", GOOD);
    press("b", "Enter");
    const done = await waitFor("b", /EXIT=\d+/);
    assert.match(done, /EXIT=0/);
    assert.ok(!done.includes(GOOD) && !done.includes(BAD));
  });

  it("Ctrl-C at the prompt cancels cleanly: exit 130, nothing written", async () => {
    const home = join(dir, "c");
    start("c", home);
    await waitFor("c", /Paste your TokenHub API key/);
    press("c", "C-c");
    const done = await waitFor("c", /EXIT=\d+/);
    assert.match(done, /EXIT=130/);
    assert.match(done, /Cancelled/);
    await assert.rejects(stat(join(home, "state", "tokenhub-setup", "status.json")), { code: "ENOENT" });
  });

  // The spinner used to take stdin into raw mode and exit 0 on Ctrl-C: `tokenhub-setup && deploy` carried on,
  // and a verified integration interrupted during its video check was never recorded.
  it("Ctrl-C while the spinner waits out a backoff: exit 130, said on screen, and recorded", async () => {
    const home = join(dir, "d");
    const file = join(home, "backoff.json");
    start("d", home, ["--simulate", "--scenario", "server-503-always", "--status-file", file]);
    await waitFor("d", /attempt 2|Waiting|retry/i);
    press("d", "C-c");
    const done = await waitFor("d", /EXIT=\d+/);
    assert.match(done, /EXIT=130/);
    assert.match(done, /Cancelled: interrupted \(Ctrl-C\)/);
    // The record tells the last verification: this one was cancelled (issue 11, item 2).
    const record = JSON.parse(await readFile(file, "utf8")) as {
      integration_status: string;
      failure?: { code: string };
    };
    assert.equal(record.integration_status, "failed");
    assert.equal(record.failure?.code, "cancelled");
  });

  it("--no-color: no colour codes anywhere, prompts included; a failure ends with a closing line", async () => {
    const home = join(dir, "f");
    start("f", home, ["--simulate", "--scenario", "server-503-always", "--no-color"]);
    await waitFor("f", /EXIT=\d+/, 30_000);
    // -e keeps the escape sequences the screen was drawn with: a colour would show as ESC [ ... m.
    const drawn = tmux("capture-pane", "-p", "-e", "-J", "-S", "-200", "-t", "f");
    assert.doesNotMatch(drawn, COLOUR, JSON.stringify(drawn.slice(0, 400)));
    assert.match(drawn, /EXIT=5/);
    assert.match(drawn, /Not verified\. `npx tokenhub-setup status` shows the record\./);
  });

  it("with colour, the same run is coloured (the check above can fail)", async () => {
    const home = join(dir, "g");
    start("g", home, ["--simulate", "--scenario", "server-503-always"]);
    await waitFor("g", /EXIT=\d+/, 30_000);
    const drawn = tmux("capture-pane", "-p", "-e", "-J", "-S", "-200", "-t", "g");
    assert.match(drawn, COLOUR);
  });

  it("status --check on a terminal: each source, the one used (masked), TokenHub's verdict; no key on screen", async () => {
    const home = join(dir, "h");
    start("h", home, ["status", "--check", "--base-url", sim.baseUrl], { TOKENHUB_API_KEY: GOOD });
    const done = await waitFor("h", /EXIT=\d+/);
    assert.match(done, /EXIT=0/);
    assert.match(done, new RegExp(`TOKENHUB_API_KEY +key sk-…${GOOD.slice(-4)} +<- used`));
    assert.match(done, /the OS keychain +cannot be read: OS keychain unavailable/);
    assert.match(done, /the key file +no key/);
    assert.match(done, /TokenHub accepted it/);
    assert.ok(!done.includes(GOOD));
  });

  it("Ctrl-C while a video renders: exit 130, and the verified integration is recorded", async () => {
    const home = join(dir, "e");
    const file = join(home, "vid.json");
    start("e", home, ["--simulate", "--multimodal", "video", "--poll-interval", "30", "--status-file", file]);
    // A long wait says how long it has run and when it gives up (issue 11, item 8).
    await waitFor("e", /next poll in 30\.0 s \(\d+s so far; gives up after 10m 0s\)/);
    press("e", "C-c");
    const done = await waitFor("e", /EXIT=\d+/);
    assert.match(done, /EXIT=130/);
    const record = JSON.parse(await readFile(file, "utf8")) as {
      integration_status: string;
      multimodal?: { video?: { status: string } };
    };
    assert.equal(record.integration_status, "success");
    assert.equal(record.multimodal?.video?.status, "cancelled");
  });
});
