// The command line against this process: its arguments, streams, signals and environment. Loaded by main.ts
// once the Node version is known to be new enough and no pre-rendered answer applies; main.ts guards the
// streams (what a broken pipe or a full disk does) and sets the exit code this returns.

/** Runs the command line; the exit code. `guard` is main.ts's: called on a stream before it is used. */
export async function start(guard: (stream: NodeJS.WriteStream) => NodeJS.WriteStream): Promise<number> {
  // Node's compile cache (like tsc's own bin): later runs skip re-compiling the modules, 30-60 ms each time.
  const { enableCompileCache } = await import("node:module");
  enableCompileCache?.();

  const { runCli } = await import("./run.ts");
  const { default: pkg } = await import("../../package.json", { with: { type: "json" } });
  const { isatty } = process.getBuiltinModule("node:tty");

  let interrupts = 0;
  return runCli(process.argv.slice(2), {
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
}
