/**
 * What the small choices on a run's hot path cost, each as µs per operation in one process (the
 * figures code comments cite; compare ratios across machines):
 *
 * - a bounded map of recent runs: a Map whose oldest entry is deleted on every insert
 *   (`keys().next()` walks past every entry deleted before it) against the two generations of
 *   `RecentMap` (core/recent-map.ts), 4,096 entries;
 * - a run's AbortController with its signal, made for every run, against none;
 * - a step's arguments as an object literal with a getter against one with a plain field;
 * - a rest copy of a run record (`{wokenRuns, ...run}`) against keeping it;
 * - JSON.stringify of a run's state holding N small step outputs (what a SQLite transition writes
 *   while the state is inline, INLINE_STATE_MAX_BYTES).
 *
 *   node --import tsx bench/engine-micro.ts [--quick]
 */
import { performance } from 'node:perf_hooks';
import { RecentMap } from '../src/core/recent-map.js';
import { sampleRun } from '../src/store/store.conformance.js';
import { fmt, markdownTable, readOptions } from './measure.js';

let sink = 0;

/** µs per call of `op(i)` over `count` calls, the best of three passes (after one warm-up pass). */
function perCall(count: number, op: (i: number) => number): number {
  let best = Infinity;
  for (let pass = 0; pass < 4; pass++) {
    const started = performance.now();
    for (let i = 0; i < count; i++) sink += op(i);
    if (pass > 0) best = Math.min(best, ((performance.now() - started) * 1000) / count);
  }
  return best;
}

export function benchEngineMicro(options: { quick: boolean }): string {
  const count = options.quick ? 200_000 : 1_000_000;
  const ids = Array.from({ length: count }, (_, i) => `0190${String(i).padStart(8, '0')}-aaaa-7bbb-8ccc-dddddddddddd`);
  const record = { n: 1 };
  const oldestFirst = new Map<string, { n: number }>();
  const evictOldest = perCall(count, (i) => {
    oldestFirst.delete(ids[i]!);
    oldestFirst.set(ids[i]!, record);
    if (oldestFirst.size > 4096) oldestFirst.delete(oldestFirst.keys().next().value!);
    return oldestFirst.size;
  });
  const recent = new RecentMap<string, { n: number }>(4096);
  const generations = perCall(count, (i) => (recent.set(ids[i]!, record), recent.size));
  const controller = perCall(count, () => (new AbortController().signal.aborted ? 0 : 1));
  const holder = { signal: null as unknown };
  const withGetter = perCall(count, (i) => ({ step: i, stepId: 'a', frame: record, get signal() { return holder.signal; } }).step);
  const withField = perCall(count, (i) => ({ step: i, stepId: 'a', frame: record, runAbort: holder }).step);
  const run = { ...sampleRun({ runId: 'r-1' }), wokenRuns: undefined as unknown };
  const restCopy = perCall(count, () => {
    const { wokenRuns: _woken, ...rest } = run;
    return rest.runId.length;
  });
  const stateOf = (steps: number) => ({
    frames: [{ graph: 'action:main', at: `s${steps}`, attempt: 1, item: { i: 7 }, steps: Object.fromEntries(Array.from({ length: steps }, (_, j) => [`s${j}`, { s: j, i: 7 }])), last: { s: steps - 1, i: 7 } }],
    stepSeq: steps,
    stepCount: steps,
    stepLogs: true,
    historyCount: steps,
    outputs: {},
    vars: {},
  });
  const stringify = [10, 60, 100].map((steps) => {
    const state = stateOf(steps);
    return [steps, JSON.stringify(state).length, perCall(count / 10, () => JSON.stringify(state).length)] as const;
  });
  return (
    markdownTable(
      ['operation', 'µs each'],
      [
        ['bounded map of 4,096: Map, oldest deleted on every insert', fmt(evictOldest)],
        ['bounded map of 4,096: RecentMap (two generations)', fmt(generations)],
        ['AbortController and its signal', fmt(controller)],
        ['step arguments: object literal with a getter', fmt(withGetter)],
        ['step arguments: object literal with a plain field', fmt(withField)],
        ['rest copy of a run record without one field', fmt(restCopy)],
        ...stringify.map(([steps, bytes, us]) => [`JSON.stringify of a state with ${steps} step outputs (${bytes} B)`, fmt(us)]),
      ],
    ) + `\n\n${count} calls per figure (the stringify ${count / 10}), best of three passes after a warm-up, one process.`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(benchEngineMicro({ quick: readOptions(process.argv.slice(2)).has('quick') }));
  if (sink === 0.5) console.log(sink);
}
