// The key page as a person meets it: a real headless chromium (test/helpers/browser.ts), keyboard only, at a
// desktop size and at a phone's 375 px. TokenHub is the simulator; the key's places are a stand-in. Every page
// the browser showed, every answer it received and its whole console are scanned for the keys afterwards; the
// console must be free of errors and Content-Security-Policy violations. Skipped, saying why, without chromium.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import {
  type ConsoleLines,
  chromiumMissing,
  launchBrowser,
  openTab,
  scrollsSideways,
  submitForm,
} from "../helpers/browser.ts";
import { type Channel, findLeaks } from "../helpers/leak-scan.ts";
import { BAD, GOOD, KEY_FILE, type Opened, openTestPage, type TestPageOptions } from "./fixture.ts";

/** A phone's viewport (an iPhone SE's CSS width). */
const PHONE = { viewport: { width: 375, height: 667 }, isMobile: true };

describe("the key page in a real browser", { skip: chromiumMissing }, () => {
  let sim: Simulator;
  let browser: Browser;
  const consoleLines: ConsoleLines = [];
  const channels: Channel[] = [];
  const contexts: BrowserContext[] = [];
  const pages: Opened[] = [];

  /** A key page, and a browser tab whose every answer's headers and body are kept for the leak scan. */
  const open = async (options: TestPageOptions & { phone?: boolean } = {}) => {
    const { phone, ...pageOptions } = options;
    const opened = await openTestPage(sim, pageOptions);
    pages.push(opened);
    const { context, tab } = await openTab(browser, consoleLines, phone ? PHONE : {});
    contexts.push(context);
    tab.on("response", async (response) => {
      // Only the key page's answers (a test's own attacker page carries a key on purpose).
      if (!response.url().startsWith(opened.origin)) return;
      const body = await response.text().catch(() => "");
      channels.push([`${response.status()} headers`, JSON.stringify(await response.allHeaders())]);
      channels.push([`${response.status()} body`, body]);
    });
    return { opened, tab };
  };
  /** What the tab shows now, kept for the leak scan. */
  const shown = async (tab: Page) => {
    const html = await tab.content();
    channels.push(["page HTML", html]);
    return html;
  };
  /** Tab from the top of the page until the key field has focus: how a keyboard user gets there. */
  const tabToKeyField = async (tab: Page) => {
    for (let presses = 1; presses <= 10; presses++) {
      await tab.keyboard.press("Tab");
      if (await tab.locator("#key").evaluate((el) => el === el.ownerDocument.activeElement)) return presses;
    }
    assert.fail("Tab never reached the key field");
  };

  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
    browser = await launchBrowser(["--host-resolver-rules=MAP rebind.test 127.0.0.1"]);
  });
  beforeEach(() => sim.reset());
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    for (const opened of pages.splice(0)) {
      await opened.close();
      channels.push(["log", opened.lines.join("\n")]);
    }
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
    channels.push(["browser console", consoleLines.join("\n")]);
    assert.deepEqual(findLeaks([GOOD, BAD], channels), [], "no key in any page, answer, log or console line");
    const violations = consoleLines.filter((l) => /Content.Security.Policy|Refused to/i.test(l));
    assert.deepEqual(violations, [], "the page needs nothing its CSP forbids");
    // What else the console may say: a refusal's status (4xx is the point of those tests), and that COOP does
    // not apply under the rebinding test's made-up name (only 127.0.0.1 is a trustworthy origin over http).
    const expected = [
      /^console\.error: Failed to load resource: the server responded with a status of 4\d\d/,
      /Cross-Origin-Opener-Policy header has been ignored/,
    ];
    assert.deepEqual(
      consoleLines.filter((l) => !expected.some((pattern) => pattern.test(l))),
      [],
      "nothing else in the console: no error, no page error, no failed request",
    );
  });

  it("a keyboard alone: Tab to the labelled field, type the key, Enter, and the page says it was kept", async () => {
    const { opened, tab } = await open();
    await tab.goto(opened.page.url);
    assert.equal(await tab.locator("html").getAttribute("lang"), "en");
    assert.equal(await tab.getByRole("heading", { level: 1 }).textContent(), "Enter your TokenHub API key");
    // The field's accessible name is its label; it is masked and not remembered by autofill.
    const field = tab.getByLabel("API key", { exact: true });
    assert.equal(await field.getAttribute("id"), "key");
    assert.equal(await field.getAttribute("type"), "password");
    assert.equal(await field.getAttribute("autocomplete"), "off");
    assert.match(await field.ariaSnapshot(), /textbox "API key"/);
    const link = tab.getByRole("link", { name: /TokenHub console/ });
    assert.equal(await link.getAttribute("href"), "https://tokenhub.link/console/api-keys");
    await shown(tab);

    await tabToKeyField(tab);
    await tab.keyboard.type(GOOD);
    await Promise.all([tab.waitForURL(opened.page.url), tab.keyboard.press("Enter")]);
    await tab.getByRole("heading", { name: "Key accepted" }).waitFor();
    const html = await shown(tab);
    assert.match(html, /kept in your OS keychain/);
    assert.match(html, /Return to your agent or terminal: the setup continues by itself/);
    assert.deepEqual(await opened.page.outcome, { status: "accepted", kept: "keychain", hint: "sk-…5f68" });
    assert.deepEqual(opened.stored, [{ in: "keychain", raw: GOOD }]);

    // Reloading the link (a new GET) says it was used, and shows no form.
    await tab.goto(opened.page.url);
    assert.equal(await tab.getByRole("heading", { level: 1 }).textContent(), "This link was already used");
    assert.equal(await tab.locator("form").count(), 0);
  });

  it("a key TokenHub rejects: the problem is read out with the field, the field empty, then a good key works", async () => {
    const { opened, tab } = await open();
    await tab.goto(opened.page.url);
    await tabToKeyField(tab);
    await tab.keyboard.type(BAD);
    await submitForm(tab, () => tab.keyboard.press("Enter"));
    await tab.getByRole("alert").waitFor();
    assert.match((await tab.getByRole("alert").textContent()) ?? "", /TokenHub rejected this key/);
    const field = tab.getByLabel("API key", { exact: true });
    assert.equal(await field.inputValue(), "", "the refused key is not put back");
    assert.equal(await field.getAttribute("aria-invalid"), "true");
    // Its description, as assistive technology reads it, carries the problem.
    assert.match(await field.ariaSnapshot(), /textbox "API key"/);
    const ids = (await field.getAttribute("aria-describedby"))?.split(" ") ?? [];
    const described = (await Promise.all(ids.map((id) => tab.locator(`#${id}`).textContent()))).join(" ");
    assert.match(described, /rejected this key.*checked with one request/s);
    assert.deepEqual(opened.stored, []);
    await shown(tab);

    await tabToKeyField(tab);
    await tab.keyboard.type(GOOD);
    await submitForm(tab, () => tab.keyboard.press("Enter"));
    await tab.getByRole("heading", { name: "Key accepted" }).waitFor();
    assert.equal((await opened.page.outcome).status, "accepted");
  });

  it("with no keychain: the file is a checkbox a keyboard ticks, and the page says where the key went", async () => {
    const { opened, tab } = await open({ keychain: "missing" });
    await tab.goto(opened.page.url);
    const box = tab.getByLabel(/Keep the key in a plain file readable only by you/);
    assert.equal(await box.isChecked(), false);
    await tabToKeyField(tab);
    await tab.keyboard.type(GOOD);
    await tab.keyboard.press("Tab");
    assert.equal(await box.evaluate((el) => el === el.ownerDocument.activeElement), true);
    await tab.keyboard.press("Space");
    assert.equal(await box.isChecked(), true);
    await tab.keyboard.press("Tab");
    await submitForm(tab, () => tab.keyboard.press("Enter"));
    await tab.getByRole("heading", { name: "Key accepted" }).waitFor();
    const html = await shown(tab);
    assert.ok(html.includes(KEY_FILE));
    assert.deepEqual(opened.stored, [{ in: "file", raw: GOOD }]);
  });

  it("on a phone (375 px): no page scrolls sideways, the form, a refusal with the file choice, the success", async () => {
    const { opened, tab } = await open({ keychain: "missing", phone: true });
    await tab.goto(opened.page.url);
    assert.equal(await scrollsSideways(tab), false, "the form");
    assert.equal(await tab.evaluate("window.innerWidth"), 375);
    const field = tab.getByLabel("API key", { exact: true });
    await field.fill(BAD);
    await submitForm(tab, () => field.press("Enter"));
    await tab.getByRole("alert").waitFor();
    assert.equal(
      await scrollsSideways(tab),
      false,
      "the refusal, with the key file's path and the console URL",
    );
    const { width } = (await field.boundingBox()) ?? { width: 0 };
    assert.ok(width > 300, `the field spans the column (${width} px)`);
    await field.fill(GOOD);
    await submitForm(tab, () => field.press("Enter"));
    await tab.getByRole("heading", { name: "Key accepted" }).waitFor();
    assert.equal(await scrollsSideways(tab), false, "the success page");
    await shown(tab);
  });

  it("a form on another site posting to the link is refused (403), and stores nothing", async () => {
    const { opened, tab } = await open();
    // A page of another origin (another port is another origin) with a form aimed at the key page.
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(
        `<!doctype html><html lang="en"><title>x</title><form method="post" action="${opened.page.url}">` +
          `<input name="key" value="${GOOD}"><button>Go</button></form></html>`,
      );
    });
    await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", r));
    try {
      await tab.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      await Promise.all([tab.waitForURL(opened.page.url), tab.getByRole("button", { name: "Go" }).click()]);
      assert.equal(
        await tab.getByRole("heading", { level: 1 }).textContent(),
        "Refused: not sent from this page",
      );
      assert.deepEqual(opened.stored, []);
      assert.equal(sim.requests.length, 0);
    } finally {
      attacker.close();
    }
  });

  it("the link under another name resolving to 127.0.0.1 (DNS rebinding) gets 'Wrong address', no form", async () => {
    const { opened, tab } = await open();
    const rebound = opened.page.url.replace("127.0.0.1", "rebind.test");
    const response = await tab.goto(rebound);
    assert.equal(response?.status(), 421);
    assert.equal(await tab.getByRole("heading", { level: 1 }).textContent(), "Wrong address");
    assert.equal(await tab.locator("form").count(), 0);
    assert.ok(!(await shown(tab)).includes(opened.path.slice(1)), "the answer does not carry the token");
  });
});
