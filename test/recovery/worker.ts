/**
 * A worker process for the crash tests: executes the runs of the store named by FLOWRUN_STORE
 * until none is left ACTIVE, then prints DONE. Killed with SIGKILL at random moments by the test.
 */
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { recoveryModules } from './workload.js';

const dir = process.env.FLOWRUN_EFFECTS_DIR!;
const store = openStoreSpec(process.env.FLOWRUN_STORE!);
const engine = createEngine({ stores: store, modules: recoveryModules(dir), leaseMs: 400, pollIntervalMs: 50, maxConcurrentRuns: Number(process.env.FLOWRUN_MAX_CONCURRENT ?? 2), workerId: `worker-${process.pid}` });
process.stdout.write('ready\n');
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  const active = await store.listRuns({ status: ['ACTIVE', 'INACTIVE'], limit: 1 });
  if (active.runs.length === 0) break;
}
await engine.close();
await store.close();
process.stdout.write('DONE\n');
