import { parseArgs } from "node:util";

export const HELP = `tokenhub-setup: verify a TokenHub integration (agent quickstart Steps 1-5) and record it.

Usage:
  tokenhub-setup [options]

Reads the key from TOKENHUB_API_KEY or the OS keychain, sends one minimal chat completion,
validates it, and writes the integration record. Nothing here ever prints the key.

Options:
  --json               Print the record (or the failure) as JSON on stdout; human text stays on stderr.
  --base-url URL       TokenHub API base (default https://tokenhub.link/v1; http: only on loopback).
  --model M            Model format to try; repeat for a fallback chain
                       (default: deepseek-v3.2, then alibaba/deepseek-v3.2).
  --stream             Validate over a server-sent-event stream instead of one JSON body.
  --status-file F      Where to write the record
                       (default $XDG_STATE_HOME/tokenhub-setup/status.json).
  --simulate           Run against the built-in simulator on a loopback port with a demo key.
                       Never touches the real record unless --status-file is given.
  --scenario NAME      With --simulate: the scenario to play (default happy).
  --verbose            Debug logs (JSON, scrubbed) on stderr.
  -h, --help           Show this help.
  -v, --version        Show the version.

Exit codes:
  0 complete   2 usage error   3 key missing   4 key rejected (401)
  5 escalated  6 invalid response   1 other failure   130 cancelled (Ctrl-C)

Examples:
  npx tokenhub-setup --simulate --json
  npx tokenhub-setup --simulate --scenario server-503-always
  TOKENHUB_API_KEY=... npx tokenhub-setup --model deepseek-v3.2 --model alibaba/deepseek-v3.2
`;

export interface CliOptions {
  json: boolean;
  baseUrl?: string;
  models?: string[];
  stream: boolean;
  statusFile?: string;
  simulate: boolean;
  scenario?: string;
  verbose: boolean;
  help: boolean;
  version: boolean;
}

/** Node's own parser: strict, so an unknown option or a missing value is a usage error (exit 2). */
export function parseCliArgs(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      json: { type: "boolean", default: false },
      "base-url": { type: "string" },
      model: { type: "string", multiple: true },
      stream: { type: "boolean", default: false },
      "status-file": { type: "string" },
      simulate: { type: "boolean", default: false },
      scenario: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
  });
  return {
    json: values.json,
    ...(values["base-url"] === undefined ? {} : { baseUrl: values["base-url"] }),
    ...(values.model === undefined ? {} : { models: values.model }),
    stream: values.stream,
    ...(values["status-file"] === undefined ? {} : { statusFile: values["status-file"] }),
    simulate: values.simulate,
    ...(values.scenario === undefined ? {} : { scenario: values.scenario }),
    verbose: values.verbose,
    help: values.help,
    version: values.version,
  };
}
