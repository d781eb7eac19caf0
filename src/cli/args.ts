import { parseArgs } from "node:util";
import { MEDIA, VIDEO_PROTOCOLS } from "../session/basics.ts";
import { closest } from "./suggest.ts";

/**
 * Every command's options and help, in one table: the parser (Node's util.parseArgs, strict) and `--help`
 * read the same entries, so the help cannot list an option the parser does not take.
 */
export type OptionSpec = {
  type: "boolean" | "string";
  short?: string;
  multiple?: boolean;
  arg?: string;
  help: string;
  /**
   * What shell completion offers for the value: fixed words, the simulator's scenario names, a file, a folder
   * or a command. A string option without it takes free text (nothing is offered).
   */
  complete?: readonly string[] | "scenarios" | "file" | "dir" | "command";
};

const COMMON: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", help: "Show this help." },
  "no-color": { type: "boolean", help: "No colours (also: NO_COLOR set in the environment)." },
  quiet: { type: "boolean", short: "q", help: "Only the result and errors." },
  verbose: { type: "boolean", help: "Debug logs (JSON lines, keys scrubbed) on stderr." },
  version: {
    type: "boolean",
    short: "v",
    help: "Show the version and exit (as JSON with --json, where taken).",
  },
};

/** Which TokenHub a flow runs against and where its record goes: the flags `setup` and `mcp` share. */
const TARGET_OPTIONS: Record<string, OptionSpec> = {
  "base-url": {
    type: "string",
    arg: "URL",
    help: "TokenHub API base (default https://tokenhub.link/v1; http: only on loopback).",
  },
  model: {
    type: "string",
    multiple: true,
    arg: "M",
    help: "Model format to try; repeat for a fallback chain.",
  },
  "status-file": {
    type: "string",
    arg: "F",
    help: "Where to write the record (default $XDG_STATE_HOME/tokenhub-setup/status.json).",
    complete: "file",
  },
  simulate: {
    type: "boolean",
    help: "Use the built-in simulator with a demo key instead of TokenHub; the real record is not touched.",
  },
  scenario: {
    type: "string",
    arg: "NAME",
    help: "With --simulate: the scenario to play (default happy).",
    complete: "scenarios",
  },
};

interface CommandSpec {
  usage: string;
  /** One line in the command list of `tokenhub-setup --help`. */
  brief: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** The words the command takes after its name (none when absent); shell completion offers them. */
  positionals?: () => readonly string[];
  examples: string[];
}

