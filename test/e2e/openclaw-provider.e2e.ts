// TokenHub as a model provider on the real OpenClaw host (openclaw@2026.9.6), headless, all state in a temp
// folder, the simulator as TokenHub: `openclaw onboard --auth-choice tokenhub-api-key` and `openclaw models auth
// login --provider tokenhub` (in a real terminal) check the key before the host stores it and refuse a rejected
// one with nothing stored; the model the plugin's own setup verified is the default; an agent turn runs on
// tokenhub/<verified model> against the simulator; the key is found only where the host keeps it. Needs `npm
// run build` first (the host loads dist/) and tmux. Measured 415 s and 471 s on a 2-core machine shared with
// other jobs (each `openclaw` command 20-45 s, the agent turn ~75 s), hence the 15-minute limit.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { findLeaks } from "../helpers/leak-scan.ts";
import { createHost, ensureOpenClaw, type Host } from "./openclaw-host.ts";
import { filesUnder, sqliteTexts } from "./scan.ts";
import { authStoreRowsWith } from "./state-db.ts";
import { hasTmux, openTerminal } from "./terminal.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
// Made at run time: OpenClaw copies a linked plugin's folder (tests included), so a key written here would be
// found by any scan of its state.
const GOOD = `sk-prov-${randomBytes(12).toString("hex")}`;
const BAD = `sk-prov-${randomBytes(12).toString("hex")}`;
const VERIFIED = "alibaba/deepseek-v3.2";
interface HostConfig {
  auth?: { profiles?: Record<string, { mode?: string }> };
  agents?: { defaults?: { model?: { primary?: string } } };
}
interface AuthList {
  profiles?: Array<{ id?: string; provider?: string; type?: string }>;
}
const log = (line: string) => process.stderr.write(`[openclaw-provider e2e] ${line}\n`);
// Only the key's presence is compared, in the test; a message shows at most where it was found.
const chatRequests = (sim: Simulator) => sim.requests.filter((r) => r.path.endsWith("/chat/completions"));

const ONBOARD = [
  "onboard",
  "--non-interactive",
  "--accept-risk",
  "--skip-health",
  "--no-install-daemon",
  "--skip-channels",
  "--skip-search",
  "--skip-ui",
  "--skip-skills",
  "--skip-hooks",
  "--auth-choice",
  "tokenhub-api-key",
  "--secret-input-mode",
  "ref",
];

