/**
 * A writer process for acked-writes.test.ts: runs one-step runs 32 at a time on the SQLite store at
 * FLOWRUN_STORE and prints `acked <requestId>` the moment each run's `runAction` resolved
 * SUCCEEDED — a write the caller was told is done. Killed with SIGKILL by the test; never ends,
 * unless FLOWRUN_ACKED_STOP_AFTER is set: then it kills itself with SIGKILL after that many
 * (bench/fsync-order.ts traces it with strace, which ends with its tracee).
 */
import { createEngine, defineFlow } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const stores = openStoreSpec(process.env.FLOWRUN_STORE!);
const engine = createEngine({ stores, modules: { 'acked/echo': async (input) => ({ echoed: input }) } });
const flow = defineFlow({ id: 'acked/one-step', actions: { main: { startAt: 'echo', steps: { echo: { stepType: 'MODULE', moduleIdentifier: 'acked/echo' } } } } });
await engine.deployFlow(flow, { publish: true });
const stopAfter = Number(process.env.FLOWRUN_ACKED_STOP_AFTER ?? Number.POSITIVE_INFINITY);
let next = 0;
let acked = 0;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    for (;;) {
      const requestId = `acked-${process.pid}-${next++}`;
      const result = await engine.runAction({ flow: 'acked/one-step', input: { requestId }, requestId });
      // Pipes are written synchronously on Linux: the test reads exactly what was acknowledged.
      if (result.status === 'SUCCEEDED') process.stdout.write(`acked ${requestId}\n`);
      if (++acked >= stopAfter) process.kill(process.pid, 'SIGKILL');
    }
  }),
);
