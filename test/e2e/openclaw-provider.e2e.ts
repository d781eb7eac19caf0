// TokenHub as a model provider on the real OpenClaw host (openclaw@2026.9.6), headless, all state in a temp
// folder: `openclaw onboard --auth-choice tokenhub-api-key` checks the key against the simulator before the host
// stores it (a reference, never the key), refuses a rejected key with nothing stored, and `models list` shows
// the TokenHub models. Needs `npm run build` first (the host loads dist/).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createHost, ensureOpenClaw, type Host } from "./openclaw-host.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
// Made at run time: OpenClaw copies a linked plugin's folder (tests included), so a key written here would be
// found by any scan of its state.
const GOOD = `sk-prov-${randomBytes(12).toString("hex")}`;
const BAD = `sk-prov-${randomBytes(12).toString("hex")}`;
interface HostConfig {
  auth?: { profiles?: Record<string, { mode?: string }> };
  agents?: { defaults?: { model?: { primary?: string } } };
}
const log = (line: string) => process.stderr.write(`[openclaw-provider e2e] ${line}\n`);

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

describe(`TokenHub as an OpenClaw provider (real host)`, { timeout: 600_000 }, () => {
  let host: Host;
  let sim: Simulator;
  let tmp: string;
  const config = async () => JSON.parse(await readFile(host.configPath, "utf8")) as HostConfig;

  before(async () => {
    const bin = await ensureOpenClaw(log);
    tmp = await mkdtemp(join(tmpdir(), "tokenhub-openclaw-provider-"));
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    host = await createHost(bin, tmp, {});
    const install = await host.oc(["plugins", "install", "-l", ROOT, "--force", "--accept-capabilities"]);
    log(`plugins install: ${install.ms} ms`);
    await host.oc(["config", "set", "plugins.entries.tokenhub-setup.config.baseUrl", sim.baseUrl]);
  });

  after(async () => {
    await sim?.close();
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
    log(`onboard with a rejected key: ${failed.text.slice(-600)}`);
    assert.equal(failed.ok, false);
    assert.match(failed.text, /TokenHub rejected this key \(HTTP 401\); nothing was stored/);
    assert.ok(!failed.text.includes(BAD), "the key is not echoed");
    assert.equal(sim.requests.filter((r) => r.path.endsWith("/chat/completions")).length, 1);
    const after = await config();
    assert.equal(after.auth?.profiles?.["tokenhub:default"], undefined, JSON.stringify(after.auth));
    assert.equal(JSON.stringify(after).includes("tokenhub/"), false, `no default model: ${before.length}`);
  });

  it("onboard checks a good key against the simulator and stores a reference, not the key", async () => {
    sim.reset();
    const done = await host.oc(ONBOARD, { TOKENHUB_API_KEY: GOOD });
    log(`onboard with a good key: ${done.ms} ms; ${`${done.stdout}\n${done.stderr}`.slice(-600)}`);
    assert.equal(sim.requests.filter((r) => r.path.endsWith("/chat/completions")).length, 1);
    const after = await config();
    assert.equal(after.auth?.profiles?.["tokenhub:default"]?.mode, "api_key", JSON.stringify(after.auth));
    assert.equal(after.agents?.defaults?.model?.primary, "tokenhub/deepseek-v3.2");
    assert.equal(JSON.stringify(after).includes(GOOD), false, "no plaintext key in the config");
  });

  // todo: `models list --provider tokenhub --json` prints {"count": 0} after onboarding (it reads models.json and
  // runs no provider discovery, docs/cli/models.md); `--all` printed nothing. Next: find which command runs the
  // catalog (models list --refresh? a gateway start?) and whether staticCatalog rows need manifest modelCatalog.
  it("models list --refresh shows the TokenHub models", async () => {
    const listed = await host.oc(["models", "list", "--provider", "tokenhub", "--refresh", "--json"], {
      TOKENHUB_API_KEY: GOOD,
    });
    log(`models list: ${listed.ms} ms; ${listed.stdout.slice(0, 600)}`);
    assert.match(listed.stdout, /tokenhub\/deepseek-v3\.2/);
    assert.match(listed.stdout, /tokenhub\/alibaba\/deepseek-v3\.2/);
  });
});
