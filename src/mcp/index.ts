/**
 * The MCP server's face, for the `tokenhub-setup mcp` command: the app (config, conversations, key page) and
 * the two ways to reach it, stdio (what MCP clients start) and Streamable HTTP on loopback.
 */
import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { McpApp } from "./server.ts";

export { type HttpListener, listenHttp, MCP_PATH } from "./http.ts";
export { createMcpApp, type McpApp, type McpAppOptions } from "./server.ts";
export { TOOL_NAME } from "./tool.ts";

/**
 * Serves `app` on stdin/stdout (stdout carries only the protocol: every log line goes to stderr). Resolves when
 * the client closes the connection (stdin ends) and every call it made was answered.
 */
export async function serveStdio(app: McpApp, io: { stdin: Readable; stdout: Writable }): Promise<void> {
  const transport = new StdioServerTransport(io.stdin, io.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    io.stdin.once("end", () => resolve());
    io.stdin.once("close", () => resolve());
  });
  // A client that stopped reading (stdout closed, EPIPE) is gone too, whatever its stdin does: an answer
  // written now would wait for a 'drain' that never comes, and the server would never end (helper-27).
  const away = new Promise<void>((resolve) => {
    io.stdout.once("error", () => resolve());
    io.stdout.once("close", () => resolve());
  });
  await app.server().connect(transport);
  const answered = answeredRequests(transport);
  await Promise.race([closed, away]);
  // The client sent everything it will (its stdin is closed): the requests it made still get their answers, and
  // a call waiting on a key page returns now (nobody is left to tell the user).
  await app.closePages();
  await Promise.race([answered(), away]);
  await transport.close().catch(() => undefined);
}

/**
 * Counts the requests `transport` received and the answers it sent; the function it returns resolves once every
 * request read so far was answered. Read at the transport, where a line becomes a request, not in a handler
 * the SDK starts some promise turns later.
 */
function answeredRequests(transport: Transport): () => Promise<void> {
  const open = new Set<string | number>();
  let waiting: (() => void) | undefined;
  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ("method" in message && "id" in message) open.add(message.id);
    receive?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message, options) => {
    await send(message, options);
    if (!("method" in message) && "id" in message && message.id !== undefined) open.delete(message.id);
    if (open.size === 0) waiting?.();
  };
  return () => (open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (waiting = resolve)));
}
