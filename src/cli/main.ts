#!/usr/bin/env node
// The `tokenhub-setup` command. This file is kept free of imports that need a newer Node, so that on an old
// Node the person gets a sentence instead of a syntax or undici error.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `tokenhub-setup needs Node.js 22.19 or newer; this is ${process.versions.node}. In a clone of the project, run \`npx tokenhub-setup\` there (it runs on the project's own Node 24); otherwise install a current Node (https://nodejs.org).\n`,
  );
  process.exit(2);
}

/**
 * A broken output stream is answered here, for both paths below, and never ends a run early: the flow goes on,
 * its record is written, and the exit code is the command's.
 * - stdout closed by its reader (`tokenhub-setup ... | head`, EPIPE): the reader's choice; the rest is dropped.
 * - stdout failing otherwise (a full disk): one line on stderr, and exit 1 where the command would give 0, since
 *   its answer was lost.
 * - stderr failing (closed, full): the progress lines and logs are dropped; stdout and the exit code still say
 *   how it went (an MCP client's stderr log on a full disk must not kill the server).
 * Each stream is guarded when first used: making process.stderr costs a stream that --help never writes to.
 */
const guarded = new WeakSet<NodeJS.WriteStream>();
let stdoutLost = false;
// A method, not a named function: the bundle's keepNames would import its naming helper from a shared chunk.
const streams = {
  guard(stream: NodeJS.WriteStream): NodeJS.WriteStream {
    if (guarded.has(stream)) return stream;
    guarded.add(stream);
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (stream !== process.stdout || err.code === "EPIPE" || stdoutLost) return;
      stdoutLost = true;
      streams
        .guard(process.stderr)
        .write(`tokenhub-setup: could not write to stdout: ${err.code ?? err.message}.\n`);
      process.exitCode ||= 1;
    });
    return stream;
  },
};

// `--help` and `--version` as the bundled bin answers them: rendered at build by the command itself
// (scripts/bundle-bin.ts) and written here without loading the rest, so the commonest quick questions cost about
// what starting Node does (issue 15). From the sources (no build) there is no table and every answer is computed.
// JSON in a string: the build's define (an object literal would not stay in this file).
const rendered = (globalThis as { TOKENHUB_PRERENDERED?: string }).TOKENHUB_PRERENDERED;
const table: Readonly<Record<string, string>> | undefined = rendered ? JSON.parse(rendered) : undefined;
const asked = process.argv.length === 3 ? (process.argv[2] as string) : undefined;
const quick = table && asked !== undefined && Object.hasOwn(table, asked) ? table[asked] : undefined;
if (quick === undefined) {
  const { start } = await import("./start.ts");
  const code = await start(streams.guard);
  process.exitCode = stdoutLost && code === 0 ? 1 : code;
} else {
  streams.guard(process.stdout).write(quick);
}