export const COMMANDS: Record<string, CommandSpec> = {
  setup: {
    usage: "tokenhub-setup [setup] [options]",
    brief: "(the default) run Steps 1-5 and write the integration record",
    summary:
      "Run TokenHub's agent quickstart (Steps 1-5): read the key, send one minimal chat completion, validate it,\nwrite the integration record. On a terminal it asks for a missing key with hidden input; off a terminal it\nnever prompts and exits 3.",
    options: {
      json: {
        type: "boolean",
        help: "Print the record (or the failure) as JSON on stdout; human text stays on stderr.",
      },
      ...TARGET_OPTIONS,
      stream: { type: "boolean", help: "Validate over a server-sent-event stream." },
      multimodal: {
        type: "string",
        arg: "LIST",
        help: "After the text check, also check image and/or video generation (image,video); files are saved.",
        complete: ["image", "video", "image,video"],
      },
      "output-dir": {
        type: "string",
        arg: "DIR",
        help: "Where --multimodal saves files; never cleaned (default $XDG_STATE_HOME/tokenhub-setup/media; with --simulate, a run folder under $XDG_CACHE_HOME/tokenhub-setup/simulated-media that the next simulated run removes).",
        complete: "dir",
      },
      "max-media-bytes": {
        type: "string",
        arg: "N",
        help: "Largest image or video file --multimodal downloads, in bytes (default 209715200, 200 MiB; 16777216, 16 MiB, with --simulate).",
      },
      "image-model": {
        type: "string",
        arg: "M",
        help: `Image model (default ${MEDIA.image.model}).`,
      },
      "video-model": {
        type: "string",
        arg: "M",
        help: `Video model (default ${MEDIA.video.model}).`,
      },
      "video-protocol": {
        type: "string",
        arg: "P",
        help: `How the video task is created: ${VIDEO_PROTOCOLS.join(", ")} (default quickstart: {model, prompt}).`,
        complete: VIDEO_PROTOCOLS,
      },
      "poll-interval": {
        type: "string",
        arg: "S",
        help: "Seconds between video task polls (default 12; 0.5 with --simulate).",
      },
      "transfer-command": {
        type: "string",
        arg: "CMD",
        help: "Run after each saved file with its path appended (split on spaces, no shell), e.g. to copy it to object storage.",
        complete: "command",
      },
      "no-input": { type: "boolean", help: "Never prompt, even on a terminal." },
      "key-page": {
        type: "boolean",
        help: "Ask for a missing key on a one-time page on 127.0.0.1 (the link is printed) instead of the terminal: for runs without one.",
      },
    },
    examples: [
      "tokenhub-setup                                   # on a terminal: guided, asks for the key if needed",
      "TOKENHUB_API_KEY=... tokenhub-setup --json       # in CI: record on stdout, exit code says how it went",
      "tokenhub-setup --simulate --scenario server-503-always",
      "tokenhub-setup --key-page --json                 # no terminal: enter the key in a browser",
      "tokenhub-setup --model deepseek-v3.2 --model alibaba/deepseek-v3.2",
      "tokenhub-setup --multimodal image,video --output-dir ./tokenhub-media",
      "tokenhub-setup --simulate --multimodal image,video",
      "# the file's path is appended to the command, so here it follows -T: curl PUTs each file to that folder URL",
      "# and prints the object's URL (recorded as the location); for S3 see README: Object storage hook",
      'tokenhub-setup --multimodal image --transfer-command "curl -fsS -o /dev/null -w %{url_effective} https://uploads.example.com/tokenhub/ -T"',
    ],
  },
  status: {
    usage: "tokenhub-setup status [options]",
    brief: "show the recorded integration, or check the key with TokenHub now (--check)",
    summary:
      "Show the recorded integration (on stdout). Exit 0 only when the last run verified it; 1 when it failed, was\ncancelled, or a later run ended without a verdict (no key found). --check asks TokenHub now instead.",
    options: {
      json: { type: "boolean", help: "Print the record (with --check: the check) as JSON on stdout." },
      check: {
        type: "boolean",
        help: "Read every key source again (masked), and send the quickstart's probe once with the key a run would use; writes nothing. Exit 0 accepted, 3 no key, 4 rejected, 7 local fault, 1 other.",
      },
      "base-url": {
        type: "string",
        arg: "URL",
        help: "With --check: the API base to ask (default https://tokenhub.link/v1).",
      },
      model: { type: "string", arg: "M", help: "With --check: the model to ask (default deepseek-v3.2)." },
      "status-file": {
        type: "string",
        arg: "F",
        help: "The record to read (default $XDG_STATE_HOME/tokenhub-setup/status.json).",
        complete: "file",
      },
    },
    examples: [
      "tokenhub-setup status",
      "tokenhub-setup status --json | jq .model",
      "tokenhub-setup status --check          # which key is where, and does TokenHub accept it now",
    ],
  },
  key: {
    usage: "tokenhub-setup key set|clear|where [options]",
    brief: "store, remove or locate the key: OS keychain, or a 0600 file by choice (never printed)",
    positionals: () => KEY_ACTIONS,
    summary:
      "Manage the stored key without ever printing it.\n  set    store it in the OS keychain (hidden input on a terminal, or --stdin); says first if no keychain works\n  clear  remove it from the OS keychain and the key file\n  where  say which source a run would use now: environment, keychain, key file, or none",
    options: {
      stdin: { type: "boolean", help: "With set: read the key from standard input instead of prompting." },
      "insecure-storage": {
        type: "boolean",
        help: "With set: where no OS keychain works, keep the key in a plaintext file readable only by you ($XDG_CONFIG_HOME/tokenhub-setup/api-key, mode 0600). Read after the keychain.",
      },
      "show-masked": { type: "boolean", help: "With where: also show a masked form such as sk-…9f2c." },
      json: {
        type: "boolean",
        help: "Print the answer as JSON on stdout ({stored}, {removed, fileRemoved} or {source}; a failure with its error).",
      },
    },
    examples: [
      "tokenhub-setup key set",
      "pass show tokenhub | tokenhub-setup key set --stdin",
      "tokenhub-setup key set --insecure-storage     # no keychain here (a server, a container)",
      "tokenhub-setup key where --show-masked",
    ],
  },
  doctor: {
    usage: "tokenhub-setup doctor [options]",
    brief: "explain what could stand in the way (no key is sent)",
    summary:
      "Check and explain, on one screen: Node version, base URL reachability and TLS, clock skew, key source,\nkeychain availability, status file writability, proxy variables. Exit 1 when a check fails.",
    options: {
      json: { type: "boolean", help: "Print the checks as JSON on stdout." },
      "base-url": {
        type: "string",
        arg: "URL",
        help: "The base URL to check (default https://tokenhub.link/v1).",
      },
      "status-file": { type: "string", arg: "F", help: "The record path to check.", complete: "file" },
    },
    examples: ["tokenhub-setup doctor", "tokenhub-setup doctor --json"],
  },
  simulate: {
    usage: "tokenhub-setup simulate [options]",
    brief: "run the TokenHub simulator in the foreground",
    summary:
      "Run the TokenHub simulator in the foreground, for testing your own agents against TokenHub's behaviours\n(errors, rate limits, streams). Any bearer key is accepted. Ctrl-C stops it.",
    options: {
      scenario: {
        type: "string",
        arg: "NAME",
        help: "The scenario to play (default happy).",
        complete: "scenarios",
      },
      port: { type: "string", arg: "P", help: "Port on 127.0.0.1 (default: any free port)." },
      "list-scenarios": { type: "boolean", help: "List the scenarios and exit." },
      json: {
        type: "boolean",
        help: "The scenario list as JSON (name, description, routes); when serving, {baseUrl, scenario} on stdout.",
      },
    },
    examples: [
      "tokenhub-setup simulate --list-scenarios",
      "tokenhub-setup simulate --list-scenarios --json | jq -r '.[].name'",
      "tokenhub-setup simulate --scenario rate-limited-seconds --port 8787",
    ],
  },
  mcp: {
    usage: "tokenhub-setup mcp [options]",
    brief: "serve the setup as an MCP server (stdio, or --http); the key is entered on a local page",
    summary:
      "Serve the setup to an MCP client (Claude Code, VS Code, Cursor, OpenClaw...) as the tool tokenhub_setup, on\nstdio (stdout carries only the protocol) or, with --http, Streamable HTTP on 127.0.0.1. A missing key is\nentered on a page on 127.0.0.1, never in the chat (a URL elicitation where the client supports it).",
    options: {
      http: { type: "boolean", help: "Serve Streamable HTTP on 127.0.0.1 instead of stdio; prints the URL." },
      port: { type: "string", arg: "P", help: "With --http: the port (default: any free port)." },
      json: {
        type: "boolean",
        help: "With --http: the first line on stdout is {url} as JSON (stdio speaks JSON-RPC on stdout anyway).",
      },
      ...TARGET_OPTIONS,
    },
    examples: [
      "tokenhub-setup mcp                               # what an MCP client's server entry runs",
      "claude mcp add tokenhub -- tokenhub-setup mcp     # with tokenhub-setup on PATH (README: In any MCP client)",
      "# OpenClaw: openclaw mcp add tokenhub --command tokenhub-setup --arg mcp",
      "tokenhub-setup mcp --http --port 8765          # Streamable HTTP on http://127.0.0.1:8765/mcp",
      "tokenhub-setup mcp --simulate                    # try it without a key or the internet",
    ],
  },
  help: {
    usage: "tokenhub-setup help [command]",
    brief: "show the help of a command (the same text as `<command> --help`)",
    summary: "Show the help of a command: the same text as `tokenhub-setup <command> --help`.",
    options: {},
    positionals: () => COMMAND_NAMES,
    examples: ["tokenhub-setup help", "tokenhub-setup help key"],
  },
  completion: {
    usage: "tokenhub-setup completion bash|zsh|fish",
    brief: "print a shell completion script (commands, options, scenario names)",
    summary:
      "Print a completion script for bash, zsh or fish: commands, each command's options, key actions, scenario\nnames and option values. It completes `tokenhub-setup` as a command on PATH (see the README: install it on PATH).",
    options: {},
    positionals: () => SHELLS,
    examples: [
      "source <(tokenhub-setup completion bash)     # this shell only; or, for every new one (bash-completion):",
      "tokenhub-setup completion bash > ~/.local/share/bash-completion/completions/tokenhub-setup",
      "tokenhub-setup completion zsh > ~/.zfunc/_tokenhub-setup   # with fpath=(~/.zfunc $fpath) before compinit",
      "tokenhub-setup completion fish > ~/.config/fish/completions/tokenhub-setup.fish",
    ],
  },
  version: {
    usage: "tokenhub-setup version [options]",
    brief: "show the version (also: --version or -v on any command)",
    summary: "Show the version of tokenhub-setup (also: --version or -v on any command).",
    options: {
      json: { type: "boolean", help: "Print name, version and the Node.js version as JSON on stdout." },
    },
    examples: ["tokenhub-setup version", "tokenhub-setup version --json"],
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

/** Whether a word names a command: its own key, so `constructor` or `__proto__` is a mistyped command, not one. */
export const isCommand = (word: string): boolean => Object.hasOwn(COMMANDS, word);
export const KEY_ACTIONS = ["set", "clear", "where"] as const;
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** A command line the parser refuses: the message is one sentence without its final period. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What to say about a word that is not a command: the nearest command if one is close, else the list. */
export function unknownWord(kind: string, word: string, known: readonly string[]): string {
  const near = closest(word, known);
  return near
    ? `unknown ${kind} '${word}' (did you mean \`${near}\`?)`
    : `unknown ${kind} '${word}' (${kind}s: ${known.join(", ")})`;
}

export interface Parsed {
  command: string;
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

/** Every option a command takes, its own and the common ones (what the parser accepts, what help lists). */
export function optionsOf(command: string): Record<string, OptionSpec> {
  return { ...(COMMANDS[command] as CommandSpec).options, ...COMMON };
}

/**
 * Splits off the command word (default `setup`) and parses the rest strictly. Throws a UsageError (a mistyped
 * command or option says what was probably meant) or parseArgs' own error.
 */
export function parseCommandLine(input: string[]): Parsed {
  const argv = commandFirst(input);
  const first = argv[0];
  // `setup` takes no words, so a first word that is not an option is a command: known, or mistyped.
  if (first !== undefined && !first.startsWith("-") && !isCommand(first))
    throw new UsageError(unknownWord("command", first, COMMAND_NAMES));
  const command = first !== undefined && isCommand(first) ? first : "setup";
  const rest = command === first ? argv.slice(1) : argv;
  const spec = COMMANDS[command] as CommandSpec;
  const all = optionsOf(command);
  const options = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: spec.positionals !== undefined,
      options,
    });
    return { command, positionals, values: values as Parsed["values"] };
  } catch (err) {
    // parseArgs says "Unknown option '--sim'"; the nearest option it would have taken is more useful.
    const unknown = /^Unknown option '(--[^'=]+)'/.exec((err as Error).message)?.[1];
    const near = unknown
      ? closest(
          unknown,
          Object.keys(all).map((name) => `--${name}`),
        )
      : undefined;
    if (unknown && near) throw new UsageError(`unknown option '${unknown}' (did you mean \`${near}\`?)`);
    throw err;
  }
}

