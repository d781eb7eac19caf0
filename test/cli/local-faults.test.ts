import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { CompletionRecordSchema } from "../../src/schema/record.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { cli } from "../helpers/cli.ts";

// Issue 11, item 5: faults on the user's side (no network, refused, a base URL that is not the API) are theirs to
// fix: their own exit code, a local remedy, no Enterprise Support. Failure records carry the request ids they cite.

const KEY = "sk-localfault-0123456789abcdef";

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

describe("local faults (issue 11, item 5)", () => {
  let dir: string;
  let closedPort: number;
  let webPage: Server;
  let webPort: number;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-local-"));
    const probe = createServer();
    closedPort = await listen(probe);
    await new Promise((r) => probe.close(r));
    // A web server, not an API: what a base URL without /v1 or a mistyped host often reaches.
    webPage = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/html" }).end("<html><h1>404 Not Found</h1></html>");
    });
    webPort = await listen(webPage);
  });
  after(async () => {
    await new Promise((r) => webPage.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("connection refused on every attempt exits 7 with a local remedy, and names no Enterprise Support", async () => {
    const file = join(dir, "refused.json");
    const r = await cli(
      ["--json", "--base-url", `http://127.0.0.1:${closedPort}/v1`, "--status-file", file],
      { TOKENHUB_API_KEY: KEY },
    );
    assert.equal(r.code, EXIT.localFault, r.stderr);
    const record = CompletionRecordSchema.parse(JSON.parse(r.stdout));
    assert.equal(record.failure?.code, "unreachable");
    assert.match(record.failure?.remedy ?? "", /network, DNS and proxy/);
    assert.doesNotMatch(`${r.stderr}${r.stdout}`, /Enterprise Support/);
    assert.match(r.stderr, /doctor/);
  });

  it("a base URL that answers with a web page's 404 exits 7 (wrong_base_url), not 5", async () => {
    const r = await cli(
      ["--json", "--base-url", `http://127.0.0.1:${webPort}`, "--status-file", join(dir, "web.json")],
      {
        TOKENHUB_API_KEY: KEY,
      },
    );
    assert.equal(r.code, EXIT.localFault, r.stderr);
    const record = CompletionRecordSchema.parse(JSON.parse(r.stdout));
    assert.equal(record.failure?.code, "wrong_base_url");
    assert.match(record.failure?.remedy ?? "", /\/v1/);
    assert.doesNotMatch(r.stderr, /Enterprise Support/);
  });

  it("the simulator without /v1 (its unknown-route 404) is a wrong base URL too", async () => {
    const sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
    try {
      const bare = sim.baseUrl.replace(/\/v1$/, "");
      const r = await cli(["--json", "--base-url", bare, "--status-file", join(dir, "bare.json")], {
        TOKENHUB_API_KEY: KEY,
      });
      assert.equal(r.code, EXIT.localFault, r.stderr);
      assert.equal(JSON.parse(r.stdout).failure.code, "wrong_base_url");
    } finally {
      await sim.close();
    }
  });

  it("an escalation's record carries the request ids its remedy cites", async () => {
    const sim = await startSimulator({ scenario: "server-503-always", acceptKeys: [KEY] });
    try {
      const r = await cli(["--json", "--base-url", sim.baseUrl, "--status-file", join(dir, "503.json")], {
        TOKENHUB_API_KEY: KEY,
      });
      assert.equal(r.code, EXIT.escalated, r.stderr);
      const record = CompletionRecordSchema.parse(JSON.parse(r.stdout));
      assert.match(record.failure?.remedy ?? "", /request ids in the record \(result\.request_ids\)/);
      assert.equal(record.result.request_ids.length, 3, JSON.stringify(record.result));
      for (const id of record.result.request_ids) assert.ok(r.stderr.includes(id), `${id} on stderr`);
    } finally {
      await sim.close();
    }
  });

  it("doctor fails a base URL that answers, but not like TokenHub's API, and passes the simulator's", async () => {
    const web = await cli(["doctor", "--json", "--base-url", `http://127.0.0.1:${webPort}/v1`]);
    const webApi = JSON.parse(web.stdout).checks.find((c: { name: string }) => c.name === "API");
    assert.equal(webApi?.status, "fail", web.stdout);
    assert.match(webApi.detail, /HTTP 404 \(text\/html\)/);
    assert.equal(web.code, EXIT.failure);

    const sim = await startSimulator({ scenario: "happy" });
    try {
      const ok = await cli(["doctor", "--json", "--base-url", sim.baseUrl]);
      const api = JSON.parse(ok.stdout).checks.find((c: { name: string }) => c.name === "API");
      assert.equal(api?.status, "ok", ok.stdout);
      const bare = await cli(["doctor", "--json", "--base-url", sim.baseUrl.replace(/\/v1$/, "")]);
      const warn = JSON.parse(bare.stdout).checks.find((c: { name: string }) => c.name === "API");
      assert.equal(warn?.status, "warn", bare.stdout);
      assert.match(warn.detail, /does not end in a version/);
    } finally {
      await sim.close();
    }
  });
});
