// `tokenhub-setup --help` and `--version` answer without loading what only a flow or a server needs, and
// importing the package loads nothing only a request, a log line or a server needs: the modules a process loads
// are listed (a loader hook) and checked by name, never timed.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { EXIT } from "../../src/machine/exit-codes.ts";
import { isolatedEnv, MAIN } from "../helpers/cli.ts";

const RECORD_LOADS = new URL("../helpers/record-loads.ts", import.meta.url).pathname;

const ENTRY = new URL("../../src/index.ts", import.meta.url).href;

/** The URLs of every module `tokenhub-setup args` (or `-e CODE`, an ES module) loaded, after checking it exited 0. */
async function modulesLoadedBy(args: string[], main = MAIN): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "tokenhub-loads-"));
  const file = join(dir, "loaded.txt");
  const isolated = isolatedEnv({ RECORD_LOADS_TO: file });
  try {
    await new Promise<void>((resolve, reject) => {
      const argv = args[0] === "-e" ? ["--input-type=module", ...args] : [main, ...args];
      execFile(process.execPath, ["--import", RECORD_LOADS, ...argv], { env: isolated.env }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
    return readFileSync(file, "utf8").trim().split("\n");
  } finally {
    isolated.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What neither answer needs, by the part of a module's URL that names it. pino is not listed: the CLI's context
 * reaches log.ts, which imports it statically so that bundlers see it (the built bin answers --help and
 * --version without it: "the built bin's quick answers" below).
 */
const NOT_AT_START: ReadonlyArray<[what: string, pattern: RegExp]> = [
  ["undici", /\/node_modules\/undici\//],
  ["zod", /\/node_modules\/zod\//],
  ["xstate", /\/node_modules\/xstate\//],
  [
    "the flow (the session's face past src/session/basics.ts, the chart)",
    /\/src\/(session\/(?!basics\.)|machine\/(?!exit-codes\.))/,
  ],
  ["node:http (which loads Node's own undici)", /^node:https?$/],
  ["the prompt library", /\/node_modules\/@clack\//],
  ["the MCP SDK", /\/node_modules\/@modelcontextprotocol\//],
  ["the simulator", /\/src\/simulator\//],
  ["the MCP server", /\/src\/mcp\//],
  ["the key page", /\/src\/key-page\//],
  ["another command's module", /\/src\/cli\/commands\/(?!help|version)/],
];

describe("start-up", () => {
  for (const args of [["--help"], ["--version"], ["status", "--help"], ["version", "--json"]]) {
    it(`\`tokenhub-setup ${args.join(" ")}\` loads no zod, xstate, undici, flow, simulator, server or prompt library`, async () => {
      const loaded = await modulesLoadedBy(args);
      assert.ok(
        loaded.some((url) => url.endsWith("/src/cli/args.ts")),
        "the hook saw our own modules",
      );
      for (const [what, pattern] of NOT_AT_START) {
        const hits = loaded.filter((url) => pattern.test(url));
        assert.deepEqual(hits, [], `${what} was loaded`);
      }
    });
  }
});

const DIST_MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

/** `node main args` with stdout and stderr as given ("pipe" is read; "closed" is a pipe whose reader is gone). */
function runWith(
  main: string,
  args: string[],
  out: { stdout: "pipe" | "full" | "closed"; stderr: "pipe" | "full" } = { stdout: "pipe", stderr: "pipe" },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const isolated = isolatedEnv();
  const full = openSync("/dev/full", "w");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], {
      env: isolated.env,
      stdio: ["ignore", out.stdout === "full" ? full : "pipe", out.stderr === "full" ? full : "pipe"],
    });
    closeSync(full);
    if (out.stdout === "closed") child.stdout?.destroy();
    let stdout = "";
    let stderr = "";
    if (out.stdout === "pipe") child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => {
      isolated.cleanup();
      resolve({ code, stdout, stderr });
    });
  });
}

// The built bin answers these from a table the build renders by running the command (scripts/bundle-bin.ts).
describe("the built bin's quick answers", () => {
  for (const asked of ["--help", "-h", "help", "--version", "-v", "version"]) {
    it(`\`tokenhub-setup ${asked}\` prints what the command computes, loading nothing past the bin's entry`, async () => {
      const [built, computed] = await Promise.all([runWith(DIST_MAIN, [asked]), runWith(MAIN, [asked])]);
      assert.deepEqual(built, computed);
      assert.equal(built.code, 0);
      assert.notEqual(built.stdout, "");
      const ours = (await modulesLoadedBy([asked], DIST_MAIN)).filter((url) => url.startsWith("file:"));
      assert.deepEqual(ours, [pathToFileURL(DIST_MAIN).href], "the pre-rendered answer was not used");
    });
  }

  it("anything else goes the whole way: `--help --quiet` and `status --help` load the command line", async () => {
    for (const args of [["--help", "--quiet"], ["status", "--help"], ["--HELP"]]) {
      const loaded = await modulesLoadedBy(args, DIST_MAIN).catch(() => [] as string[]);
      const [built, computed] = await Promise.all([runWith(DIST_MAIN, args), runWith(MAIN, args)]);
      assert.deepEqual(built, computed, args.join(" "));
      if (built.code === 0)
        assert.ok(
          loaded.some((url) => /\/bin-[A-Z0-9]+\.mjs$/.test(url)),
          args.join(" "),
        );
    }
  });
});

describe("broken output streams", () => {
  for (const args of [["--help"], ["--version"], ["status", "--help"], ["version", "--json"]]) {
    it(`\`tokenhub-setup ${args.join(" ")} > /dev/full\` says so in one line and exits 1, built or not`, async () => {
      for (const main of [DIST_MAIN, MAIN]) {
        const run = await runWith(main, args, { stdout: "full", stderr: "pipe" });
        assert.deepEqual(
          { code: run.code, stderr: run.stderr },
          { code: 1, stderr: "tokenhub-setup: could not write to stdout: ENOSPC.\n" },
          main,
        );
      }
    });
  }

  // helper-26: a failing stderr ended every run at its first progress line, with exit 1 and nothing on stdout.
  it("a stderr that cannot be written loses the progress lines, not the run: exit 0 and the record on stdout", async () => {
    for (const main of [DIST_MAIN, MAIN]) {
      const run = await runWith(main, ["--simulate", "--json"], { stdout: "pipe", stderr: "full" });
      assert.equal(run.code, EXIT.complete, main);
      assert.equal((JSON.parse(run.stdout) as { integration_status: string }).integration_status, "success");
    }
  });

  // helper-26: a reader gone before the final write made a failed run exit 0.
  it("a reader that closed stdout early does not change the exit code (401: 4)", async () => {
    for (const main of [DIST_MAIN, MAIN]) {
      const args = ["--simulate", "--scenario", "unauthorized", "--json"];
      const run = await runWith(main, args, { stdout: "closed", stderr: "pipe" });
      assert.equal(run.code, EXIT.keyRejected, `${main}: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /could not write|EPIPE|\n\s+at /);
    }
  });
});

describe("importing the package", () => {
  // The entry exports the real schemas and the real chart, so zod and xstate load with it (a lazy entry was tried
  // and dropped: BENCHMARKS.md), and pino too: log.ts imports it statically, as a bundler must see it (a
  // `require` hidden from esbuild broke hosts that bundle their code). What only a request, a server or a person
  // needs waits for its use.
  it("loads no undici, prompt library, MCP SDK, simulator, server or key page", async () => {
    const loaded = await modulesLoadedBy(["-e", `await import(${JSON.stringify(ENTRY)});`]);
    assert.ok(
      loaded.some((url) => url.endsWith("/src/index.ts")),
      "the hook saw the entry",
    );
    const notAtImport: ReadonlyArray<[what: string, pattern: RegExp]> = [
      ["undici", /\/node_modules\/undici\//],
      ["node:http (which loads Node's own undici)", /^node:https?$/],
      ["the prompt library", /\/node_modules\/@clack\//],
      ["the MCP SDK", /\/node_modules\/@modelcontextprotocol\//],
      ["the simulator", /\/src\/simulator\//],
      ["the MCP server", /\/src\/mcp\//],
      ["the key page", /\/src\/key-page\//],
    ];
    for (const [what, pattern] of notAtImport) {
      const hits = loaded.filter((url) => pattern.test(url));
      assert.deepEqual(hits, [], `${what} was loaded`);
    }
  });
});
