import { z } from "zod";
import { EXIT, scrub, TokenHubSetupError } from "../session/index.ts";
import { type ActionResult, createActions } from "./actions.ts";
import { PLUGIN_ID, TOOL_NAME, type ToolParams, ToolParamsSchema } from "./config.ts";
import type { CliCommand, HostApi, HostSdk, ToolResult } from "./host.ts";
import { registerTokenHubProvider } from "./provider.ts";

/** The session a call belongs to when the host gives none (tools.invoke without a session key). */
const DEFAULT_SESSION = "agent:main:main";
const CLI_SESSION = "openclaw-cli";

export const TOOL_DESCRIPTION =
  'Set up and verify the user\'s TokenHub integration (TokenHub agent quickstart): reads the TokenHub API key, sends one minimal chat completion, validates it and records the result. Call with {"action":"start"} when the user asks to set up, connect or check TokenHub; {"action":"resume"} after they stored the key; {"action":"status"} for the last result. Never ask the user to paste the key into the chat.';

/** The tool's parameters as the model sees them, generated from the zod schema. */
export const TOOL_PARAMETERS = z.toJSONSchema(ToolParamsSchema, { io: "input" }) as Record<string, unknown>;

/**
 * Registers the tool, the /tokenhub command and `openclaw tokenhub ...`. Nothing here touches `api.runtime`:
 * in cli-metadata registration that throws; it is used only inside handlers (wiring).
 */
export function registerTokenHub(api: HostApi, sdk: HostSdk): void {
  const actions = createActions(api, sdk);
  registerTokenHubProvider(api, sdk);

  api.registerTool(
    (ctx) => ({
      name: TOOL_NAME,
      label: "TokenHub setup",
      description: TOOL_DESCRIPTION,
      parameters: TOOL_PARAMETERS,
      async execute(_toolCallId, params, signal) {
        const parsed = validParams(params);
        if ("invalid" in parsed) return toolResult(parsed.invalid);
        const config = ctx.getRuntimeConfig?.() ?? ctx.runtimeConfig;
        return toolResult(
          await guarded(() =>
            actions.run(parsed.params, ctx.sessionKey ?? DEFAULT_SESSION, {
              ...(config === undefined ? {} : { config }),
              ...(signal ? { signal } : {}),
            }),
          ),
        );
      },
    }),
    { name: TOOL_NAME },
  );

  api.registerCommand({
    name: "tokenhub",
    description: "TokenHub setup without the model: /tokenhub setup | resume | status | cancel",
    acceptsArgs: true,
    async handler(ctx) {
      const word = (ctx.args ?? "").trim().split(/\s+/)[0]?.toLowerCase() || "setup";
      const action = COMMAND_ACTIONS[word];
      if (!action) return { text: "Usage: /tokenhub setup | resume | status | cancel" };
      const result = await guarded(() =>
        actions.run({ action }, ctx.sessionKey ?? DEFAULT_SESSION, {
          audience: "chat",
          ...(ctx.config === undefined ? {} : { config: ctx.config }),
        }),
      );
      return { text: result.text };
    },
  });

  api.registerCli(
    ({ program }) => {
      const root = program.command("tokenhub").description("Verify and record the TokenHub integration");
      cliCommand(root, "setup", "Run the TokenHub agent quickstart (Steps 1-5) and record the result")
        .option("--model <model>", "a model to verify instead of the configured chain")
        .option("--wire", "after success, make the verified model usable as tokenhub/<model>")
        .option("--set-default", "with --wire: make the verified model the default")
        .option(
          "--multimodal <list>",
          "after the text check, also check image and/or video generation (image,video)",
        )
        .action(
          async (opts: {
            json?: boolean;
            model?: string;
            wire?: boolean;
            setDefault?: boolean;
            multimodal?: string;
          }) => {
            const params: ToolParams = {
              action: "start",
              ...(opts.model ? { model: opts.model } : {}),
              // Checked by the tool's own parameter schema: an unknown capability is a usage error there.
              ...(opts.multimodal
                ? { multimodal: opts.multimodal.split(",").map((c) => c.trim()) as ToolParams["multimodal"] }
                : {}),
              ...(opts.wire ? { wire: true } : {}),
              ...(opts.setDefault ? { setDefault: true } : {}),
            };
            const parsed = validParams(params);
            const result =
              "invalid" in parsed
                ? parsed.invalid
                : await guarded(() => actions.run(parsed.params, CLI_SESSION, PERSON));
            printCli(result, opts.json ?? false);
          },
        );
      cliCommand(root, "resume", "Continue a setup after the key was stored").action(
        async (opts: { json?: boolean }) => {
          printCli(
            await guarded(() => actions.run({ action: "resume" }, CLI_SESSION, PERSON)),
            opts.json ?? false,
          );
        },
      );
      cliCommand(root, "status", "Show the last recorded TokenHub integration").action(
        async (opts: { json?: boolean }) => {
          printCli(
            await guarded(() => actions.run({ action: "status" }, CLI_SESSION, PERSON)),
            opts.json ?? false,
          );
        },
      );
      cliCommand(root, "unwire", "Take back what setup --wire changed").action(
        async (opts: { json?: boolean }) => {
          printCli(
            await guarded(() => actions.run({ action: "unwire" }, CLI_SESSION, PERSON)),
            opts.json ?? false,
          );
        },
      );
    },
    {
      descriptors: [
        { name: "tokenhub", description: "Verify and record the TokenHub integration", hasSubcommands: true },
      ],
    },
  );
}

