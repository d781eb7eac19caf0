/**
 * "Did you mean": the known word nearest to a mistyped one, or none when nothing is close. A few lines instead
 * of a dependency: the lists are a handful of words, and typos are mostly one slip (a wrong, missing, extra or
 * swapped letter: `stauts`) or a word cut short (`stat`).
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  // A word cut short names the one known word it starts (and `--sim` the one option).
  const starts = known.filter((k) => lower.length >= 2 && k.startsWith(lower));
  if (starts.length === 1) return starts[0];
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(lower, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  // Close means at most two slips, and fewer than a third of the word: `foo` is not a typo of `key`.
  return bestDistance <= Math.min(2, Math.floor(Math.max(lower.length, 3) / 3)) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours, each 1. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = d;
    }
  }
  return at(a.length, b.length);
}
