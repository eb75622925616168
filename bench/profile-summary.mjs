/**
 * Where a CPU profile's time went, as two tables: self time by function and inclusive time by
 * function (a function counted once per sample however often it recurs), in percent of the
 * samples. Reads a `.cpuprofile` (node --cpu-prof, or `--cpu-prof FILE` of flowrun-runner.ts and
 * http-server.ts); FILTER keeps the lines containing it.
 *
 *   node bench/profile-summary.mjs FILE [TOP=40] [FILTER]
 */
import { readFileSync } from 'node:fs';

const [, , file, top = '40', filter] = process.argv;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}`;
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const self = new Map();
const inclusive = new Map();
let busy = 0;
for (const [id, count] of hits) {
  const leaf = name(byId.get(id));
  self.set(leaf, (self.get(leaf) ?? 0) + count);
  if (!leaf.startsWith('(idle)')) busy += count;
  const seen = new Set();
  for (let at = id; at !== undefined; at = parentOf.get(at)) {
    const key = name(byId.get(at));
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + count);
  }
}
const total = profile.samples.length;
console.log(`${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s, ${((100 * busy) / total).toFixed(1)} % not idle`);
for (const [title, table] of [['self', self], ['inclusive', inclusive]]) {
  console.log(`--- ${title} (% of all samples)`);
  const rows = [...table].filter(([key]) => !filter || key.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, Number(top));
  for (const [key, count] of rows) console.log(`${((100 * count) / total).toFixed(1).padStart(5)}  ${key}`);
}
