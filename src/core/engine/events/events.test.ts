import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileFlow, createEngine, createMemoryStores, type FlowDefinition } from '../../../index.js';
import { DerivedRunIds } from '../start/derived-run-ids.js';

const orderHandler = `machine order_handler
  implements
    subscribes
      on "order.created" run validate_and_process
      on "order.cancelled" run handle_cancellation
  flows
    flow validate_and_process
      compute result {processed: event.order_id, seen: input.order_id}
    flow handle_cancellation
      compute result {cancelled: event.order_id}
`;

const audit: FlowDefinition = {
  id: 'audit',
  actions: {
    main: { startAt: 'note', steps: { note: { stepType: 'COMPUTE', expression: '{audited: event.order_id, via: input.order_id}' } } },
    on_cancel: { params: { order_id: { type: 'text', required: true } }, startAt: 'note', steps: { note: { stepType: 'COMPUTE', expression: '{cancelled: input.order_id}' } } },
  },
  subscriptions: [
    { on: 'order.created', run: 'main' },
    { on: 'order.cancelled', run: 'on_cancel' },
  ],
};

async function engineWithSubscribers() {
  const engine = createEngine({ stores: createMemoryStores(), poll: false });
  const compiled = compileFlow(orderHandler);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
  await engine.deployFlow(compiled.flow, { publish: true });
  await engine.deployFlow(audit);
  return engine;
}