/**
 * `tokenhub-setup --no-color status` means `status --no-color`, as git and gh read it: leading flags that take
 * no value (those every command has, and --json) move after a command word that follows them.
 */
function commandFirst(argv: string[]): string[] {
  const leading = (arg: string) => GLOBAL_FLAGS.has(arg);
  let i = 0;
  while (i < argv.length && leading(argv[i] as string)) i++;
  const word = argv[i];
  if (i === 0 || word === undefined || !isCommand(word)) return argv;
  return [word, ...argv.slice(0, i), ...argv.slice(i + 1)];
}

const GLOBAL_FLAGS: ReadonlySet<string> = new Set([
  "--json",
  ...Object.entries(COMMON).flatMap(([name, o]) =>
    o.type === "boolean" ? [`--${name}`, ...(o.short ? [`-${o.short}`] : [])] : [],
  ),
]);

export function helpText(command: string): string {
  const spec = COMMANDS[command] as CommandSpec;
  const line = (name: string, o: OptionSpec) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.arg ? ` ${o.arg}` : ""}`;
    return `  ${flag.padEnd(26)} ${o.help}`;
  };
  const parts = [
    `Usage: ${spec.usage}`,
    "",
    spec.summary,
    "",
    "Options:",
    ...Object.entries(optionsOf(command)).map(([n, o]) => line(n, o)),
    "",
    "Examples:",
    ...spec.examples.map((e) => `  ${e}`),
  ];
  if (command === "setup") {
    parts.push(
      "",
      "Commands (`tokenhub-setup help <command>` or `<command> --help` for each):",
      ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.brief}`),
      "",
      "Exit codes:",
      "  0 complete   1 other failure   2 usage error   3 key missing   4 key rejected (401)",
      "  5 escalated  6 invalid response   7 local fault (network, DNS, proxy, base URL)   130 cancelled (Ctrl-C)",
    );
  }
  return `${parts.join("\n")}\n`;
}
