/**
 * A worker process for the EMIT outbox crash test. With FLOWRUN_KILL_AFTER_END set, it kills
 * itself with SIGKILL the moment the store has committed the transition that ends run
 * FLOWRUN_KILL_AFTER_END — after the commit, before anything is published. Without it, it
 * executes (and sweeps) until a `receiver` run succeeded, then prints DONE.
 * The kill lives here, in a wrapper around the store, not in production code.
 */
import { createEngine, type Store, type Transition } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const store = openStoreSpec(process.env.FLOWRUN_STORE!);
const killAfterEndOf = process.env.FLOWRUN_KILL_AFTER_END;

// Every method of the real store, bound to it; recordTransition dies right after the run's last commit.
const killing = new Proxy(store, {
  get(target, property) {
    if (property === 'recordTransition') {
      return async (t: Transition) => {
        const recorded = await target.recordTransition(t);
        if (t.runId === killAfterEndOf && t.patch.status === 'SUCCEEDED') process.kill(process.pid, 'SIGKILL');
        return recorded;
      };
    }
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  },
}) as Store;

const engine = createEngine({ stores: killing, leaseMs: 300, pollIntervalMs: 50, workerId: `worker-${process.pid}` });
process.stdout.write('ready\n');
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const received = await store.listRuns({ flowId: 'receiver', status: 'SUCCEEDED', limit: 1 });
  if (received.runs.length > 0) break;
}
await engine.close();
await store.close();
process.stdout.write('DONE\n');
