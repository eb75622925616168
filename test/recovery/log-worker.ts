/**
 * A worker for test/recovery/log-crash.test.ts: executes the runs of FLOWRUN_STORE. Its module
 * `tick` logs five entries naming this process, 20 ms apart; with FLOWRUN_HANG set it then prints
 * `logged` and never returns (the test kills it there), else it returns and the worker exits once
 * no run is left ACTIVE.
 */
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const store = openStoreSpec(process.env.FLOWRUN_STORE!);
const hang = process.env.FLOWRUN_HANG === '1';
const engine = createEngine({
  stores: store,
  // Long enough that a process stalled by a loaded machine keeps its run; the next one claims it this long after a kill.
  leaseMs: 2_000,
  pollIntervalMs: 50,
  workerId: `worker-${process.pid}`,
  modules: {
    tick: async (_input, ctx) => {
      for (let i = 1; i <= 5; i++) {
        ctx.log('Tick', `process ${process.pid} tick ${i}`, { pid: process.pid, i });
        await new Promise((r) => setTimeout(r, 20));
      }
      if (hang) {
        process.stdout.write('logged\n');
        await new Promise(() => undefined);
      }
      return { pid: process.pid };
    },
  },
});
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  const active = await store.listRuns({ status: 'ACTIVE', limit: 1 });
  if (active.runs.length === 0) break;
}
await engine.close();
await store.close();
process.stdout.write('DONE\n');
