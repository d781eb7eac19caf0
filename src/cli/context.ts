import type { Readable, Writable } from "node:stream";
import { createLogger, type Logger } from "../session/basics.ts";
import type { Clock } from "../session/index.ts";
import type { Parsed } from "./args.ts";

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin?: Readable;
  env: Readonly<Record<string, string | undefined>>;
  /** True when a person is at the keyboard (stdin and stderr are terminals): prompts and spinners are allowed. */
  interactive?: boolean;
  /** Registers a Ctrl-C handler; returns its remover. */
  onInterrupt?: (handler: () => void) => () => void;
  version?: string;
  /** The flow's clock (tests pass a virtual one, so waits take no real time). @default the system clock */
  clock?: Clock;
}

/** What every command gets: the parsed line, where to write, and the conventions (colour, quiet, verbose). */
export interface CliContext {
  io: CliIo;
  values: Parsed["values"];
  positionals: string[];
  json: boolean;
  quiet: boolean;
  color: boolean;
  interactive: boolean;
  logger: Logger;
  /** A line for a person, on stderr; dropped with --quiet. */
  info(text: string): void;
  /** A line that always shows (results, errors), on stderr. */
  say(text: string): void;
  /** A command's own output for a person (status, doctor, key where), on stdout, so it pipes into `less`. */
  out(text: string): void;
  paint(style: "green" | "red" | "yellow" | "dim" | "bold", text: string): string;
}

const CODES = { green: [32, 39], red: [31, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22] } as const;

export function createContext(parsed: Parsed, io: CliIo): CliContext {
  const { values } = parsed;
  const json = values.json === true;
  const quiet = values.quiet === true;
  // https://no-color.org: any non-empty NO_COLOR turns colour off; so does --no-color or a non-terminal stderr.
  // Asked when first needed: --help and --version never make stderr.
  let color: boolean | undefined;
  const colored = () => {
    color ??=
      values["no-color"] !== true && !io.env.NO_COLOR && (io.stderr as { isTTY?: boolean }).isTTY === true;
    return color;
  };
  let logger: Logger | undefined;
  const say = (text: string) => void io.stderr.write(`${text}\n`);
  return {
    io,
    values,
    positionals: parsed.positionals,
    json,
    quiet,
    get color() {
      return colored();
    },
    interactive: io.interactive === true && values["no-input"] !== true && !json,
    // Made when first asked for: `--version` and `help` log nothing, and need not load pino.
    get logger() {
      logger ??= createLogger({
        level: values.verbose === true ? "debug" : (io.env.TOKENHUB_SETUP_LOG_LEVEL ?? "error"),
        // Through io.stderr, not fd 2: the caller decides where the (scrubbed) log lines go.
        destination: io.stderr,
      });
      return logger;
    },
    say,
    out: (text) => void io.stdout.write(`${text}\n`),
    info: (text) => {
      if (!quiet) say(text);
    },
    paint: (style, text) =>
      colored() ? `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m` : text,
  };
}

export function stringOption(values: Parsed["values"], name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}
