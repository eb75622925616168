/**
 * Where a `POST /runs` server profile's busy time went, by area of the request path: each sample
 * goes to the first area (in the order below) that any frame of its stack belongs to, so a SQLite
 * statement run by the run's insert counts as the insert, not as the commit around it. In percent
 * of the samples that were not idle; with REQUESTS (answered during the profile), also in µs a
 * request (the profile's busy time shared out).
 *
 *   node --import tsx bench/http.ts --quick --requests-only --cpu-prof FILE
 *   node bench/profile-areas.mjs FILE.post.cpuprofile [REQUESTS]
 */
import { readFileSync } from 'node:fs';

/** [area, what a frame `function@path` of it looks like (the path from the project or the package on), first match wins. */
const AREAS = [
  ['garbage collection', /^\(garbage collector\)@/],
  ['SQLite: the run insert (row, indexes, first events)', /^(insertRun|createRun|newRunParams|writeRunInput)@src\/store\/sqlite\//],
  ["SQLite: the run's transition (UPDATE, indexes, events)", /^(recordTransition|writeTransition)@src\/store\/sqlite\//],
  ['SQLite: BEGIN / SAVEPOINT / COMMIT and the fsync', /^(#applyAndCommit|#tryCommit|#transaction|#commitBatch|#drain|syncDeferred)@src\/store\/sqlite\/|@src\/store\/sqlite\/wal-sync/],
  ['SQLite: reads (tokens, principals, generation)', /@src\/store\/sqlite\/(sqlite-store|committed-reads|sqlite-connection|sqlite-principal-store)/],
  ['authentication (token digest, lookup)', /@src\/server\/api-tokens/],
  ['request schema (zod, OpenAPI validator)', /@node_modules\/(zod|@hono\/zod-openapi|@hono\/zod-validator)\/|@node_modules\/hono\/dist\/validator\//],
  ['engine start (flow, permissions, building the run)', /^(prepareStart|buildRun|buildNewRun|startRun|#createAndExecute|startRunFor|sealJson)@/],
  ["the run's execution (executor, step, journal, live fan-out)", /@src\/core\/engine\/(execution|steps|live)\/|^(publishCommitted|runEnded)@/],
  ['run answer (details, JSON)', /@src\/server\/run-details|^toRunView@/],
  ['Hono (routing, middleware)', /@node_modules\/hono\//],
  ['the router (flowrun server code)', /@src\/server\//],
  ['node:http, sockets, the adapter', /@node:_http|@node:net|@node:internal\/streams|stream_base_commons|@node_modules\/@hono\/node-server\/|@node:events|^writev@/],
];

const [, , file, requests] = process.argv;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
/** `function@path`, the path from `src/` or `node_modules/` on where it has one (the built package's `dist/x.js` named as its source, `src/x.ts`). */
const frame = (n) => {
  const url = n.callFrame.url.replace(/\/dist\/(.*)\.js$/, '/src/$1.ts');
  const at = Math.max(url.lastIndexOf('/node_modules/') + 1, url.lastIndexOf('/src/') + 1);
  return `${n.callFrame.functionName || '(anonymous)'}@${at > 0 ? url.slice(at) : url}`;
};
const areaOf = new Map();
const counts = new Map();
let busy = 0;
for (const id of profile.samples) {
  if (byId.get(id).callFrame.functionName === '(idle)') continue;
  busy++;
  let area = areaOf.get(id);
  if (area === undefined) {
    const frames = [];
    for (let at = id; at !== undefined; at = parentOf.get(at)) frames.push(frame(byId.get(at)));
    area = AREAS.find(([, pattern]) => frames.some((f) => pattern.test(f)))?.[0] ?? 'other';
    areaOf.set(id, area);
  }
  counts.set(area, (counts.get(area) ?? 0) + 1);
}
const total = profile.samples.length;
const seconds = (profile.endTime - profile.startTime) / 1e6;
const busySeconds = (seconds * busy) / total;
console.log(`${total} samples over ${seconds.toFixed(2)} s, ${((100 * busy) / total).toFixed(1)} % not idle${requests ? `, ${Math.round((busySeconds * 1e6) / Number(requests))} µs busy a request` : ''}`);
for (const [area, count] of [...counts].sort((a, b) => b[1] - a[1])) {
  const us = requests ? `  ${String(Math.round((busySeconds * 1e6 * count) / busy / Number(requests))).padStart(4)} µs` : '';
  console.log(`${((100 * count) / busy).toFixed(1).padStart(5)} %${us}  ${area}`);
}
