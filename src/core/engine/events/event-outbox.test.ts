import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type Store } from '../../../index.js';
import { createManualClock } from '../../../testing/manual-clock.js';

const emitter: FlowDefinition = {
  id: 'emitter',
  actions: { main: { startAt: 'announce', steps: { announce: { stepType: 'EMIT', event: 'order.done', payload: '{order: input.order}' } } } },
};
const receiver: FlowDefinition = {
  id: 'receiver',
  actions: { main: { startAt: 'r', steps: { r: { stepType: 'COMPUTE', expression: '{received: event.order}' } } } },
  subscriptions: [{ on: 'order.done', run: 'main' }],
};

/** The memory stores, with the outbox removal of emitted events waiting for `gate`; `reached` resolves when one waits. */
function gatedStores(gate: Promise<void>): { stores: ReturnType<typeof createMemoryStores>; gated: Store; reached: Promise<void> } {
  const stores = createMemoryStores();
  let reachedGate!: () => void;
  const reached = new Promise<void>((resolve) => (reachedGate = resolve));
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
  }) as Store;
  return { stores, gated, reached };
}

/** An engine over `gated` whose emitter run ended and whose EMIT's outbox removal waits at the gate. */
async function emittedAndWaiting(gated: Store, reached: Promise<void>, options: { clock?: ReturnType<typeof createManualClock>; order: string }) {
  const engine = createEngine({ stores: gated, poll: false, ...(options.clock ? { clock: options.clock } : {}) });
  await engine.deployFlow(emitter, { publish: true });
  await engine.deployFlow(receiver, { publish: true });
  await engine.startRun({ flow: 'emitter', input: { order: options.order } });
  await reached;
  return engine;
}

describe('EMIT outbox and engine.close', () => {
  it('waits for an event it is publishing to leave the outbox, so no other process has to sweep it', async () => {
    let openGate!: () => void;
    const { stores, gated, reached } = gatedStores(new Promise<void>((resolve) => (openGate = resolve)));
    const engine = await emittedAndWaiting(gated, reached, { order: 'o-7' });

    let closed = false;
    const closing = engine.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    openGate();
    await closing;
    expect(await stores.listPendingEmits({ recordedBefore: Number.MAX_SAFE_INTEGER, limit: 10 })).toEqual([]);
    expect((await stores.listRuns({ flowId: 'receiver' })).runs.map((r) => r.output)).toEqual([{ received: 'o-7' }]);
  });

  it('does not wait past 5 s for a store that never answers: the event stays for a sweep', async () => {
    const clock = createManualClock();
    const { stores, gated, reached } = gatedStores(new Promise<void>(() => {}));
    const engine = await emittedAndWaiting(gated, reached, { clock, order: 'o-8' });

    let closed = false;
    const closing = engine.close().then(() => (closed = true));
    await clock.advance(4_999);
    expect(closed).toBe(false);
    await clock.advance(1);
    await closing;
    expect((await stores.listPendingEmits({ recordedBefore: Number.MAX_SAFE_INTEGER, limit: 10 })).map((e) => e.event)).toEqual(['order.done']);
  });
});
