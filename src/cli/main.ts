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

// `--help` and `--version` as the bundled bin answers them: rendered at build by the command itself
// (scripts/bundle-bin.ts) and written here without loading the rest, so the commonest quick questions cost about
// what starting Node does (issue 15). From the sources (no build) there is no table and every answer is computed.
// JSON in a string: the build's define (an object literal would not stay in this file).
const rendered = (globalThis as { TOKENHUB_PRERENDERED?: string }).TOKENHUB_PRERENDERED;
const table: Readonly<Record<string, string>> | undefined = rendered ? JSON.parse(rendered) : undefined;
const asked = process.argv.length === 3 ? (process.argv[2] as string) : undefined;
const quick = table && asked !== undefined && Object.hasOwn(table, asked) ? table[asked] : undefined;
if (quick === undefined) {
  await import("./start.ts");
} else {
  // `tokenhub-setup --help | head` closes the pipe early: the reader's choice, as in start.ts.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  process.stdout.write(quick);
}
