/**
 * What this adapter needs from an OpenClaw-style host, as plain structural types. Only `api.ts` imports the
 * real SDK; everything else is written against these, so it is unit-tested with a fake host and run for real
 * by the end-to-end test.
 */

import type { Clock } from "../session/index.ts";

export interface HostLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export interface ToolResult {
  content: Array<{ type: "text"; text: string }>;
  details: Record<string, unknown>;
}

export interface HostTool {
  name: string;
  label: string;
  description: string;
  parameters: Record<string, unknown>;
  execute(toolCallId: string, params: unknown, signal?: AbortSignal): Promise<ToolResult>;
}

export interface ToolContext {
  sessionKey?: string;
  sessionId?: string;
  agentId?: string;
  runtimeConfig?: unknown;
  getRuntimeConfig?: () => unknown;
}

export interface CommandContext {
  args?: string;
  sessionKey?: string;
  config?: unknown;
}

/** commander's Command, as far as we use it. */
export interface CliCommand {
  command(nameAndArgs: string): CliCommand;
  description(text: string): CliCommand;
  option(flags: string, description?: string): CliCommand;
  action(fn: (...args: never[]) => void | Promise<void>): CliCommand;
}

export interface ConfigMutation<R> {
  afterWrite: { mode: "auto" };
  mutate(draft: Record<string, unknown>): R;
}

export interface HostApi {
  id: string;
  registrationMode?: string;
  config: unknown;
  pluginConfig?: Record<string, unknown>;
  logger: HostLogger;
  registerTool(factory: (ctx: ToolContext) => HostTool | null, options: { name: string }): void;
  registerCommand(command: {
    name: string;
    description: string;
    acceptsArgs?: boolean;
    handler(ctx: CommandContext): Promise<{ text: string }>;
  }): void;
  registerCli(
    registrar: (ctx: { program: CliCommand }) => void,
    options: { descriptors: Array<{ name: string; description: string; hasSubcommands: boolean }> },
  ): void;
  /** Touch only inside handlers: in cli-metadata registration it throws. */
  readonly runtime: {
    config: { mutateConfigFile<R>(mutation: ConfigMutation<R>): Promise<{ path: string; result: R }> };
  };
}

/** The SDK functions the adapter calls, injected by api.ts (or by a test). */
export interface HostSdk {
  resolveSecret(params: { config: unknown; env: NodeJS.ProcessEnv; value: unknown; path: string }): Promise<{
    value?: string;
    unresolvedRefReason?: string;
  }>;
  stateDir(): string;
  /**
   * The config as written, SecretRefs intact, when the host has published it. A tool's runtime config has them
   * resolved to values, which would make a key stored by reference look like plain text.
   */
  sourceConfig?(): unknown;
  /** The flows' clock; api.ts gives none (the system clock). Tests pass a virtual one so waits take no time. */
  clock?: Clock;
}
