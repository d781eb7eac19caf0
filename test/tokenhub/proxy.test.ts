// The key and proxies, against a real forward proxy in its own process (test/helpers/proxy-server.ts): a
// loopback base URL never goes through a proxy (it used to be sent to it as a plain forward request,
// Authorization included), a remote https: base goes through it only as a CONNECT tunnel, and --simulate works
// with proxy variables set.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseKey } from "../../src/secrets/key.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createTokenHubClient } from "../../src/tokenhub/client.ts";
import { cli } from "../helpers/cli.ts";
import { type ProxyProcess, startProxyProcess } from "../helpers/proxy-process.ts";

const KEY = "sk-proxy-test-5f1e0c9a2b";
const TIMEOUTS = { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000, requestMs: 5_000, totalMs: 10_000 };

/** One chat request through a client whose environment holds `env`; the client is closed after. */
async function chatWith(baseUrl: string, env: Readonly<Record<string, string | undefined>>) {
  const client = createTokenHubClient({ baseUrl, timeouts: TIMEOUTS, maxResponseBytes: 1 << 20, env });
  try {
    return await client.chat({ model: "deepseek-v3.2", stream: false, key: parseKey(KEY, "env") });
  } finally {
    await client.close();
  }
}

describe("proxies never see the key", () => {
  let proxy: ProxyProcess;
  let sim: Simulator;
  before(async () => {
    proxy = await startProxyProcess();
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  it("a loopback base URL is reached directly, whatever HTTP_PROXY and HTTPS_PROXY say", async () => {
    const before = proxy.seen.length;
    for (const env of [
      { HTTP_PROXY: proxy.url },
      { HTTPS_PROXY: proxy.url },
      { http_proxy: proxy.url, https_proxy: proxy.url },
    ]) {
      const response = await chatWith(sim.baseUrl, env);
      assert.equal(response.type === "response" && response.status, 200, JSON.stringify(response));
    }
    assert.deepEqual(proxy.seen.slice(before), [], "the proxy was asked nothing");
  });

  it("a remote https: base goes through the proxy only as a CONNECT tunnel, never with the key", async () => {
    for (const env of [{ HTTPS_PROXY: proxy.url }, { HTTP_PROXY: proxy.url }]) {
      const before = proxy.seen.length;
      // .invalid never resolves (RFC 6761): the proxy cannot open the tunnel, which is all this needs.
      const response = await chatWith("https://tokenhub.invalid/v1", env);
      assert.notEqual(response.type === "response" && response.status, 200);
      // The proxy reports from its own process: its line can come after the client's answer (it did, on a
      // loaded machine), so wait for it (a bounded while) instead of reading at once.
      for (const until = Date.now() + 5_000; proxy.seen.length === before && Date.now() < until; )
        await new Promise((r) => setTimeout(r, 10));
      const seen = proxy.seen.slice(before);
      assert.deepEqual(
        seen,
        [{ method: "CONNECT", url: "tokenhub.invalid:443", authorization: "absent" }],
        JSON.stringify(env),
      );
    }
  });

  it("`tokenhub-setup --simulate` works with proxy variables set (a dead proxy, even)", async () => {
    const run = await cli(["--simulate", "--json"], {
      HTTP_PROXY: "http://127.0.0.1:9",
      HTTPS_PROXY: "http://127.0.0.1:9",
    });
    assert.equal(run.code, 0, run.stderr);
  });
});