describe(`TokenHub as an OpenClaw provider (real host)`, { timeout: 15 * 60_000 }, () => {
  let bin: string;
  let host: Host;
  let sim: Simulator;
  let tmp: string;
  const started = Date.now();
  /** Everything the host printed to us, scanned for the key with its files. */
  const outputs: string[] = [];
  const config = async () => JSON.parse(await readFile(host.configPath, "utf8")) as HostConfig;
  const oc = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const done = await host.oc(args, env);
    outputs.push(done.stdout, done.stderr);
    return done;
  };
  const profiles = async () =>
    (await host.ocJson<AuthList>(["models", "auth", "list", "--provider", "tokenhub", "--json"])).profiles ??
    [];
  /**
   * `models auth login --provider tokenhub` in a terminal: the key typed at the host's masked prompt. Without a
   * TTY the host refuses ("models auth login requires an interactive TTY. In automation, use openclaw models auth
   * paste-token ..."); `onboard --non-interactive --auth-choice tokenhub-api-key` is the non-interactive way
   * into the same auth method.
   */
  const loginInTerminal = async (key: string, extraArgs: string[] = []) => {
    const term = openTerminal(bin, host, ["models", "auth", "login", "--provider", "tokenhub", ...extraArgs]);
    try {
      const t0 = Date.now();
      // Typed only once the prompt is drawn: keys typed earlier would be echoed by the terminal.
      await term.waitFor(/Enter your TokenHub API key/);
      term.typeLine(key);
      const exit = await term.exit();
      outputs.push(exit.screen);
      log(`models auth login in a terminal: ${Date.now() - t0} ms, exit ${exit.code}`);
      return exit;
    } finally {
      term.close();
    }
  };
  /** `openclaw args` with `input` on stdin; resolves with the exit code and stdout + stderr. */
  const ocWithInput = (args: string[], input: string) =>
    new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], {
        env: host.env,
        stdio: ["pipe", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, output }));
      child.stdin.end(input);
    });
  /** Every file under the temp folder, and every value in the host's sqlite databases, decompressed. */
  const places = async (): Promise<Array<[string, string]>> => {
    const out: Array<[string, string]> = [];
    const files = await filesUnder(tmp);
    for (const file of files) out.push([file, (await readFile(file)).toString("latin1")]);
    for (const file of files.filter((f) => f.endsWith(".sqlite"))) out.push(...sqliteTexts(file));
    out.push(["what the host printed", outputs.join("\n")]);
    return out;
  };

  before(async () => {
    bin = await ensureOpenClaw(log);
    tmp = await mkdtemp(join(tmpdir(), "tokenhub-openclaw-provider-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    // With TOKENHUB_API_KEY in its environment, OpenClaw takes the official Tencent Cloud provider plugin
    // (@openclaw/tencent-provider, whose "Tencent TokenHub" provider declares that variable in the host's bundled
    // official-external-provider catalog) for configured and tries to install it from npm after onboarding:
    // ~70 s here, failing on TLS. Nothing in our manifest can stop that (see the report); denying the plugin
    // can: onboard with a good key took 95 s without this, 24 s with it.
    host = await createHost(bin, tmp, { plugins: { deny: ["tencent"] } });
    const install = await oc(["plugins", "install", "-l", ROOT, "--force", "--accept-capabilities"]);
    log(`state in ${tmp}; plugins install: ${install.ms} ms`);
    await oc(["config", "set", "plugins.entries.tokenhub-setup.config.baseUrl", sim.baseUrl]);
  });

  after(async () => {
    await sim?.close();
    log(`provider e2e took ${Math.round((Date.now() - started) / 1000)} s`);
    if (!process.env.TOKENHUB_E2E_KEEP) await rm(tmp, { recursive: true, force: true });
  });

  it("lists the tokenhub provider on the plugin", async () => {
    const inspect = await host.ocJson<{ plugin?: { providerIds?: string[] } }>([
      "plugins",
      "inspect",
      "tokenhub-setup",
      "--runtime",
      "--json",
    ]);
    assert.deepEqual(inspect.plugin?.providerIds, ["tokenhub"], JSON.stringify(inspect).slice(0, 600));
  });

  it("onboard refuses a key TokenHub rejects (401) and stores nothing", async () => {
    sim.reset();
    const before = await readFile(host.configPath, "utf8");
    const failed = await host.oc(ONBOARD, { TOKENHUB_API_KEY: BAD }).then(
      (r) => ({ ok: true, text: `${r.stdout}\n${r.stderr}` }),
      (err: Error) => ({ ok: false, text: err.message }),
    );
    outputs.push(failed.text);
    log(`onboard with a rejected key: ${failed.text.slice(-600)}`);
    assert.equal(failed.ok, false);
    assert.match(failed.text, /TokenHub rejected this key \(HTTP 401\); nothing was stored/);
    assert.ok(!failed.text.includes(BAD), "the key is not echoed");
    assert.equal(chatRequests(sim).length, 1);
    const after = await config();
    assert.equal(after.auth?.profiles?.["tokenhub:default"], undefined, JSON.stringify(after.auth));
    assert.equal(JSON.stringify(after).includes("tokenhub/"), false, `no default model: ${before.length}`);
  });

  const tty = { skip: hasTmux() ? false : "tmux is not installed" };

  it("models auth login (in a terminal) refuses a key TokenHub rejects and stores nothing", tty, async () => {
    sim.reset();
    const exit = await loginInTerminal(BAD);
    assert.equal(exit.code, 1, exit.screen.slice(-800));
    assert.match(exit.screen, /TokenHub rejected this key \(HTTP 401\); nothing was stored/);
    assert.ok(!exit.screen.includes(BAD), "the prompt masks the key and the refusal does not echo it");
    assert.equal(chatRequests(sim).length, 1, "checked once");
    assert.deepEqual(await profiles(), [], "no tokenhub profile");
  });

  it("the plugin's own setup records the verified model: deepseek-v3.2 is refused for the region, alibaba/deepseek-v3.2 answers", async () => {
    sim.reset();
    sim.useScenario("region-unavailable-dashscope");
    try {
      const setup = await oc(["tokenhub", "setup", "--json"], { TOKENHUB_API_KEY: GOOD });
      log(`tokenhub setup: ${setup.ms} ms`);
      const details = JSON.parse(setup.stdout.slice(setup.stdout.indexOf("{"))) as {
        state?: string;
        record?: { model?: string; result?: { fallbacks_used?: string[] } };
      };
      assert.equal(details.state, "complete", setup.stdout.slice(-600));
      assert.equal(details.record?.model, VERIFIED);
      assert.deepEqual(details.record?.result?.fallbacks_used, ["deepseek-v3.2"]);
      assert.deepEqual(
        chatRequests(sim).map((r) => (r.body as { model?: string }).model),
        ["deepseek-v3.2", VERIFIED],
      );
      const record = JSON.parse(
        await readFile(join(host.stateDir, "plugins", "tokenhub-setup", "status.json"), "utf8"),
      ) as { model?: string; integration_status?: string };
      assert.equal(record.integration_status, "success");
      assert.equal(record.model, VERIFIED);
    } finally {
      sim.useScenario("happy");
    }
  });

  it("onboard checks a good key once against the verified model and stores a reference; the verified model is the default", async () => {
    sim.reset();
    const done = await oc(ONBOARD, { TOKENHUB_API_KEY: GOOD });
    log(`onboard with a good key: ${done.ms} ms; ${`${done.stdout}\n${done.stderr}`.slice(-600)}`);
    const checks = chatRequests(sim);
    assert.equal(checks.length, 1);
    assert.equal(
      (checks[0]?.body as { model?: string } | undefined)?.model,
      VERIFIED,
      "the check asks the verified model",
    );
    const after = await config();
    assert.equal(after.auth?.profiles?.["tokenhub:default"]?.mode, "api_key", JSON.stringify(after.auth));
    assert.equal(after.agents?.defaults?.model?.primary, `tokenhub/${VERIFIED}`);
    assert.equal(JSON.stringify(after).includes(GOOD), false, "no plaintext key in the config");
  });

  // The host orders a provider's models itself (dist/model-catalog-order-*.mjs, compareModelCatalogEntries):
  // by `providerOrder`, else by model id. Runtime catalog rows get a `providerOrder` only from the provider's
  // augmentModelCatalog hook, which hands them back verified first. Here the verified model also sorts first by
  // name; the last test below verifies one that sorts last by name.
  it("models list --refresh shows the TokenHub models, the verified one named so and tagged default", async () => {
    const listed = await oc(["models", "list", "--provider", "tokenhub", "--refresh", "--json"], {
      TOKENHUB_API_KEY: GOOD,
    });
    log(`models list: ${listed.ms} ms; ${listed.stdout.slice(0, 900)}`);
    const { models = [] } = JSON.parse(listed.stdout.slice(listed.stdout.indexOf("{"))) as {
      models?: Array<{ key: string; name: string; tags: string[] }>;
    };
    assert.deepEqual(
      models.map((m) => m.key),
      [`tokenhub/${VERIFIED}`, "tokenhub/deepseek-v3.2"],
    );
    const [verified, other] = models;
    assert.match(verified?.name ?? "", /\(TokenHub, verified\)$/);
    assert.ok(verified?.tags.includes("default"), JSON.stringify(verified));
    assert.equal(other?.name, "deepseek-v3.2 (TokenHub)");
    assert.ok(!other?.tags.includes("default"), JSON.stringify(other));
  });

  it("an agent turn on tokenhub/<verified model> is answered by the simulator, with the stored key", async () => {
    sim.reset();
    const turn = await oc(
      ["agent", "--local", "--agent", "main", "--message", "Reply with OK only.", "--json"],
      { TOKENHUB_API_KEY: GOOD },
    );
    log(`agent --local turn: ${turn.ms} ms; ${turn.stdout.slice(0, 600)}`);
    const result = JSON.parse(turn.stdout.slice(turn.stdout.indexOf("{"))) as {
      payloads?: Array<{ text?: string }>;
      meta?: { agentMeta?: { provider?: string; model?: string } };
    };
    assert.deepEqual(
      result.payloads?.map((p) => p.text?.trim()),
      ["OK"],
    );
    assert.equal(result.meta?.agentMeta?.provider, "tokenhub");
    assert.equal(result.meta?.agentMeta?.model, VERIFIED);
    const asked = chatRequests(sim);
    assert.ok(asked.length >= 1, "the simulator was asked");
    for (const request of asked) {
      const body = request.body as { model?: string; stream?: boolean };
      assert.equal(body.model, VERIFIED);
      assert.equal(body.stream, true, "the host streams; the simulator's SSE answer is what it read");
      // The simulator answers only GOOD (acceptKeys), so an "OK" proves the header carried it; it records
      // only the header's presence and any copy of the key elsewhere in the request.
      assert.equal(request.authorization, "present");
      assert.deepEqual(request.keyLeaks, []);
    }
    assert.match(
      JSON.stringify((asked[0]?.body as { messages?: unknown[] } | undefined)?.messages),
      /Reply with OK only/,
    );
  });

  it("with the key stored as a reference, it is nowhere in the host's files, databases or output", async () => {
    const scanned = await places();
    assert.ok(
      scanned.some(([where]) => where.endsWith("#config_machine_state")),
      "the host's auth store was scanned",
    );
    assert.deepEqual(findLeaks([GOOD], scanned), [], "where the key shows");
    log(`scanned ${scanned.length} files, database values and outputs`);
  });

  it(
    "models auth login (in a terminal) checks a good key once and stores it in the host's auth store, and only there",
    tty,
    async () => {
      sim.reset();
      const exit = await loginInTerminal(GOOD, ["--profile-id", "tokenhub:terminal"]);
      assert.equal(exit.code, 0, exit.screen.slice(-800));
      assert.match(exit.screen, /Auth profile: tokenhub:terminal \(tokenhub\/api_key\)/);
      assert.match(
        exit.screen,
        new RegExp(`Default model available: tokenhub/${VERIFIED.replace("/", "\\/")}`),
      );
      assert.equal(chatRequests(sim).length, 1, "checked once");
      assert.deepEqual((await profiles()).map((p) => p.id).sort(), ["tokenhub:default", "tokenhub:terminal"]);
      // Plaintext, as the host's interactive login stores it: in its state database (state/openclaw.sqlite,
      // table config_machine_state, row authProfiles.store), nowhere else.
      const db = join(host.stateDir, "state", "openclaw.sqlite");
      assert.deepEqual(authStoreRowsWith(db, GOOD), ["authProfiles.store"]);
      const isStore = (where: string) =>
        /\/state\/openclaw\.sqlite(-wal|-shm)?$/.test(where) || where === `${db}#config_machine_state`;
      const scanned = await places();
      assert.ok(findLeaks([GOOD], scanned).length > 0, "the scan sees the key in the store");
      assert.deepEqual(
        findLeaks(
          [GOOD],
          scanned.filter(([where]) => !isStore(where)),
        ),
        [],
        "where the key shows outside the auth store",
      );
    },
  );

  // A gap we document, not fix: `paste-api-key` is the host's generic writer (docs/cli/models.md: "uses the same
  // credential writer as the Models page") and runs no provider auth method, so TokenHub's check is skipped.
  it("models auth paste-api-key stores a key TokenHub rejects without asking TokenHub (the host's generic writer)", async () => {
    sim.reset();
    // The key on stdin, as the docs advise for automation.
    const pasted = await ocWithInput(
      ["models", "auth", "paste-api-key", "--provider", "tokenhub", "--profile-id", "tokenhub:pasted"],
      `${BAD}\n`,
    );
    outputs.push(pasted.output);
    log(`paste-api-key: exit ${pasted.code}; ${pasted.output.slice(-300)}`);
    assert.equal(pasted.code, 0);
    assert.match(pasted.output, /Auth profile: tokenhub:pasted \(tokenhub\/api_key\)/);
    assert.equal(chatRequests(sim).length, 0, "no check");
  });

  it("models list puts the verified model first, not the first by name: deepseek-v3.2 verified lists before alibaba/deepseek-v3.2", async () => {
    sim.reset();
    const setup = await oc(["tokenhub", "setup", "--json"], { TOKENHUB_API_KEY: GOOD });
    const details = JSON.parse(setup.stdout.slice(setup.stdout.indexOf("{"))) as {
      record?: { model?: string };
    };
    assert.equal(details.record?.model, "deepseek-v3.2", setup.stdout.slice(-600));
    const listed = await oc(["models", "list", "--provider", "tokenhub", "--refresh", "--json"], {
      TOKENHUB_API_KEY: GOOD,
    });
    log(`models list after deepseek-v3.2 verified: ${listed.ms} ms; ${listed.stdout.slice(0, 600)}`);
    const { models = [] } = JSON.parse(listed.stdout.slice(listed.stdout.indexOf("{"))) as {
      models?: Array<{ key: string; name: string }>;
    };
    assert.deepEqual(
      models.map((m) => m.key),
      ["tokenhub/deepseek-v3.2", `tokenhub/${VERIFIED}`],
      "by name alone the host would list alibaba/deepseek-v3.2 first",
    );
    assert.equal(models[0]?.name, "deepseek-v3.2 (TokenHub, verified)");
  });
});