/** `openclaw tokenhub ...` is read by a person at a terminal, not the model. */
const PERSON = { audience: "terminal" } as const;

const COMMAND_ACTIONS: Record<string, ToolParams["action"]> = {
  setup: "start",
  start: "start",
  resume: "resume",
  status: "status",
  cancel: "cancel",
};

function cliCommand(root: CliCommand, name: string, description: string): CliCommand {
  return root.command(name).description(description).option("--json", "print the result as JSON");
}

/**
 * stdout, not console.log: OpenClaw's CLI masks console output by key name, which would mangle the JSON. The
 * exit code follows tokenhub-setup's own CLI (0 complete, 3/4 key missing/rejected, 5/6 escalated).
 */
function printCli(result: ActionResult, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(result.details, null, 2)}\n` : `${result.text}\n`);
  // Invalid input 2, an action that threw 1, else the flow's own: 0 unless it ended badly or waits for a key.
  if (result.exitCode) process.exitCode = result.exitCode;
}

/** The tool's parameters (from the model or the CLI's options), checked by the one schema; a sentence if not. */
function validParams(params: unknown): { params: ToolParams } | { invalid: ActionResult } {
  const parsed = ToolParamsSchema.safeParse(params);
  if (parsed.success) return { params: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    invalid: {
      text: `Invalid ${TOOL_NAME} parameters at ${issue?.path.join(".") || "(root)"}: ${issue?.message}.`,
      details: { state: "invalidParams" },
      exitCode: EXIT.usage,
    },
  };
}

/** A failure inside an action becomes a sentence for the model or the user, never a stack in the chat. */
async function guarded(fn: () => Promise<ActionResult>): Promise<ActionResult> {
  try {
    return await fn();
  } catch (err) {
    const line =
      err instanceof TokenHubSetupError
        ? err.toLine()
        : `Unexpected error: ${(err as Error)?.message ?? String(err)}`;
    return {
      text: `TokenHub setup failed: ${scrub(line)}`,
      details: { state: "error", code: (err as { code?: string })?.code ?? "unexpected" },
      exitCode: EXIT.failure,
    };
  }
}

function toolResult(result: ActionResult): ToolResult {
  return { content: [{ type: "text", text: result.text }], details: result.details };
}

export { PLUGIN_ID };
