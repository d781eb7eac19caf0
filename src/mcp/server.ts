/**
 * The MCP server: one `tokenhub_setup` tool over the session's turns. The setup of one client is one
 * conversation (by the name the client gives in `initialize` and the server's target; over HTTP, by MCP
 * session), stored in the state folder so a restarted server resumes it. What a client can do decides how Step-2 reaches the user: a URL elicitation where the client
 * supports it, the same link in the result everywhere (see key-step.ts).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import {
  type ConfigInput,
  type ConversationStore,
  createConversationStore,
  createTurnRunner,
  type Logger,
  type Notification,
  openKeys,
  refusedSnapshotLines,
  statusExitCode,
  type Turn,
  type TurnResult,
  type TurnRunner,
} from "../session/index.ts";
import { type Conversation, openConversation } from "./conversation.ts";
import { type KeySteps, openKeySteps } from "./key-step.ts";
import { statusText, turnOutput, turnText } from "./text.ts";
import {
  type Action,
  TOOL_ANNOTATIONS,
  TOOL_DESCRIPTION,
  TOOL_NAME,
  type ToolInput,
  ToolInputSchema,
  ToolOutputSchema,
} from "./tool.ts";

export interface McpAppOptions {
  /** The skill's config (base URL, models, status file...), as the setup command takes it. */
  config: ConfigInput;
  /** Where TOKENHUB_API_KEY and the XDG folders are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** The server's state folder: conversations/ and the media files live there. */
  stateDir: string;
  logger: Logger;
  version: string;
  /** Where Step-1 looks, when not the person's own places (--simulate hands over its demo key). */
  sources?: Turn["sources"];
  /** How long a key page link works. @default 10 minutes */
  keyPageMs?: number;
  /** How long a call with an accepted URL elicitation waits for the page before it returns. @default 50 s */
  keyWaitMs?: number;
}

type Extra = {
  signal: AbortSignal;
  sessionId?: string;
  requestId: string | number;
  _meta?: { progressToken?: string | number };
  sendNotification: (notification: ServerNotification) => Promise<void>;
};

/**
 * What every connection shares: the config resolved once, one TokenHub client, the conversations. `server()`
 * makes the McpServer of one connection (the SDK binds a server to one transport).
 */
export interface McpApp {
  server(): McpServer;
  /** Closes the key pages: the client is gone, so a call waiting on one returns (and nothing resumes). */
  closePages(): Promise<void>;
  /** An HTTP session ended: its conversations (their pages, held keys and stored flows) go with it. */
  sessionEnded(sessionId: string): Promise<void>;
  readonly recordPath: string;
  close(): Promise<void>;
}

