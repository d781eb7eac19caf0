/**
 * The MCP server's face, for the `tokenhub-setup mcp` command: the app (config, conversations, key page) and
 * the two ways to reach it, stdio (what MCP clients start) and Streamable HTTP on loopback.
 */
import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { McpApp } from "./server.ts";

export { type HttpListener, listenHttp, MCP_PATH } from "./http.ts";
export { createMcpApp, type McpApp, type McpAppOptions } from "./server.ts";
export { TOOL_NAME } from "./tool.ts";

/**
 * Serves `app` on stdin/stdout (stdout carries only the protocol: every log line goes to stderr). Resolves when
 * the client closes the connection (stdin ends).
 */
export async function serveStdio(app: McpApp, io: { stdin: Readable; stdout: Writable }): Promise<void> {
  const transport = new StdioServerTransport(io.stdin, io.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    io.stdin.once("end", () => resolve());
    io.stdin.once("close", () => resolve());
  });
  await app.server().connect(transport);
  await closed;
  await transport.close().catch(() => undefined);
}
