/**
 * What held the event loop in a server's long gaps: reads a CPU profile written by
 * `bench/hostile.ts --profile FILE` and the gaps its probe noted beside it (FILE.gaps), and sums
 * the profile's samples inside every gap longer than MIN_MS by what they were doing.
 *
 *   node bench/profile-gaps.mjs FILE [MIN_MS=20]
 *
 * The buckets are by the first matching frame on the sample's stack, in this order: the SQLite
 * group commit's transaction (split by the write it was applying), the run executors' steps, the
 * scheduler, the turn gate, HTTP, the garbage collector; "other" is the rest (mostly an executor's
 * work after its commit settled: publishing, building created runs).
 */
import { readFileSync } from 'node:fs';

const [, , profileFile, minGapMs = '20'] = process.argv;
const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const frame = (n) => `${n.callFrame.functionName}@${n.callFrame.url.split('/').slice(-2).join('/')}`;
const BUCKETS = [
  ['tx: state slots (JSON of the state)', /writeSlots@/],
  ['tx: a run created', /insertRun@/],
  ['tx: events appended', /appendEvents@/],
  ['tx: a transition, other', /recordTransition@sqlite/],
  ['tx: other (statements, commit)', /#tryCommit@/],
  ['claims', /claimRuns@|#pollOnce@/],
  ['turn gate', /#slice@/],
  ['executor steps', /#loop@|execute@execution\/run-executor/],
  ['scheduler', /run-scheduler/],
  ['http', /_http|dist\/index.mjs/],
  ['garbage collector', /^\(garbage collector\)/],
];
const bucketOf = (id) => {
  const stack = [];
  for (let x = id; x !== undefined; x = parentOf.get(x)) stack.push(frame(byId.get(x)));
  for (const [name, re] of BUCKETS) if (stack.some((f) => re.test(f))) return name;
  return stack[0].startsWith('(idle)') ? 'idle' : 'other';
};
// Sample times on the monotonic clock (µs), the probe's third column.
const times = [];
for (let i = 0, t = profile.startTime; i < profile.samples.length; i++) times.push((t += profile.timeDeltas[i] ?? 0));
const gaps = readFileSync(`${profileFile}.gaps`, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number))
  .filter(([, gap, endUs]) => gap > Number(minGapMs) && endUs - gap * 1000 > profile.startTime && endUs <= profile.endTime);
const totals = new Map();
for (const [, gap, endUs] of gaps) {
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i] < endUs - gap * 1000 || times[i] > endUs) continue;
    const bucket = bucketOf(profile.samples[i]);
    totals.set(bucket, (totals.get(bucket) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
}
const sum = gaps.reduce((s, g) => s + g[1], 0);
console.log(`${gaps.length} gaps longer than ${minGapMs} ms in the profile: ${sum.toFixed(0)} ms in all, the largest ${Math.max(0, ...gaps.map((g) => g[1])).toFixed(1)} ms`);
for (const [bucket, ms] of [...totals].sort((a, b) => b[1] - a[1])) console.log(`${ms.toFixed(1).padStart(9)} ms  ${(100 * ms / sum).toFixed(0).padStart(3)} %  ${bucket}`);