describe('events', () => {
  it('starts every subscribed subflow and action once, with event bound and source event', async () => {
    const engine = await engineWithSubscribers();
    const published = await engine.publishEvent('order.created', { order_id: 'o-1' }, { eventId: 'evt-1' });
    expect(published.eventId).toBe('evt-1');
    expect(published.runIds).toHaveLength(2);
    for (const id of published.runIds) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const runs = await Promise.all(published.runIds.map((id) => engine.waitForRun(id, { timeoutMs: 5_000 })));
    const byFlow = Object.fromEntries(runs.map((r) => [r.flowId, r]));
    expect(byFlow.order_handler).toMatchObject({ status: 'SUCCEEDED', source: 'event', actionName: 'subflow:validate_and_process', output: { processed: 'o-1', seen: 'o-1' } });
    expect(byFlow.audit).toMatchObject({ status: 'SUCCEEDED', source: 'event', actionName: 'main', output: { audited: 'o-1', via: 'o-1' } });
    const logs = await engine.getRunLogs(byFlow.audit!.runId);
    expect(logs.entries.map((e) => e.code)).toContain('EventReceived');
  });

  it('starts nothing new when the same event id is published again, and answers the same runs', async () => {
    const engine = await engineWithSubscribers();
    const first = await engine.publishEvent('order.cancelled', { order_id: 'o-2' }, { eventId: 'evt-2' });
    const again = await engine.publishEvent('order.cancelled', { order_id: 'o-2' }, { eventId: 'evt-2' });
    const concurrent = await Promise.all([1, 2, 3].map(() => engine.publishEvent('order.cancelled', { order_id: 'o-3' }, { eventId: 'evt-3' })));
    expect(first.runIds).toHaveLength(2);
    expect(again.runIds.sort()).toEqual([...first.runIds].sort());
    expect(new Set(concurrent.map((c) => c.runIds.sort().join()))).toHaveProperty('size', 1);
    await engine.whenIdle();
    const all = await engine.listRuns({ limit: 100 });
    expect(all.runs).toHaveLength(4);
    expect(all.runs.every((r) => r.source === 'event' && r.status === 'SUCCEEDED')).toBe(true);
  });

  it('starts an event run for each new event id, and none for an event nobody subscribes to', async () => {
    const engine = await engineWithSubscribers();
    const a = await engine.publishEvent('order.created', { order_id: 'a' });
    const b = await engine.publishEvent('order.created', { order_id: 'b' });
    expect(a.eventId).not.toBe(b.eventId);
    expect(a.runIds.some((id) => b.runIds.includes(id))).toBe(false);
    expect(await engine.publishEvent('order.shipped', {})).toMatchObject({ runIds: [] });
    await expect(engine.publishEvent('', {})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('skips a subscriber whose input does not fit its params and starts the others', async () => {
    const engine = await engineWithSubscribers();
    const first = await engine.publishEvent('order.cancelled', { other: 1 }, { eventId: 'evt-bad' });
    expect(first.runIds).toHaveLength(1); // audit.on_cancel needs order_id
    expect((await engine.getRun(first.runIds[0]!)).flowId).toBe('order_handler');
  });

  it('skips flows the publishing user may not start', async () => {
    const engine = await engineWithSubscribers();
    await engine.deployFlow({ ...audit, id: 'restricted', roles: { starters: ['ops'] } });
    const published = await engine.publishEvent('order.created', { order_id: 'o-9' }, { userId: 'ada' });
    const flows = await Promise.all(published.runIds.map(async (id) => (await engine.getRun(id)).flowId));
    expect(flows.sort()).toEqual(['audit', 'order_handler']);
    // The runs act as the flows' deployer (trusted in-process code here), never as the publisher, who is recorded.
    expect(await engine.getRun(published.runIds[0]!)).toMatchObject({ createdBy: 'anonymous', triggeredBy: 'ada' });
  });

  it('starts each subscriber once when two engines over one store publish the same event id', async () => {
    const stores = createMemoryStores();
    const [a, b] = [createEngine({ stores, poll: false }), createEngine({ stores, poll: false })];
    await a.deployFlow(audit);
    const [fromA, fromB] = await Promise.all([a.publishEvent('order.created', { order_id: 'o-x' }, { eventId: 'evt-x' }), b.publishEvent('order.created', { order_id: 'o-x' }, { eventId: 'evt-x' })]);
    expect(fromA.runIds).toHaveLength(1);
    expect(fromB.runIds).toEqual(fromA.runIds);
    expect((await stores.listRuns({ flowId: 'audit' })).runs).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('cannot be blocked by a run someone created first at an event run id computed from public data', async () => {
    const engine = await engineWithSubscribers();
    // The derivation before issue 12: SHA-256 of the event id, the flow and the subscription.
    const squat = (eventId: string, flowId: string, on: string, run: string): string => {
      const bytes = createHash('sha256').update(JSON.stringify(['flowrun-event-run', eventId, flowId, on, run])).digest().subarray(0, 16);
      bytes[6] = (bytes[6]! & 0x0f) | 0x80;
      bytes[8] = (bytes[8]! & 0x3f) | 0x80;
      const hex = bytes.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    };
    await engine.deployFlow({ id: 'squatter', actions: { main: { startAt: 'w', steps: { w: { stepType: 'WAIT', durationMs: 60_000 } } } } });
    for (const [flowId, run] of [['audit', 'main'], ['order_handler', 'validate_and_process']] as const) {
      await engine.startRun({ flow: 'squatter', userId: 'mallory', requestId: squat('evt-s', flowId, 'order.created', run) });
    }
    const published = await engine.publishEvent('order.created', { order_id: 'o-s' }, { eventId: 'evt-s' });
    expect(published.runIds).toHaveLength(2);
    const runs = await Promise.all(published.runIds.map((id) => engine.waitForRun(id, { timeoutMs: 5_000 })));
    expect(runs.map((r) => [r.flowId, r.status]).sort()).toEqual([
      ['audit', 'SUCCEEDED'],
      ['order_handler', 'SUCCEEDED'],
    ]);
    await engine.close();
  });

  it('derives the same run id for the same event, flow and subscription in every process over one store, and another with another secret', async () => {
    const sub = { on: 'x', run: 'main' };
    const secret = new Uint8Array(32).fill(7);
    const one = new DerivedRunIds(async () => secret);
    const other = new DerivedRunIds(async () => secret.slice());
    expect(await one.forEvent('e', 'f', sub, null)).toBe(await other.forEvent('e', 'f', sub, null));
    expect(await one.forEvent('e', 'f', sub, null)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await one.forEvent('e', 'f', sub, null)).not.toBe(await one.forEvent('e', 'g', sub, null));
    expect(await one.forEvent('e', 'f', sub, null)).not.toBe(await one.forEvent('e', 'f', { on: 'x', run: 'other' }, null));
    expect(await one.forEvent('e', 'f', sub, null)).not.toBe(await new DerivedRunIds(async () => new Uint8Array(32).fill(8)).forEvent('e', 'f', sub, null));
    // Another publisher's same event id is another run: nobody takes an event id first for someone else.
    expect(await one.forEvent('e', 'f', sub, 'mallory')).not.toBe(await one.forEvent('e', 'f', sub, 'alice'));
  });
});
