/**
 * A worker process for the crash tests: executes the runs of the store named by FLOWRUN_STORE
 * until none is left ACTIVE, then prints DONE. Killed with SIGKILL at random moments by the test.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, type Logger } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { recoveryModules } from './workload.js';

const dir = process.env.FLOWRUN_EFFECTS_DIR!;
const store = openStoreSpec(process.env.FLOWRUN_STORE!);
// Lease losses are written down: a module may run again in the same process only after one.
const note = (obj: object, msg?: string): void => {
  const runId = (obj as { runId?: string }).runId;
  if (msg?.startsWith('lease lost') && runId) appendFileSync(join(dir, 'leases.log'), `${process.pid} ${runId}\n`);
};
const logger: Logger = { debug: () => undefined, info: () => undefined, warn: note, error: note };
const engine = createEngine({ stores: store, runtimeConfig: { logger }, modules: recoveryModules(dir), leaseMs: Number(process.env.FLOWRUN_LEASE_MS ?? 400), pollIntervalMs: 50, maxConcurrentRuns: Number(process.env.FLOWRUN_MAX_CONCURRENT ?? 2), workerId: `worker-${process.pid}` });
process.stdout.write('ready\n');
const stopWatching = engine.onAnyRunEvent(() => {
  stopWatching();
  process.stdout.write('working\n');
});
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  const active = await store.listRuns({ status: ['ACTIVE', 'INACTIVE'], limit: 1 });
  if (active.runs.length === 0) break;
}
await engine.close();
await store.close();
process.stdout.write('DONE\n');
