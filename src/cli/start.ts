// The command line against this process: its streams, signals, environment and exit code. Loaded by main.ts
// once the Node version is known to be new enough and no pre-rendered answer applies.

// Node's compile cache (like tsc's own bin): later runs skip re-compiling the modules, 30-60 ms each time.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();

const { runCli } = await import("./run.ts");
const { default: pkg } = await import("../../package.json", { with: { type: "json" } });

// `tokenhub-setup ... | head` closes the pipe early: that is the reader's choice, not an error worth a stack.
// Each stream is guarded when it is first used: making process.stderr costs a stream that --help never writes to.
const guarded = new WeakSet<NodeJS.WriteStream>();
const guard = (stream: NodeJS.WriteStream) => {
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  return stream;
};
const { isatty } = process.getBuiltinModule("node:tty");

let interrupts = 0;
const code = await runCli(process.argv.slice(2), {
  get stdout() {
    return guard(process.stdout);
  },
  get stderr() {
    return guard(process.stderr);
  },
  // Made when a command reads it: process.stdin builds a stream (for a file or /dev/null, fs streams and
  // readline's modules), ~4 ms that --help, --version and most runs never need.
  get stdin() {
    return process.stdin;
  },
  env: process.env,
  // Prompts only when a person is at the keyboard: stdin to type into, stderr to draw on (asked of the file
  // descriptors, which is what the streams' isTTY says, without making the streams).
  interactive: isatty(2) && isatty(0),
  version: pkg.version,
  onInterrupt(handler) {
    const onSigint = () => {
      interrupts += 1;
      // A second Ctrl-C means "now": writes are atomic, so leaving mid-flight cannot tear a file.
      if (interrupts > 1) process.exit(130);
      handler();
    };
    process.on("SIGINT", onSigint);
    return () => process.off("SIGINT", onSigint);
  },
});
process.exitCode = code;
