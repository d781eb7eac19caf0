/**
 * `mcp --http`: Streamable HTTP on 127.0.0.1, one MCP session per client (the SDK's session ids). Only this
 * machine can reach it, and a browser page cannot: the Host must name this listener (no DNS rebinding) and a
 * request that carries an Origin must come from it (no cross-site request from a page the user has open).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../session/index.ts";
import type { McpApp } from "./server.ts";

export const MCP_PATH = "/mcp";
/** The largest JSON-RPC body taken: a tool call is a few hundred bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpListener {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  close(): Promise<void>;
}

export async function listenHttp(
  app: McpApp,
  options: { port: number; logger: Logger },
): Promise<HttpListener> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let origin = "";
  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.warn({ err }, "MCP HTTP request failed");
      if (!res.headersSent) refuse(res, 500, "internal error");
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const host = req.headers.host;
    if (host !== origin.slice("http://".length))
      return refuse(
        res,
        421,
        `this server answers only as ${origin} (Host was ${JSON.stringify(host ?? "")})`,
      );
    if (req.headers.origin !== undefined && req.headers.origin !== origin)
      return refuse(res, 403, "cross-origin requests are refused");
    const path = new URL(req.url ?? "/", origin).pathname;
    if (path !== MCP_PATH) return refuse(res, 404, `the MCP endpoint is ${MCP_PATH}`);
    const sessionId = req.headers["mcp-session-id"];
    const existing = typeof sessionId === "string" ? transports.get(sessionId) : undefined;
    if (req.method === "POST") {
      const body = await readJson(req);
      if (body === undefined) return refuse(res, 400, "the body is not JSON (or larger than 1 MiB)");
      if (existing) return existing.handleRequest(req, res, body);
      if (sessionId !== undefined) return refuse(res, 404, "unknown MCP session; initialize again");
      if (!isInitializeRequest(body)) return refuse(res, 400, "no MCP session: send initialize first");
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, transport),
      });
      transport.onclose = () => {
        const id = transport.sessionId;
        if (!id) return;
        transports.delete(id);
        // Its key page, held key and stored flow are no one's once the session is gone.
        void app
          .sessionEnded(id)
          .catch((err: unknown) => options.logger.warn({ err }, "MCP session cleanup failed"));
      };
      await app.server().connect(transport);
      return transport.handleRequest(req, res, body);
    }
    if (req.method === "GET" || req.method === "DELETE") {
      if (!existing) return refuse(res, 404, "unknown MCP session");
      return existing.handleRequest(req, res);
    }
    res.setHeader("Allow", "GET, POST, DELETE");
    return refuse(res, 405, "method not allowed");
  }

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: `${origin}${MCP_PATH}`,
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close().catch(() => undefined)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function refuse(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}
