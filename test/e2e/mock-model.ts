// A scripted OpenAI-compatible model server (streaming SSE) standing in for the LLM of an agent turn: when
// the user says the trigger, it calls the tokenhub_setup tool through OpenClaw's tool_call; once a tool
// result is in the conversation, it answers with a sentence quoting it. More triggers, each with its own tool
// and arguments, can be given as routes: the latest user message that says one decides.
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
  /** The function names each chat request offered the model, in the same order. */
  toolNames: string[][];
  close(): Promise<void>;
}

/** A user message containing `trigger` makes the model call `tool` with `args`. */
export interface Route {
  trigger: string;
  tool: string;
  args: Record<string, unknown>;
}

const text = (m: Message) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? ""));

/**
 * What the model quotes from a tool result. OpenClaw wraps an MCP tool's result in an "untrusted content"
 * notice around JSON ({tool, result: {content}}), the structured content first as a text block of its own: the
 * quote is the tool's own text. Anything else is quoted as it came.
 */
function quoted(m: Message): string {
  const raw = Array.isArray(m.content)
    ? m.content
        .map((part: { text?: unknown }) => (typeof part?.text === "string" ? part.text : ""))
        .join("\n")
    : text(m);
  const inner =
    /<<<EXTERNAL_UNTRUSTED_CONTENT[^>]*>>>\n(?:Source: [^\n]*\n---\n)?([\s\S]*?)\n<<<END_EXTERNAL_UNTRUSTED_CONTENT/.exec(
      raw,
    )?.[1];
  if (inner === undefined) return raw;
  try {
    const parsed = JSON.parse(inner) as { result?: { content?: Array<{ type?: string; text?: string }> } };
    const texts = (parsed.result?.content ?? [])
      .filter(
        (c) => c.type === "text" && typeof c.text === "string" && !c.text.startsWith("structuredContent:"),
      )
      .map((c) => c.text);
    return texts.length > 0 ? texts.join("\n") : inner;
  } catch {
    return inner;
  }
}

export async function startMockModel(
  trigger: string,
  tool: string,
  args: Record<string, unknown>,
  routes: Route[] = [],
): Promise<MockModel> {
  const all: Route[] = [{ trigger, tool, args }, ...routes];
  const requests: Message[][] = [];
  const toolNames: string[][] = [];
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
      toolNames.push((json.tools ?? []).map((t) => t.function?.name ?? ""));
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
      // The route said last wins; of two said in the same message, the longer trigger (the more specific).
      let at = -1;
      let route: Route = all[0] as Route;
      for (const r of all) {
        const i = messages.findLastIndex((m) => m.role === "user" && text(m).includes(r.trigger));
        if (i > at || (i === at && i >= 0 && r.trigger.length > route.trigger.length)) {
          at = i;
          route = r;
        }
      }
      const toolResults = messages.slice(at + 1).filter((m) => m.role === "tool");
      if (at < 0 || toolResults.length > 0) {
        const last = toolResults.at(-1);
        const reply = last ? `TokenHub tool said: ${quoted(last).slice(0, 400)}` : "Nothing to do.";
        send([chunk({ role: "assistant", content: reply }), chunk({}, "stop")]);
        return;
      }
      // Plugin tools are reached through the host's tool search: call tool_call with {id, args}, unless the
      // tool is offered directly.
      const direct = (json.tools ?? []).some((t) => t.function?.name === route.tool);
      const call = direct
        ? { name: route.tool, arguments: route.args }
        : { name: "tool_call", arguments: { id: route.tool, args: route.args } };
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
    toolNames,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
