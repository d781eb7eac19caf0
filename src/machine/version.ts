/**
 * Bump when the chart's states, context or events change shape: snapshots from another version are refused. In a
 * module of its own, without xstate, so the package entry can export it without loading the chart.
 */
export const MACHINE_VERSION = "tokenhub-setup/5";
