import { join } from "node:path";
import {
  type CompletionRecord,
  type ConversationStore,
  createConversationStore,
  createTurnRunner,
  ENV_VAR,
  EXIT,
  type HostEvent,
  needKeyOf,
  refusedSnapshotLines,
  restOfSnapshot,
  scrub,
  setupEvent,
  statusExitCode,
  TokenHubSetupError,
  type TurnResult,
  type TurnRunner,
} from "../session/index.ts";
import {
  API_KEY_PATH,
  DEFAULT_STORE_REF,
  PLUGIN_ID,
  type PluginConfig,
  PluginConfigSchema,
  TOOL_NAME,
  type ToolParams,
} from "./config.ts";
import type { AuthProfileView, HostApi, HostSdk } from "./host.ts";
import { hostLogger } from "./logging.ts";
import { type Audience, personCommands, statusText, turnText } from "./text.ts";
import {
  type Credential,
  credentialFor,
  modelRef,
  PROVIDER_ID,
  rawApiKeyOf,
  unwire,
  type WireResult,
  wire,
} from "./wiring.ts";

const NO_AUTH_STORE = "this OpenClaw has no provider auth store; update OpenClaw to 2026.9.6 or later.";

/** Where the host finds the key once wired, in words (a SecretRef's coordinates, never a key). */
function credentialText(credential: Exclude<Credential, { refusal: string }>): string {
  if ("use" in credential && credential.use === "profile")
    return credential.unchecked
      ? `key: OpenClaw's auth profile ${credential.profileId}, as it is: this setup did not check the key it holds`
      : `key: OpenClaw's auth profile ${credential.profileId}, holding the key this setup checked`;
  if ("use" in credential) return `key: ${ENV_VAR}, which the gateway must have in its environment`;
  const { source, provider, id } = credential.ref;
  return `key: a new auth profile ${credential.add} holding the SecretRef ${source}:${provider}:${id}${credential.first ? ", used before the other TokenHub profiles (auth.order.tokenhub)" : ""}`;
}

export interface ActionResult {
  text: string;
  details: Record<string, unknown>;
  /** For `openclaw tokenhub`: the exit code of the flow's rest, when the action ran or read one. */
  exitCode?: number;
}

/** Long waits end the call; the model is told when to resume instead of holding the turn for a minute. */
const MAX_WAIT_IN_CALL_MS = 15_000;

/**
 * The one implementation behind the tool, the slash command and the CLI: OpenClaw's world (session keys,
 * plugin config, SecretRefs, state folder) translated to runTurn and back.
 */
