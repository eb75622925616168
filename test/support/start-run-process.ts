// Starts one run fire-and-forget with runAction in this process (seed 002), over the store named by
// FLOWRUN_STORE, with the caller's requestId; exits when the run has ended.
import { createEngine, type FlowDefinition } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const [requestId, gapMs] = process.argv.slice(2) as [string, string];
const store = openStoreSpec(process.env.FLOWRUN_STORE!);
const flow: FlowDefinition = {
  id: 'watch/producer',
  actions: { main: { startAt: 'produce', steps: { produce: { stepType: 'MODULE', moduleIdentifier: 'produce', defaultNextStepInstanceId: 'end' }, end: { stepType: 'COMPUTE', expression: '"finished"' } } } },
};
const engine = createEngine({
  stores: store,
  modules: {
    produce: async (_input, ctx) => {
      for (let i = 1; i <= 5; i++) {
        const item = ctx.emitItem({ type: 'line', content: `line ${i}` });
        ctx.emitItem({ type: 'typing', content: i, transient: true }).done();
        await new Promise((r) => setTimeout(r, Number(gapMs)));
        item.done();
      }
      return { lines: 5 };
    },
  },
});
void engine.runAction({ flow, requestId, userId: 'job', source: 'manual' }).then(async (result) => {
  await engine.close();
  await store.close();
  process.stdout.write(`${result.status}\n`);
});
