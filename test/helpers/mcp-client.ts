// An MCP client from the official SDK, talking to `tokenhub-setup mcp` as a real client does: over stdio, to a
// process of its own in an isolated home (test/helpers/cli.ts: temp HOME, keytar faked). Every JSON-RPC message
// both ways and the server's stderr are kept, for the assertions and the leak scan.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { cliArgv, isolatedEnv } from "./cli.ts";

export interface McpSession {
  client: Client;
  /** Every message, in order: what the client sent ("out") and what the server sent ("in"). */
  readonly messages: Array<{ way: "out" | "in"; message: JSONRPCMessage }>;
  /** The server's stderr so far. */
  stderr(): string;
  /** Closes the connection (the server ends when its stdin does) and waits for the process to exit. */
  close(): Promise<void>;
}

export async function connectMcp(
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { name?: string; elicitation?: boolean } = {},
): Promise<McpSession> {
  const isolated = isolatedEnv(env);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: cliArgv(["mcp", ...args]),
    // The SDK merges this over a minimal default environment: it is the whole environment we mean.
    env: isolated.env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const messages: McpSession["messages"] = [];
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage) => {
    messages.push({ way: "out", message });
    return send(message);
  };
  const client = new Client(
    { name: options.name ?? "tokenhub-test-client", version: "1.0.0" },
    { capabilities: options.elicitation ? { elicitation: { url: {} } } : {} },
  );
  // The client sets onmessage when it connects: kept behind a setter, so even initialize's answer is seen.
  let deliver: StdioClientTransport["onmessage"];
  Object.defineProperty(transport, "onmessage", {
    get: () =>
      deliver
        ? (message: JSONRPCMessage, extra?: unknown) => {
            messages.push({ way: "in", message });
            (deliver as (m: JSONRPCMessage, e?: unknown) => void)(message, extra);
          }
        : undefined,
    set: (handler: StdioClientTransport["onmessage"]) => {
      deliver = handler;
    },
  });
  await client.connect(transport);
  return {
    client,
    messages,
    stderr: () => stderr,
    async close() {
      await client.close();
      isolated.cleanup();
    },
  };
}

/** The messages as text, one channel per direction, for findLeaks. */
export function mcpChannels(session: McpSession): Array<readonly [string, string]> {
  const text = (way: "out" | "in") =>
    session.messages
      .filter((m) => m.way === way)
      .map((m) => JSON.stringify(m.message))
      .join("\n");
  return [
    ["MCP client -> server", text("out")],
    ["MCP server -> client", text("in")],
    ["MCP server stderr", session.stderr()],
  ];
}
