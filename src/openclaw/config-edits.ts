/**
 * Reversible edits of the host's config: each value we set is kept with what was there before (and which of its
 * parent objects we created), so undoing puts back exactly the old config: no empty objects left behind, and a
 * value the user has changed since is left alone.
 */
import { isDeepStrictEqual } from "node:util";

export type Draft = Record<string, unknown>;

export interface ConfigEdit {
  path: string[];
  /** The value we wrote. */
  value: unknown;
  /** Whether the key existed before, and its value then. */
  existed: boolean;
  before?: unknown;
  /** Index of the first path segment whose object we created (path.length - 1 when all parents existed). */
  created: number;
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

export function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Sets `path` to `value`, creating parent objects as needed. A non-object parent is not overwritten: null. */
export function applyEdit(draft: Draft, path: readonly string[], value: unknown): ConfigEdit | null {
  let node: Record<string, unknown> = draft;
  let created = path.length - 1;
  for (const [i, key] of path.slice(0, -1).entries()) {
    if (!Object.hasOwn(node, key)) {
      created = Math.min(created, i);
      node[key] = {};
    }
    const next = node[key];
    if (!isObject(next)) return null;
    node = next;
  }
  const last = path.at(-1) as string;
  const existed = Object.hasOwn(node, last);
  const edit: ConfigEdit = {
    path: [...path],
    value,
    existed,
    ...(existed ? { before: structuredClone(node[last]) } : {}),
    created,
  };
  node[last] = structuredClone(value);
  return edit;
}

/**
 * Undoes one edit if the value is still the one we wrote; returns whether it did. Objects we created are removed
 * again when nothing else was put in them since.
 */
export function revertEdit(draft: Draft, edit: ConfigEdit): boolean {
  if (!isDeepStrictEqual(valueAt(draft, edit.path), edit.value)) return false;
  const parents: Array<Record<string, unknown>> = [draft];
  for (const key of edit.path.slice(0, -1))
    parents.push((parents.at(-1) as Record<string, unknown>)[key] as Draft);
  const last = edit.path.at(-1) as string;
  const holder = parents.at(-1) as Record<string, unknown>;
  if (edit.existed) {
    holder[last] = structuredClone(edit.before);
    return true;
  }
  delete holder[last];
  for (let i = edit.path.length - 1; i > edit.created; i--) {
    const parent = parents[i - 1] as Record<string, unknown>;
    const key = edit.path[i - 1] as string;
    if (Object.keys(parent[key] as Draft).length > 0) break;
    delete parent[key];
  }
  return true;
}

/** Later edits of a path keep the first edit's "before": undoing goes back to the config before any of them. */
export function mergeEdits(earlier: readonly ConfigEdit[], later: readonly ConfigEdit[]): ConfigEdit[] {
  const merged = earlier.map((edit) => ({ ...edit }));
  for (const edit of later) {
    const same = merged.find((e) => isDeepStrictEqual(e.path, edit.path));
    if (same) same.value = edit.value;
    else merged.push(edit);
  }
  return merged;
}
