// The package as a host's code meets it: the built entry (dist/, what `npm pack` ships) imported beside its other
// exports in the same tick, its schemas and chart as themselves, and the host's own code bundled by esbuild and run
// from a folder with no node_modules beside it. Issue 15's lazy entry broke all three (helper-24's review) and
// the pino `require` that esbuild could not see broke the last (helper-25's); these are the regressions' tests.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { build } from "esbuild";

const ENTRY = new URL("../../dist/index.js", import.meta.url).pathname;
const MCP = new URL("../../dist/mcp/index.js", import.meta.url).pathname;

/** A session that parks for want of a key: no network, no keychain, nothing written. */
const PARK = `
  const session = createSession({
    config: { baseUrl: "http://127.0.0.1:9/v1" },
    sources: { env: {}, keychain: false },
    store: createMemoryStatusStore(),
    logger: silentLogger(),
  });
  session.send({ type: "SETUP" });
  console.log(await session.untilRest());
  await session.stop();
`;

function node(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd, env: { PATH: process.env.PATH ?? "" } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("the package as a host imports it", () => {
  it("answers a call made while another of its exports is still loading (same tick)", async () => {
    const script = `
      const { createSession, createMemoryStatusStore, silentLogger } = await import(${JSON.stringify(ENTRY)});
      const mcp = import(${JSON.stringify(MCP)});
      ${PARK}
      await mcp;
    `;
    const run = await node(["--input-type=module", "-e", script], tmpdir());
    assert.equal(run.stderr, "");
    assert.equal(run.stdout.trim(), "awaitingKey");
  });

  it("hands out its schemas and chart as themselves: registries, wrappers and the machine keep identity", async () => {
    const pkg = (await import(ENTRY)) as typeof import("../../src/index.ts");
    const { z } = await import("zod");
    const S = pkg.CompletionRecordSchema;
    const registry = z.registry<{ title: string }>();
    S.register(registry, { title: "record" });
    assert.equal(registry.get(S)?.title, "record");
    assert.equal(S.optional().unwrap(), S);
    assert.equal(z.array(S).element, S);
    assert.ok(S instanceof z.ZodObject);
    assert.equal(pkg.setupMachine.root.machine, pkg.setupMachine);
    const { inspect } = await import("node:util");
    assert.notEqual(inspect(S), "{}");
  });

  for (const format of ["esm", "cjs"] as const) {
    it(`runs inside a host bundled by esbuild (${format}), shipped without node_modules`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "tokenhub-host-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const source = join(dir, "host.mjs");
      writeFileSync(
        source,
        `import { createMemoryStatusStore, createSession, silentLogger } from ${JSON.stringify(ENTRY)};
         const main = async () => { ${PARK} };
         main();`,
      );
      const out = join(dir, "out", format === "esm" ? "host.mjs" : "host.cjs");
      const result = await build({
        entryPoints: [source],
        bundle: true,
        platform: "node",
        format,
        outfile: out,
        logLevel: "silent",
        // What an ES bundle of CommonJS code (pino, undici) needs to require Node's own modules.
        banner:
          format === "esm"
            ? {
                js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
              }
            : {},
      });
      assert.deepEqual(result.errors, []);
      const run = await node([out], join(dir, "out"));
      assert.equal(run.stderr, "", "the bundled host failed");
      assert.equal(run.stdout.trim(), "awaitingKey");
    });
  }
});
