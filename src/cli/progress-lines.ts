import type { Notification } from "../session/index.ts";

type Progress = Extract<Notification, { type: "progress" }>;

/**
 * Progress lines off a terminal, where nothing can be redrawn in place: a 64 MiB download reported every
 * 256 KiB printed some 250 lines into a CI log. A progress line that differs from the one before it only in
 * its numbers ("downloaded 3.1 MB of 64.0 MB", then "3.4 MB of 64.0 MB") is an update of it. The first of a
 * run of updates is printed at once, later ones at most once per `intervalMs`, and the last one, if it was held
 * back, is printed as soon as anything else comes (or at `flush()`), so the final figure always shows. Any
 * other line is printed at once. On a terminal the spinner shows every update in place instead.
 */
export interface ProgressLines {
  progress(n: Progress): void;
  /** Print the held-back update, if any: call before any other output. */
  flush(): void;
}

/** Off a terminal, one update line per this many milliseconds at most. */
export const UPDATE_INTERVAL_MS = 10_000;

export function createProgressLines(
  print: (n: Progress) => void,
  options: { intervalMs?: number; now?: () => number } = {},
): ProgressLines {
  const intervalMs = options.intervalMs ?? UPDATE_INTERVAL_MS;
  const now = options.now ?? Date.now;
  let lastKey: string | undefined;
  let printedAt = 0;
  let held: Progress | undefined;

  const flush = () => {
    if (held) print(held);
    held = undefined;
  };
  return {
    progress(n) {
      const key = shapeOf(n);
      const at = now();
      if (key === lastKey && at - printedAt < intervalMs) {
        held = n;
        return;
      }
      if (key !== lastKey) flush();
      held = undefined;
      lastKey = key;
      printedAt = at;
      print(n);
    },
    flush() {
      flush();
      lastKey = undefined;
    },
  };
}

/** The line with its numbers taken out: two lines of the same shape are one line being updated. */
function shapeOf(n: Progress): string {
  return JSON.stringify([n.step, n.capability ?? null, n.title, n.detail ?? ""]).replace(/\d+(\.\d+)?/g, "#");
}
