/**
 * The chart's context and events: the shapes the chart, its face and the record builders share. The context's
 * persisted shape is defined once, in `schema/flow.ts`; the type here adds only what never outlives a rest.
 */
import type { Capability } from "../schema/config.ts";
import type { FlowContext, FlowSettings, MediaSettings, VideoTask } from "../schema/flow.ts";
import type { Outcome } from "../tokenhub/classify.ts";
import type { Decision } from "./policy.ts";

export type Settings = FlowSettings;
export type { MediaSettings, VideoTask };

/**
 * The chart's context: the persisted shape from `schema/flow.ts` (the one definition), plus what one attempt
 * leaves for the decision that follows it, which never outlives a rest (a restore sets both to null).
 */
export type SetupContext = FlowContext & {
  outcome: Outcome | null;
  decision: Decision | null;
};

/** A timed rest: when it ends, and what it waits for (another attempt, or the video task's next poll). */
export interface Wait {
  /** Epoch ms; NaN when the context lost the time (only a tampered snapshot can: it is refused on restore). */
  until: number;
  for: "retry" | "video";
  taskId?: string;
}

export type SetupEvent =
  | {
      type: "SETUP";
      at: number;
      seed: number;
      preferences?: { modelChain?: string[]; stream?: boolean; multimodal?: Capability[] };
    }
  | { type: "KEY_PROVIDED"; at: number; seed: number; remember: boolean }
  | { type: "KEY_READY"; at: number; seed: number }
  | { type: "CANCEL"; at: number; reason?: string };

/** A fresh flow's context, before SETUP. */
export function initialContext(settings: Settings): SetupContext {
  return {
    settings,
    now: 0,
    seed: 0,
    key: {
      source: null,
      fingerprint: null,
      hint: null,
      remember: false,
      needReason: "missing",
      rejected: [],
      rejectedKey: null,
      otherKeys: [],
    },
    run: { startedAt: 0, modelIndex: 0, attempt: 0, attempts: [], fallbacksUsed: [], retryAt: null },
    notices: [],
    record: null,
    failure: null,
    cancelReason: null,
    outcome: null,
    decision: null,
  };
}

/** What SETUP may choose for one conversation (the model chain, streaming, the checks) over the config's. */
export function withPreferences(
  settings: Settings,
  preferences: { modelChain?: string[]; stream?: boolean; multimodal?: Capability[] } | undefined,
): Settings {
  // Nothing chosen, or what the settings say already: the same object (contexts share it, see machineSettings).
  if (
    (preferences?.modelChain === undefined || sameList(preferences.modelChain, settings.modelChain)) &&
    (preferences?.stream === undefined || preferences.stream === settings.stream) &&
    (preferences?.multimodal === undefined ||
      sameList(preferences.multimodal, settings.multimodal.capabilities))
  )
    return settings;
  return {
    ...settings,
    modelChain: preferences?.modelChain ?? settings.modelChain,
    stream: preferences?.stream ?? settings.stream,
    multimodal: {
      ...settings.multimodal,
      capabilities: preferences?.multimodal ?? settings.multimodal.capabilities,
    },
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
