// `tokenhub-setup --key-page`: a run with no terminal asks for the key on the key page, and goes on once a
// person entered it there, in a real browser (Debian's chromium). The CLI runs as a process of its own, in an
// isolated home with keytar faked (test/helpers/cli.ts).
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { type ConsoleLines, chromiumMissing, enterKeyOnPage, launchBrowser } from "../helpers/browser.ts";
import { readFakeKeychain, spawnCli } from "../helpers/cli.ts";
import { findLeaks } from "../helpers/leak-scan.ts";

const GOOD = "sk-clipage-good-0123456789abcdef";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("setup --key-page, without a terminal", { skip: chromiumMissing }, () => {
  let sim: Simulator;
  let browser: Browser;
  let home: string;
  const consoleLines: ConsoleLines = [];
  const channels: Array<readonly [string, string]> = [];
  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    browser = await launchBrowser();
    home = await mkdtemp(join(tmpdir(), "tokenhub-cli-page-"));
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
    for (const entry of await readdir(home, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (entry.isFile() && !path.endsWith("keychain.json"))
        channels.push([path, await readFile(path, "utf8")]);
    }
    channels.push(["browser console", consoleLines.join("\n")]);
    await rm(home, { recursive: true, force: true });
    assert.deepEqual(findLeaks([GOOD], channels), [], "the key leaked");
  });

  /** Runs the CLI; `onLink` gets the page's link as soon as it is printed. */
  async function run(
    dir: string,
    env: Record<string, string>,
    onLink: (url: string, child: ReturnType<typeof spawnCli>) => void,
  ) {
    await mkdir(join(home, dir), { recursive: true });
    const child = spawnCli(["--key-page", "--json", "--base-url", sim.baseUrl], {
      HOME: join(home, dir),
      ...env,
    });
    let stdout = "";
    let stderr = "";
    let linked = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      const link = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(stderr)?.[1];
      if (link && !linked) {
        linked = true;
        onLink(link, child);
      }
    });
    return await new Promise<Run>((resolve) =>
      child.once("close", (code) => {
        channels.push([`${dir} stdout`, stdout], [`${dir} stderr`, stderr]);
        resolve({ code, stdout, stderr });
      }),
    );
  }

  const enterKey = async (url: string, key: string) =>
    (await enterKeyOnPage(browser, consoleLines, url, key)).heading;

  it("prints the link, takes the key in the browser, keeps it in the keychain and completes: exit 0", async () => {
    const keychain = join(home, "keychain", "keychain.json");
    let heading: Promise<string> | undefined;
    const r = await run("keychain", { TOKENHUB_TEST_KEYCHAIN: keychain }, (url) => {
      heading = enterKey(url, GOOD);
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await heading, "Key accepted");
    assert.match(r.stderr, /Enter it on the key page below/);
    assert.doesNotMatch(r.stderr, /Run tokenhub-setup again/);
    const record = JSON.parse(r.stdout) as { integration_status: string; result: { key_source: string } };
    assert.equal(record.integration_status, "success");
    assert.equal(record.result.key_source, "keychain");
    assert.deepEqual(Object.values(readFakeKeychain(keychain)).flatMap(Object.values), [GOOD]);
  });

  it("where no keychain works: the key is used for this run only and stored nowhere", async () => {
    const r = await run("nokeychain", {}, (url) => void enterKey(url, GOOD));
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { result: { key_source: string } }).result.key_source, "event");
    assert.match(r.stderr, /used for this run only/);
  });

  it("Ctrl-C while it waits for the page: exit 130, and the link stops working", async () => {
    let link = "";
    const r = await run("interrupted", {}, (url, child) => {
      link = url;
      child.kill("SIGINT");
    });
    assert.equal(r.code, 130, r.stderr);
    await assert.rejects(fetch(link), "the page is closed");
  });
});