export function createActions(api: HostApi, sdk: HostSdk) {
  const parsed = PluginConfigSchema.safeParse(api.pluginConfig ?? {});
  const pluginConfig: PluginConfig | undefined = parsed.success ? parsed.data : undefined;
  // The skill's own config, without the key (an invalid plugin config is reported by run(), not thrown here).
  const { apiKey: _apiKey, ...coreConfig } = pluginConfig ?? PluginConfigSchema.parse({});
  let stateDir: string | undefined;
  const pluginStateDir = () => {
    stateDir ??= join(sdk.stateDir(), "plugins", PLUGIN_ID);
    return stateDir;
  };
  const recordPath = () => coreConfig.statusPath ?? join(pluginStateDir(), "status.json");
  let conversationStore: ConversationStore | undefined;
  const conversations = () => {
    conversationStore ??= createConversationStore(join(pluginStateDir(), "conversations"));
    return conversationStore;
  };
  // One runner for the plugin's config: the config resolved once, one TokenHub client for every turn.
  let turnRunner: TurnRunner | undefined;
  const runner = () => {
    turnRunner ??= createTurnRunner(
      {
        ...coreConfig,
        statusPath: recordPath(),
        // Media files live with the plugin's other state unless the config names a folder.
        multimodal: {
          ...coreConfig.multimodal,
          outputDir: coreConfig.multimodal.outputDir ?? join(pluginStateDir(), "media"),
        },
      },
      {
        logger: hostLogger(api.logger, coreConfig.logLevel ?? "warn"),
        ...(sdk.clock ? { clock: sdk.clock } : {}),
      },
    );
    return turnRunner;
  };

  // The key as OpenClaw holds it: the configured apiKey (string or SecretRef), else the entry the secrets tool's
  // masked prompt writes. Resolved on every call, so a key stored after `start` is seen by `resume`.
  const hostSecret = (config: unknown) => async () => {
    const configured = pluginConfig?.apiKey;
    let resolved: { value?: string; unresolvedRefReason?: string };
    try {
      resolved = await sdk.resolveSecret({
        config,
        env: process.env,
        value: configured ?? DEFAULT_STORE_REF,
        path: API_KEY_PATH,
      });
    } catch {
      resolved = {};
    }
    if (resolved.value) return resolved.value;
    if (configured !== undefined && resolved.unresolvedRefReason) {
      throw new TokenHubSetupError(
        "host_secret_unresolved",
        `The configured apiKey is not available: ${resolved.unresolvedRefReason}`,
        {
          remedy: "Set what the SecretRef points to where the OpenClaw gateway runs, then resume.",
        },
      );
    }
    return undefined;
  };

  async function turn(
    sessionKey: string,
    event: HostEvent | undefined,
    stored: { snapshot: string; resume?: boolean } | undefined,
    config: unknown,
    signal?: AbortSignal,
  ) {
    const result = await runner().run({
      ...(event ? { event } : {}),
      ...(stored ? { snapshot: stored.snapshot, resume: stored.resume ?? false } : {}),
      ...(signal ? { signal } : {}),
      sources: { env: process.env, hostSecret: hostSecret(config), keychain: false },
      maxWaitMs: MAX_WAIT_IN_CALL_MS,
    });
    await conversations().save(sessionKey, result.snapshot);
    return result;
  }

  async function run(
    params: ToolParams,
    sessionKey: string,
    options: { config?: unknown; signal?: AbortSignal; audience?: Audience } = {},
  ): Promise<ActionResult> {
    const audience = options.audience ?? "agent";
    if (!pluginConfig) {
      const issue = parsed.error?.issues[0];
      return {
        text: `The tokenhub-setup plugin config is invalid at ${issue?.path.join(".")}: ${issue?.message}. Fix plugins.entries.${PLUGIN_ID}.config.`,
        details: { state: "invalidConfig" },
        exitCode: EXIT.usage,
      };
    }
    const config = options.config ?? api.config;
    const stored = await conversations().load(sessionKey);
    const rest = restOfSnapshot(stored);
    const state = rest?.state;

    if (params.action === "status" || params.action === "unwire") {
      if (params.action === "unwire") {
        const undone = await unwire(api, sdk.authProfiles, pluginStateDir());
        return {
          text: undone.restored
            ? undone.kept.length === 0
              ? `Took back the TokenHub wiring in ${undone.path}: the config and OpenClaw's auth store are as they were before it.`
              : `Took back the TokenHub wiring in ${undone.path}, except what is left as it is: ${undone.kept.join("; ")}.`
            : "Nothing to undo: this plugin has not wired TokenHub in.",
          details: {
            state: state ?? "none",
            unwired: undone.restored,
            ...(undone.restored ? { kept: undone.kept } : {}),
          },
          exitCode: 0,
        };
      }
      const record = await runner().readRecord();
      const text = statusText(record, recordPath(), audience);
      const exitCode = statusExitCode(rest);
      if (params.wire)
        return withWiring(
          { text, details: { state: state ?? "none", record }, exitCode },
          record,
          params,
          config,
          audience,
        );
      return { text, details: { state: state ?? "none", ...(record ? { record } : {}) }, exitCode };
    }

    if (params.action === "cancel") {
      if (!stored || !rest || rest.final)
        return { text: "No TokenHub setup is in progress.", details: { state: state ?? "none" } };
      return describe(
        await turn(
          sessionKey,
          { type: "CANCEL", reason: "cancelled by the user" },
          { snapshot: stored },
          config,
          options.signal,
        ),
        params,
        config,
        audience,
      );
    }

    // resume continues a stored flow; start (or resume with nothing to continue) begins afresh.
    const event = setupEvent(params);
    const resuming = params.action === "resume" && stored !== undefined && rest !== null && !rest.final;
    const result = await turn(
      sessionKey,
      event,
      resuming ? { snapshot: stored, resume: true } : undefined,
      config,
      options.signal,
    );
    const described = describe(result, params, config, audience);
    const record = result.output?.status === "complete" ? result.output.record : undefined;
    return params.wire && record ? withWiring(described, record, params, config, audience) : described;
  }

  function describe(
    result: TurnResult,
    params: ToolParams,
    config: unknown,
    audience: Audience,
  ): ActionResult {
    const needKey = needKeyOf(result);
    const record = result.output?.status === "complete" ? result.output.record : undefined;
    return {
      text: [
        turnText(result, { recordPath: recordPath(), audience }),
        ...(record && !params.wire ? [wiringPreview(record, config, audience)] : []),
        ...refusedSnapshotLines(result),
      ].join("\n"),
      details: {
        action: params.action,
        state: result.state,
        // Progress is for live displays; the model needs what the flow asked for and how it ended.
        notifications: result.notifications.filter((n) => n.type !== "progress"),
        ...(needKey ? { needKey: { reason: needKey.reason, message: needKey.message } } : {}),
        ...(record ? { record } : {}),
        ...(result.output?.status === "escalated" ? { escalation: result.output.escalation } : {}),
      },
      exitCode: result.rest.exitCode,
    };
  }

  /** The key as written in the config (SecretRefs intact): the runtime config has them resolved to the key. */
  const rawApiKey = (config: unknown) => rawApiKeyOf(sdk.sourceConfig?.() ?? config);

  /** The credential wiring would rely on, read without writing anything. */
  function plannedCredential(record: CompletionRecord, config: unknown): Credential {
    if (!sdk.authProfiles) return { refusal: NO_AUTH_STORE };
    let profiles: AuthProfileView[];
    try {
      profiles = sdk.authProfiles.list(PROVIDER_ID);
    } catch (err) {
      return {
        refusal: `OpenClaw's auth store cannot be read: ${scrub(String((err as Error)?.message ?? err))}`,
      };
    }
    return credentialFor(record, rawApiKey(config), profiles);
  }

  /** What wiring would do, shown before anything is written. Only ever a SecretRef, never a key. */
  function wiringPreview(record: CompletionRecord, config: unknown, audience: Audience): string {
    const credential = plannedCredential(record, config);
    if ("refusal" in credential)
      return `(Wiring TokenHub in as the default model is not possible yet: ${credential.refusal})`;
    return audience !== "agent"
      ? `${personCommands(audience).wire} would make ${modelRef(record)} usable (${credentialText(credential)}) and, with --set-default, OpenClaw's default model.`
      : `If the user agrees, wiring would make ${modelRef(record)} usable (${credentialText(credential)}) and, with setDefault, OpenClaw's default model.`;
  }

  async function withWiring(
    described: ActionResult,
    record: CompletionRecord | undefined,
    params: ToolParams,
    config: unknown,
    audience: Audience,
  ): Promise<ActionResult> {
    if (record?.integration_status !== "success") {
      return {
        ...described,
        text: `${described.text}\nNot wired: there is no verified integration to wire; run the setup first.`,
      };
    }
    // wire() reads the auth store and decides the credential itself (its refusals are handled below).
    if (!sdk.authProfiles) return { ...described, text: `${described.text}\nNot wired: ${NO_AUTH_STORE}` };
    let done: WireResult;
    try {
      done = await wire(
        api,
        sdk.authProfiles,
        pluginStateDir(),
        record,
        rawApiKey(config),
        params.setDefault ?? false,
      );
    } catch (err) {
      const line =
        err instanceof TokenHubSetupError ? err.toLine() : scrub(String((err as Error)?.message ?? err));
      return { ...described, text: `${described.text}\nNot wired: ${line}` };
    }
    if ("refusal" in done) return { ...described, text: `${described.text}\nNot wired: ${done.refusal}` };
    return {
      ...described,
      text: [
        described.text,
        `Wired: ${modelRef(record)} is served by the tokenhub provider (${credentialText(done.credential)})${done.defaultModel ? `; it is now the default model (${done.previous === undefined ? "there was none before" : `was ${JSON.stringify(done.previous)}`})` : ""}. Config: ${done.path}.`,
        ...(done.policy ? [done.policy] : []),
        `To undo: ${audience === "agent" ? `${TOOL_NAME} {"action":"unwire"}` : personCommands(audience).unwire}.`,
      ].join("\n"),
      details: {
        ...described.details,
        wiring: {
          provider: PROVIDER_ID,
          model: modelRef(record),
          credential: done.credential,
          ...(done.defaultModel ? { defaultModel: done.defaultModel } : {}),
          ...(done.policy ? { policy: done.policy } : {}),
        },
      },
    };
  }

  return { run, recordPath, close: async () => turnRunner?.close() };
}
