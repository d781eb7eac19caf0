// What the key page's tests share: the simulator as TokenHub, a stand-in for the key's places that records what
// was stored where (nothing touches the real keychain or HOME), a logger whose lines are kept, and a transcript
// of every answer received, for the leak scan.
import type { Readable } from "node:stream";
import { request } from "undici";
import { type KeyPage, type KeyPageOptions, openKeyPage } from "../../src/key-page/index.ts";
import {
  createLogger,
  type KeyEntry,
  type Keys,
  openKeyEntry,
  resolveConfig,
  TokenHubSetupError,
} from "../../src/session/index.ts";
import type { Simulator } from "../../src/simulator/index.ts";
import type { Channel } from "../helpers/leak-scan.ts";

/** The key the simulator accepts, and one it answers 401 for. Distinctive, so the leak scan finds any copy. */
export const GOOD = "sk-page-good-7c1e94a0d2b35f68";
export const BAD = "sk-page-bad-3a9f0c7e15d2b864";
export const KEY_FILE = "/home/someone/.config/tokenhub-setup/api-key";
export const CONSOLE_URL = "https://tokenhub.link/console/api-keys";

export type Stored = Array<{ in: "keychain" | "file"; raw: string }>;

/** The key's places with a keychain that works or none at all; `stored` is what was kept where. */
export function placesWith(keychain: "works" | "missing"): { keys: Keys; stored: Stored } {
  const stored: Stored = [];
  const remedy = "Install and unlock gnome-keyring, or keep the key in TOKENHUB_API_KEY.";
  const keys = {
    keyFile: KEY_FILE,
    keychainEntry: { service: "s", account: "a" },
    sources: {},
    find: async () => ({ places: [], notices: [] }),
    keychainProblem: async () =>
      keychain === "works"
        ? undefined
        : { code: "keychain_unavailable", message: "No OS keychain answers here.", remedy },
    async store(raw: string, options: { in: "keychain" | "file" }) {
      if (options.in === "keychain" && keychain === "missing")
        throw new TokenHubSetupError("keychain_unavailable", "No OS keychain answers here.", { remedy });
      stored.push({ in: options.in, raw });
    },
    clear: async () => ({ removed: false, fileRemoved: false }),
  } satisfies Keys;
  return { keys, stored };
}

/** A logger at debug level whose JSON lines are kept (pino's scrubbing included, as a host's logger has it). */
export function keptLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines, events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export interface Opened {
  page: KeyPage;
  entry: KeyEntry;
  stored: Stored;
  lines: string[];
  events: () => Array<Record<string, unknown>>;
  /** The page's origin (`http://127.0.0.1:<port>`), its token path, and its port. */
  origin: string;
  path: string;
  port: number;
  close(): Promise<void>;
}

export interface TestPageOptions extends Partial<Omit<KeyPageOptions, "entry" | "logger">> {
  keychain?: "works" | "missing";
  /** Wraps the real entry (to hold a check open, say); the real one still probes the simulator. */
  wrapEntry?: (entry: KeyEntry) => KeyEntry;
}

/** A page in front of a real openKeyEntry that probes `sim`. */
export async function openTestPage(sim: Simulator, options: TestPageOptions = {}): Promise<Opened> {
  const { keychain = "works", wrapEntry, ...pageOptions } = options;
  const { keys, stored } = placesWith(keychain);
  const real = openKeyEntry({ keys, config: resolveConfig({ baseUrl: sim.baseUrl }), env: {} });
  const entry = wrapEntry ? wrapEntry(real) : real;
  const { logger, lines, events } = keptLogger();
  const page = await openKeyPage({
    consoleUrl: CONSOLE_URL,
    keyFile: KEY_FILE,
    ...pageOptions,
    entry,
    logger,
  });
  const url = new URL(page.url);
  return {
    page,
    entry,
    stored,
    lines,
    events,
    origin: url.origin,
    path: url.pathname,
    port: Number(url.port),
    async close() {
      await page.close();
      await real.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface SendInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Readable;
}

/** Every answer a test received, as leak-scan channels (headers, body). */
export function createTranscript() {
  const channels: Channel[] = [];
  const keep = (label: string, answer: Answer) => {
    channels.push([`${label} headers`, JSON.stringify(answer.headers)], [`${label} body`, answer.body]);
    return answer;
  };
  return {
    channels,
    keep,
    /** One request with undici (which sends no Origin of its own); the answer is kept. */
    async send(url: string, init: SendInit = {}): Promise<Answer> {
      const method = init.method ?? "GET";
      const res = await request(url, {
        method: method as "GET",
        headers: init.headers ?? {},
        ...(init.body === undefined ? {} : { body: init.body }),
      });
      const body = await res.body.text();
      return keep(`${method} ${url}`, { status: res.statusCode, headers: res.headers, body });
    },
  };
}

/** The form as the page's own form posts it: its origin, form-urlencoded. */
export function formPost(origin: string, fields: Record<string, string>): SendInit {
  return {
    method: "POST",
    headers: { origin, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}