export function createMcpApp(options: McpAppOptions): McpApp {
  const runner: TurnRunner = createTurnRunner(
    {
      ...options.config,
      multimodal: {
        ...options.config.multimodal,
        outputDir: options.config.multimodal?.outputDir ?? join(options.stateDir, "media"),
      },
    },
    { logger: options.logger },
  );
  const store: ConversationStore = createConversationStore(join(options.stateDir, "conversations"));
  const keys = openKeys({ env: options.env, config: runner.config });
  const keySteps: KeySteps = openKeySteps({
    keys,
    config: runner.config,
    env: options.env,
    logger: options.logger,
    ...(options.keyPageMs ? { pageMs: options.keyPageMs } : {}),
  });
  const keyWaitMs = options.keyWaitMs ?? 50_000;
  // The person's places, then a key the conversation's page held in memory (no keychain, no file chosen) as the
  // host's secret.
  const sourcesOf = (conversationId: string) => (): Turn["sources"] =>
    options.sources ?? { ...keys.sources, hostSecret: () => keySteps.heldKey(conversationId) };
  const conversations = new Map<string, Conversation>();
  const target = createHash("sha256")
    .update(JSON.stringify([runner.config.baseUrl, runner.recordPath, runner.config.modelChain]))
    .digest("hex")
    .slice(0, 16);
  const conversationOf = (id: string) => {
    let conversation = conversations.get(id);
    if (!conversation) {
      conversation = openConversation(id, { runner, store, sources: sourcesOf(id) });
      conversations.set(id, conversation);
    }
    return conversation;
  };

  function server(): McpServer {
    const mcp = new McpServer(
      { name: "tokenhub-setup", title: "TokenHub setup", version: options.version },
      {
        instructions: `Call ${TOOL_NAME} with {"action":"start"} when the user wants to set up, connect or verify TokenHub. Never ask for the API key in the chat: the tool opens a local page for it.`,
      },
    );
    mcp.registerTool(
      TOOL_NAME,
      {
        title: TOOL_ANNOTATIONS.title,
        description: TOOL_DESCRIPTION,
        inputSchema: ToolInputSchema,
        outputSchema: ToolOutputSchema,
        annotations: TOOL_ANNOTATIONS,
      },
      async (input: ToolInput, extra: Extra): Promise<CallToolResult> => {
        // The budget of a call that waits on the key page counts from here, time in the queue included.
        const deadline = Date.now() + keyWaitMs;
        // One conversation per client and target: the client's name (given at initialize) survives a restart of
        // this server, and two server entries aimed at different TokenHubs or records keep their setups apart.
        const client = mcp.server.getClientVersion()?.name ?? "client";
        // Over HTTP every MCP session has its own (its session id): a live key page is never another's.
        const session = extra.sessionId === undefined ? "" : `:${extra.sessionId}`;
        const conversation = conversationOf(`mcp:${client}:${target}${session}`);
        // status only reads, and cancel closes the page a waiting call waits on: neither queues behind it.
        if (input.action === "status") return status(conversation);
        if (input.action === "cancel") await keySteps.closePage(conversation.id);
        return conversation.serial(() => call(mcp, conversation, input, extra, deadline));
      },
    );
    return mcp;
  }

  async function call(
    mcp: McpServer,
    conversation: Conversation,
    input: ToolInput,
    extra: Extra,
    deadline: number,
  ): Promise<CallToolResult> {
    const { action } = input;
    if (action === "resume") {
      const finished = conversation.takeUnreported();
      if (finished) return described(action, finished);
    }
    const progress = progressOf(extra);
    const live = { signal: extra.signal, onNotification: progress.flowNotification };
    const result = await conversation.act(action as Exclude<typeof action, "status">, input, live);
    if (!result) return answer("No TokenHub setup is in progress.", { action, state: "none", exitCode: 0 });
    if (!result.rest.needKey) return described(action, result);
    // Step-2 without the chat: the key page, offered by URL elicitation where the client supports it.
    const step = await keySteps.offer(conversation, {
      client: mcp.server,
      relatedRequestId: extra.requestId,
      signal: extra.signal,
      deadline,
      tick: progress.tick,
      resume: () => conversation.act("resume", {}, live),
    });
    if (step.resumed) return described(action, step.resumed);
    return described(action, result, step);
  }

  async function status(conversation: Conversation): Promise<CallToolResult> {
    const record = await runner.readRecord();
    const rest = await conversation.rest();
    return answer(statusText(record, runner.recordPath, Boolean(rest?.needKey)), {
      action: "status",
      state: rest?.state ?? "none",
      exitCode: statusExitCode(rest),
      ...(record ? { record } : {}),
    });
  }

  function described(
    action: Action,
    result: TurnResult,
    step?: { link?: { url: string; expiresAt: number }; elicited?: boolean; note?: string },
  ): CallToolResult {
    const text = [
      turnText(result, {
        recordPath: runner.recordPath,
        ...(step?.link ? { keyPage: step.link } : {}),
        ...(step?.elicited ? { elicited: true } : {}),
      }),
      ...(step?.note ? [step.note] : []),
      ...refusedSnapshotLines(result),
    ].join("\n");
    return answer(text, turnOutput(action, result, step?.link));
  }

  return {
    server,
    closePages: () => keySteps.closePages(),
    async sessionEnded(sessionId) {
      for (const id of [...conversations.keys()].filter((id) => id.endsWith(`:${sessionId}`))) {
        conversations.delete(id);
        await keySteps.forget(id);
        await store.remove(id);
      }
    },
    recordPath: runner.recordPath,
    async close() {
      await keySteps.close();
      await runner.close();
    },
  };
}

function answer(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}

/**
 * MCP progress for a call whose client sent a progress token: the flow's progress lines and the key page's
 * wait, each a step further. Without a token there is nobody to tell, and nothing is sent.
 */
function progressOf(extra: Extra) {
  const token = extra._meta?.progressToken;
  let step = 0;
  const send = (message: string) => {
    if (token === undefined) return;
    step += 1;
    void extra
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: step, message },
      })
      .catch(() => undefined);
  };
  return {
    flowNotification: (n: Notification) => {
      if (n.type === "progress") send(`Step ${n.step}: ${n.title}${n.detail ? ` (${n.detail})` : ""}`);
    },
    tick: send,
  };
}
