// The things the flow benchmarks compare, all aimed at one simulator URL:
//   flow    Steps 1-5 through createSession (key from an env object, in-memory record store, shared client)
//   turn    the same through runTurn (one call per turn; also takes the snapshot a turn hands back)
//   bare    undici.request of the same probe (same URL, headers, body) on the same Agent; the body is read
//   openai  the official client's chat.completions.create, maxRetries 0 (its own fetch and pool)
//   replay  the flow with no network: createSession as `flow`, with a client that hands back the response the
//           real client got the first time (recorded once, then replayed), so the HTTP request is not made

import { Agent, request } from "undici";
import { silentLogger } from "../../src/log.ts";
import { createSession, runTurn } from "../../src/session/index.ts";
import { resolveConfig } from "../../src/session/session.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";
import {
  createTokenHubClient,
  PROBE_PROMPT,
  type ProbeResponse,
  type TokenHubClient,
} from "../../src/tokenhub/client.ts";

export const BENCH_KEY = "sk-bench-0123456789abcdef0123456789abcdef";
const MODEL = "deepseek-v3.2";

export interface FlowKit {
  endpoint: URL;
  agentOptions: Agent.Options;
  flow(): Promise<void>;
  turn(): Promise<void>;
  bare(): Promise<void>;
  openai(): Promise<void>;
  replay(): Promise<void>;
  /** The flow, which may end any way: its status and, unless complete, its output as JSON text. */
  attempt(): Promise<{ status: string; output?: string }>;
  /** The record the last `flow()` wrote, for the record-write benchmark. */
  lastRecord(): unknown;
  close(): Promise<void>;
}

/**
 * The Agent the client would make for itself (src/tokenhub/client.ts), shared here by the session client and
 * the bare requests so both draw on one pool with the same settings. `connections` caps sockets per origin
 * (undefined: no cap, the client's own default).
 */
export function clientAgentOptions(connections?: number): Agent.Options {
  const { timeouts } = resolveConfig({});
  return {
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: 4_000,
    ...(connections === undefined ? {} : { connections }),
  };
}

/**
 * `connections` caps the shared Agent's sockets per origin (both the flows' client and the bare requests use
 * it). `clientDefaults`: the flows' client makes its own dispatcher, as a host that passes none gets (the bare
 * requests keep the bench's Agent).
 */
export function createFlowKit(
  baseUrl: string,
  options: { connections?: number; clientDefaults?: boolean } = {},
): FlowKit {
  const config = resolveConfig({ baseUrl });
  const agentOptions = clientAgentOptions(options.connections);
  const agent = new Agent(agentOptions);
  const client = createTokenHubClient({
    baseUrl: config.baseUrl,
    timeouts: config.timeouts,
    maxResponseBytes: config.maxResponseBytes,
    ...(options.clientDefaults ? {} : { dispatcher: agent }),
  });
  let recorded: ProbeResponse | undefined;
  const replayClient: TokenHubClient = {
    baseUrl: client.baseUrl,
    endpoint: client.endpoint,
    async chat(probe) {
      recorded ??= await client.chat(probe);
      return recorded;
    },
    call: (req) => client.call(req),
    close: async () => {},
  };
  const endpoint = client.endpoint;
  const logger = silentLogger();
  const sources = { env: { TOKENHUB_API_KEY: BENCH_KEY }, keychain: false as const };
  // Loaded on first use: a child process that measures another variant does not pay for importing it.
  let openai: import("openai").OpenAI | undefined;
  // What client.chat sends, byte for byte.
  const body = JSON.stringify({
    model: MODEL,
    messages: [{ role: "user", content: PROBE_PROMPT }],
    max_tokens: 32,
    temperature: 0,
  });
  const headers = {
    authorization: `Bearer ${BENCH_KEY}`,
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": "tokenhub-setup",
  };
  let record: unknown;
  const runFlow = async (withClient: TokenHubClient) => {
    const store = createMemoryStatusStore();
    const session = createSession({ config: { baseUrl }, sources, store, client: withClient, logger });
    try {
      session.send({ type: "SETUP" });
      await session.untilRest();
      const output = await session.done();
      if (output.status !== "complete") throw new Error(`flow ended ${output.status}`);
      record = store.records[0];
    } finally {
      await session.stop();
    }
  };

  return {
    endpoint,
    agentOptions,
    flow: () => runFlow(client),
    async attempt() {
      const store = createMemoryStatusStore();
      const session = createSession({ config: { baseUrl }, sources, store, client, logger });
      try {
        session.send({ type: "SETUP" });
        await session.untilRest();
        const output = await session.done();
        return output.status === "complete"
          ? { status: output.status }
          : { status: output.status, output: JSON.stringify(output) };
      } finally {
        await session.stop();
      }
    },
    replay: () => runFlow(replayClient),
    async turn() {
      const store = createMemoryStatusStore();
      const result = await runTurn({
        event: { type: "SETUP" },
        config: { baseUrl },
        sources,
        store,
        client,
        logger,
      });
      if (result.output?.status !== "complete") throw new Error(`turn ended ${result.state}`);
    },
    async bare() {
      const response = await request(endpoint, { method: "POST", dispatcher: agent, headers, body });
      const json = (await response.body.json()) as { choices?: { message?: { content?: string } }[] };
      if (response.statusCode !== 200 || json.choices?.[0]?.message?.content !== "OK") {
        throw new Error(`bare request got ${response.statusCode}`);
      }
    },
    async openai() {
      openai ??= new (await import("openai")).OpenAI({ apiKey: BENCH_KEY, baseURL: baseUrl, maxRetries: 0 });
      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: PROBE_PROMPT }],
        max_tokens: 32,
        temperature: 0,
      });
      if (completion.choices[0]?.message.content !== "OK") throw new Error("openai client: no OK");
    },
    lastRecord: () => record,
    async close() {
      await client.close();
      await agent.close();
    },
  };
}
