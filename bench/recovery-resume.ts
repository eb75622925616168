/**
 * The fresh process of the recovery scenario: opens the SQLite file the killed process left,
 * lets an engine resume every ACTIVE run, and prints ONE JSON line once none is ACTIVE, with
 * wall-clock times (ms since the epoch) of its own start, its first resumed module call, and the end.
 *
 *   node --import tsx bench/recovery-resume.ts --path … --lease-ms 1000 [--max-concurrent 256] [--poll-ms 1000]
 */
import { createEngine, createSqliteStore } from '../src/index.js';
import { readOptions, sleep } from './measure.js';

const opt = readOptions(process.argv.slice(2));
const path = opt.get('path', 'bench/out/recovery/flowrun.db');
const leaseMs = opt.num('lease-ms', 1000);
const maxConcurrent = opt.has('max-concurrent') ? opt.num('max-concurrent', 256) : undefined;
const pollMs = opt.has('poll-ms') ? opt.num('poll-ms', 1000) : undefined;

const processStart = performance.timeOrigin;
let calls = 0;
let firstCall: number | null = null;
const stores = createSqliteStore({ path });
const engine = createEngine({
  stores,
  leaseMs,
  ...(maxConcurrent !== undefined ? { maxConcurrentRuns: maxConcurrent } : {}),
  ...(pollMs !== undefined ? { pollIntervalMs: pollMs } : {}),
  modules: {
    'bench/block': () => {
      calls += 1;
      firstCall ??= Date.now();
      return { resumed: true };
    },
  },
});
const engineReady = Date.now();
for (;;) {
  const active = await engine.listRuns({ status: 'ACTIVE', limit: 1 });
  if (active.runs.length === 0) break;
  await sleep(20);
}
const done = Date.now();
let succeeded = 0;
let marker: string | undefined;
for (;;) {
  const page = await engine.listRuns({ flowId: 'bench/recover', status: 'SUCCEEDED', limit: 1000, ...(marker ? { marker } : {}) });
  succeeded += page.runs.length;
  if (!page.marker) break;
  marker = page.marker;
}
const stats = stores.stats;
await engine.close();
await stores.close();
process.stdout.write(
  `${JSON.stringify({ process_start: processStart, engine_ready: engineReady, first_resumed_call: firstCall, done, module_calls: calls, succeeded, store_commits: stats.commits, store_writes: stats.operations, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10 })}\n`,
);
