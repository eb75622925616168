/**
 * "Did you mean" for names a definition gets wrong: the known name closest to a misspelt one.
 * Written here rather than taken from a library: it is one small edit-distance function, and
 * `core` keeps its dependencies to the few it has.
 */
import { msg, type MessageValue } from './messages.js';

/**
 * The candidate closest to `name` by edit distance (insertions, deletions, substitutions and
 * swaps of neighbours, ignoring case), or undefined when none is close: within a third of the
 * longer name's length, at least 1. Ties go to the earlier candidate, so the answer is stable.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const bound = Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3));
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= bound && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean "x"?` for the closest candidate, or '' when none is close. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const closest = closestName(name, candidates);
  return closest === undefined ? '' : `; did you mean "${closest}"?`;
}

/** `; did you mean "x"?` as a keyed message part (messages.ts), or '' when none is close. */
export function suggestion(name: string, candidates: readonly string[]): MessageValue {
  const closest = closestName(name, candidates);
  return closest === undefined ? '' : msg('didYouMean', { name: closest });
}

/** Optimal string alignment distance (Damerau–Levenshtein without repeated edits of one substring). */
function editDistance(a: string, b: string): number {
  // Names longer than this are not typos of each other worth comparing letter by letter.
  if (a.length > 200 || b.length > 200) return a === b ? 0 : Math.max(a.length, b.length);
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
