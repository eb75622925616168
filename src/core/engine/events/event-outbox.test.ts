import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type Store } from '../../../index.js';

const emitter: FlowDefinition = {
  id: 'emitter',
  actions: { main: { startAt: 'announce', steps: { announce: { stepType: 'EMIT', event: 'order.done', payload: '{order: input.order}' } } } },
};
const receiver: FlowDefinition = {
  id: 'receiver',
  actions: { main: { startAt: 'r', steps: { r: { stepType: 'COMPUTE', expression: '{received: event.order}' } } } },
  subscriptions: [{ on: 'order.done', run: 'main' }],
};

describe('EMIT outbox and engine.close', () => {
  it('waits for an event it is publishing to leave the outbox, so no other process has to sweep it', async () => {
    const stores = createMemoryStores();
    // The outbox removal of the emitted event waits at a gate the test opens.
    let reachedGate!: () => void;
    const reached = new Promise<void>((resolve) => (reachedGate = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const gated = new Proxy(stores, {
      get(target, property) {
        if (property === 'deletePendingEmits') {
          return async (ids: string[]) => {
            reachedGate();
            await gate;
            return target.deletePendingEmits(ids);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as typeof stores & Store;
    const engine = createEngine({ stores: gated, poll: false });
    await engine.deployFlow(emitter, { publish: true });
    await engine.deployFlow(receiver, { publish: true });
    await engine.startRun({ flow: 'emitter', input: { order: 'o-7' } });
    await reached;

    let closed = false;
    const closing = engine.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    openGate();
    await closing;
    expect(await stores.listPendingEmits({ recordedBefore: Number.MAX_SAFE_INTEGER, limit: 10 })).toEqual([]);
    expect((await stores.listRuns({ flowId: 'receiver' })).runs.map((r) => r.output)).toEqual([{ received: 'o-7' }]);
  });
});
