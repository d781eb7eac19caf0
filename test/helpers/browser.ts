// A real headless browser for the pages we serve: Debian's chromium driven by playwright-core (which downloads
// nothing; .ci/run installs chromium with apt-get when it is missing). A test suite skips, saying why, where the
// binary is absent: `describe(..., { skip: chromiumMissing }, ...)`.
import { accessSync, constants } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** The browser binary: Debian's chromium, or TOKENHUB_TEST_CHROMIUM. */
export const CHROMIUM = process.env.TOKENHUB_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** False where chromium can be run, else the reason a browser test is skipped. */
export const chromiumMissing: string | false = (() => {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    return `chromium is not installed at ${CHROMIUM} (apt-get install chromium; .ci/run does so as root)`;
  }
})();

/** The browser's console: every message, page error and failed request, one line each. */
export type ConsoleLines = string[];

/**
 * Launches the browser. `--no-sandbox`: the suite may run as root in a container, where chromium's sandbox
 * cannot start; the pages it opens are our own. Extra `args` go to chromium (host resolver rules, say).
 */
export async function launchBrowser(args: readonly string[] = []): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", ...args] });
}

/** A fresh context (no cookies, no cache) and its first page, with its console collected into `lines`. */
export async function openTab(
  browser: Browser,
  lines: ConsoleLines,
  options: { viewport?: { width: number; height: number }; isMobile?: boolean } = {},
): Promise<{ context: BrowserContext; tab: Page }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1024, height: 768 },
    ...(options.isMobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  // Our pages answer in milliseconds: a wait that lasts seconds is a failure, reported as one soon.
  context.setDefaultTimeout(5_000);
  const tab = await context.newPage();
  tab.on("console", (message) => lines.push(`console.${message.type()}: ${message.text()}`));
  tab.on("pageerror", (err) => lines.push(`pageerror: ${err.message}`));
  tab.on("requestfailed", (request) => lines.push(`requestfailed: ${request.failure()?.errorText}`));
  return { context, tab };
}

/** Whether the page can scroll sideways (content wider than the viewport): false is readable on a phone. */
export async function scrollsSideways(tab: Page): Promise<boolean> {
  // A string: the tests are compiled without the DOM's types.
  return (await tab.evaluate("document.documentElement.scrollWidth > window.innerWidth")) === true;
}

/**
 * Submits the page's form with `press` (Enter, a click) and waits for the answer's page to be shown: the new
 * document committed, then loaded. (`waitForLoadState` alone resolves at once on the form's own page, which is
 * loaded already, so a read right after it may still see the form.)
 */
export async function submitForm(tab: Page, press: () => Promise<void>): Promise<void> {
  const navigated = tab.waitForEvent("framenavigated", (frame) => frame === tab.mainFrame());
  await press();
  await navigated;
  await tab.waitForLoadState();
}

/** Both pages a person sees on a key page link, as shown, and the answer's heading. */
export interface KeyEntered {
  form: string;
  answer: string;
  heading: string;
}

/** What a person does with a key page link: open it in a fresh tab, type the key into the labelled field, Enter. */
export async function enterKeyOnPage(
  browser: Browser,
  lines: ConsoleLines,
  url: string,
  key: string,
): Promise<KeyEntered> {
  const { context, tab } = await openTab(browser, lines);
  try {
    await tab.goto(url);
    const form = await tab.content();
    await tab.getByLabel("API key", { exact: true }).fill(key);
    await submitForm(tab, () => tab.keyboard.press("Enter"));
    const heading = (await tab.getByRole("heading", { level: 1 }).textContent()) ?? "";
    return { form, answer: await tab.content(), heading };
  } finally {
    await context.close();
  }
}
