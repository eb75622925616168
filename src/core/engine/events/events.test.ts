import { describe, expect, it } from 'vitest';
import { compileFlow, createEngine, createMemoryStores, type FlowDefinition } from '../../../index.js';
import { eventRunId } from './event-publisher.js';

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

  it('derives the same run id for the same event, flow and subscription in every process', async () => {
    const sub = { on: 'x', run: 'main' };
    expect(await eventRunId('e', 'f', sub)).toBe(await eventRunId('e', 'f', sub));
    expect(await eventRunId('e', 'f', sub)).not.toBe(await eventRunId('e', 'g', sub));
    expect(await eventRunId('e', 'f', sub)).not.toBe(await eventRunId('e', 'f', { on: 'x', run: 'other' }));
  });
});
