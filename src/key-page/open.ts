/**
 * Opening the page: a fresh token, a server on 127.0.0.1 at a port the system picks, the link's life, and the
 * timer that expires it. While the link is open the server keeps the process alive (a CLI waits on it); once the
 * outcome is settled it no longer does, and it goes on answering "already used" or "expired" until closed.
 */
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "../session/index.ts";
import { createLink } from "./link.ts";
import { createHandler } from "./server.ts";
import { createToken } from "./token.ts";
import type { KeyPage, KeyPageOptions } from "./types.ts";

const DEFAULT_EXPIRES_IN_MS = 10 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 5;
/** How long close() lets a response being written finish before it cuts the connection. */
const CLOSE_GRACE_MS = 1_000;
/** setTimeout's longest delay; a longer expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function openKeyPage(options: KeyPageOptions): Promise<KeyPage> {
  const expiresInMs = options.expiresInMs ?? DEFAULT_EXPIRES_IN_MS;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!(Number.isFinite(expiresInMs) && expiresInMs > 0))
    throw new RangeError("expiresInMs must be a positive number of milliseconds");
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1))
    throw new RangeError("maxAttempts must be a whole number of at least 1");
  const now = options.now ?? Date.now;
  const logger = (
    options.logger ?? createLogger({ level: "silent", destination: { write: () => {} } })
  ).child({
    component: "key-page",
  });

  const token = createToken();
  const expiresAt = now() + expiresInMs;
  const link = createLink({ expiresAt, maxAttempts, now });
  const closing = new AbortController();
  // The handler needs the port, known once listening; until then (a moment nobody has the URL) nothing is served.
  let handler: RequestListener = (_req, res) => res.destroy();
  const server = createServer(
    {
      // A person types; a request that trickles in is not one. Short idle keep-alive: the page is one form.
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 2_000,
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => handler(req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  handler = createHandler({
    token,
    host,
    origin: `http://${host}`,
    link,
    entry: options.entry,
    consoleUrl: options.consoleUrl,
    ...(options.keyFile ? { keyFile: options.keyFile } : {}),
    logger,
    now,
    signal: closing.signal,
  });

  // The clock decides (link.state() asks `now`); the timer only makes sure expiry settles with nobody asking.
  let timer: NodeJS.Timeout | undefined;
  const watchExpiry = () => {
    const left = link.expiresAt - now();
    if (left > 0) timer = setTimeout(watchExpiry, Math.min(left, MAX_TIMER_MS));
    else link.state();
  };
  watchExpiry();

  link.onSettle((outcome) => {
    clearTimeout(timer);
    server.unref();
    server.closeIdleConnections();
    logger.info({ outcome: outcome.status }, "key page settled");
  });
  logger.info({ port, expiresAt, maxAttempts }, "key page open");

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}/${token}`,
    expiresAt,
    outcome: link.outcome,
    close() {
      closed ??= new Promise<void>((resolve) => {
        link.close();
        closing.abort();
        clearTimeout(timer);
        // A page being written (the "Key accepted" answer, whose outcome the caller just read) may finish;
        // idle connections go now, and anything still open after a moment is cut.
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
