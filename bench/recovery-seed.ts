/**
 * The process the recovery scenario kills: starts `--runs` runs of bench/recover on the SQLite
 * file `--path` and prints `READY {json}` once every run is recorded and its blocking module
 * step has started (StepStarted is committed before a module is called, so all of them are
 * durable and mid-way). Then it waits to be SIGKILLed.
 *
 *   node --import tsx bench/recovery-seed.ts --path bench/out/recovery/flowrun.db --runs 10000 --lease-ms 1000
 */
import { createEngine, createSqliteStore } from '../src/index.js';
import { readOptions } from './measure.js';
import { recoveryFlow } from './recovery-flow.js';

const opt = readOptions(process.argv.slice(2));
const path = opt.get('path', 'bench/out/recovery/flowrun.db');
const runs = opt.num('runs', 10_000);
const leaseMs = opt.num('lease-ms', 1000);

const started = performance.now();
let blocked = 0;
const stores = createSqliteStore({ path });
const engine = createEngine({
  stores,
  leaseMs,
  // Every run executes here at once, so every one of them reaches its module step before the kill:
  // room for all of them past the one slot in sixteen the fair shares keep for other owners' new
  // runs (fair-shares.ts). With `runs + 64` (as before), 65 of 2,000 waited for a slot forever.
  maxConcurrentRuns: Math.ceil(((runs + 64) * 16) / 15),
  modules: {
    'bench/block': () => {
      blocked += 1;
      if (blocked === runs) {
        const stats = stores.stats;
        process.stdout.write(`READY ${JSON.stringify({ runs, seed_s: Math.round(performance.now() - started) / 1000, store_commits: stats.commits, store_writes: stats.operations })}\n`);
      }
      return new Promise(() => undefined);
    },
  },
});
await engine.deployFlow(recoveryFlow, { publish: true });
let next = 0;
await Promise.all(
  Array.from({ length: 256 }, async () => {
    while (next < runs) {
      const i = next++;
      await engine.startRun({ flow: 'bench/recover', input: { i } });
    }
  }),
);
// Wait for the kill.
setInterval(() => undefined, 60_000);
