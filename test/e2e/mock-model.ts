// A scripted OpenAI-compatible model server (streaming SSE) standing in for the LLM of an agent turn: when
// the user says the trigger, it calls the tokenhub_setup tool through OpenClaw's tool_call; once a tool
// result is in the conversation, it answers with a sentence quoting it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface Message {
  role: string;
  content?: unknown;
}

export interface MockModel {
  baseUrl: string;
  /** Every chat request's messages, in order. */
  requests: Message[][];
  close(): Promise<void>;
}

const text = (m: Message) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? ""));

export async function startMockModel(
  trigger: string,
  tool: string,
  args: Record<string, unknown>,
): Promise<MockModel> {
  const requests: Message[][] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      n += 1;
      if (!req.url?.includes("/chat/completions")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "mock-1", object: "model" }] }));
        return;
      }
      const json = JSON.parse(body || "{}") as {
        messages?: Message[];
        tools?: Array<{ function?: { name?: string } }>;
      };
      const messages = json.messages ?? [];
      requests.push(messages);
      const chunk = (delta: unknown, finish: string | null = null) => ({
        id: `cmpl-${n}`,
        object: "chat.completion.chunk",
        created: Math.floor(Date.now() / 1000),
        model: "mock-1",
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      const send = (chunks: unknown[]) => {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        for (const c of chunks) res.write(`data: ${JSON.stringify(c)}\n\n`);
        res.end("data: [DONE]\n\n");
      };
      // OpenClaw appends its own context after a tool result, so look for tool messages after the trigger
      // rather than at the end.
      const at = messages.findLastIndex((m) => m.role === "user" && text(m).includes(trigger));
      const toolResults = messages.slice(at + 1).filter((m) => m.role === "tool");
      if (at < 0 || toolResults.length > 0) {
        const last = toolResults.at(-1);
        const reply = last ? `TokenHub tool said: ${text(last).slice(0, 400)}` : "Nothing to do.";
        send([chunk({ role: "assistant", content: reply }), chunk({}, "stop")]);
        return;
      }
      // Plugin tools are reached through the host's tool search: call tool_call with {id, args}, unless the
      // tool is offered directly.
      const direct = (json.tools ?? []).some((t) => t.function?.name === tool);
      const call = direct
        ? { name: tool, arguments: args }
        : { name: "tool_call", arguments: { id: tool, args } };
      send([
        chunk({
          role: "assistant",
          content: null,
          tool_calls: [
            { index: 0, id: `call_${n}`, type: "function", function: { name: call.name, arguments: "" } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify(call.arguments) } }] }),
        chunk({}, "tool_calls"),
      ]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
