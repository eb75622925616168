import { describe, expect, it } from 'vitest';
import { compileFlow, createEngine, createMemoryStores, validateFlow, type FlowDefinition } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

function setup() {
  const clock = createManualClock();
  const engine = createEngine({ stores: createMemoryStores(), clock, poll: false });
  return { clock, engine };
}

/** Lets promise chains run (no timers, no sleeping) until `check` holds; fails after many turns. */
async function until(check: () => Promise<boolean>): Promise<void> {
  // Many turns: under a loaded machine a subscriber's start may take more than a few hundred.
  for (let i = 0; i < 20_000; i++) {
    if (await check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error('condition never held');
}

async function statusAfterIdle(engine: ReturnType<typeof createEngine>, runId: string) {
  await engine.whenIdle();
  return engine.getRun(runId);
}

const napper: FlowDefinition = {
  id: 'napper',
  actions: {
    main: {
      startAt: 'nap',
      steps: {
        nap: { stepType: 'WAIT', durationMs: 5_000, defaultNextStepInstanceId: 'after' },
        after: { stepType: 'COMPUTE', expression: '{waited: steps.nap.waitedMs}' },
      },
    },
  },
};

const payment: FlowDefinition = {
  id: 'payment',
  actions: {
    main: {
      params: { order_id: { type: 'text', required: true } },
      startAt: 'await',
      steps: {
        await: {
          stepType: 'WAIT',
          event: 'payment.received',
          match: { order_id: 'input.order_id' },
          timeoutMs: 60_000,
          defaultNextStepInstanceId: 'paid',
          catch: [{ errorEquals: ['TIMEOUT'], next: 'unpaid' }],
        },
        paid: { stepType: 'COMPUTE', expression: '{paid: steps.await.event.amount}' },
        unpaid: { stepType: 'COMPUTE', expression: '{unpaid: steps.await.error.code}' },
      },
    },
  },
};

describe('WAIT', () => {
  it('sleeps on a timer with the run INACTIVE and leased to nobody, then goes on when the clock reaches it', async () => {
    const { clock, engine } = setup();
    const { requestId } = await engine.startRun({ flow: napper });
    const sleeping = await statusAfterIdle(engine, requestId);
    expect(sleeping).toMatchObject({ status: 'INACTIVE', leaseOwner: null, readyAt: clock.now() + 5_000 });
    expect(sleeping.state.suspension).toMatchObject({ kind: 'timer', stepId: 'nap' });
    await clock.advance(4_999);
    expect((await engine.getRun(requestId)).status).toBe('INACTIVE');
    await clock.advance(1);
    const done = await engine.waitForRun(requestId, { timeoutMs: 5_000 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { waited: 5_000 } });
    const statuses = (await engine.getRunEvents(requestId)).flatMap((e) => (e.kind === 'status' ? [e.status] : []));
    expect(statuses).toEqual(['ACTIVE', 'INACTIVE', 'ACTIVE', 'SUCCEEDED']);
  });

  it('is resumed by a second engine whose poller finds the due timer', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const first = createEngine({ stores, clock, poll: false });
    const { requestId } = await first.startRun({ flow: napper });
    await statusAfterIdle(first, requestId);
    await first.close();
    const second = createEngine({ stores, clock, pollIntervalMs: 1_000 });
    await clock.advance(6_000);
    expect(await second.waitForRun(requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED' });
    await second.close();
  });

  it('waits for a matching event, ignores others, and is woken once per event id', async () => {
    const { engine } = setup();
    await engine.deployFlow(payment, { publish: true });
    const { requestId } = await engine.startRun({ flow: 'payment', input: { order_id: 'o-1' } });
    expect((await statusAfterIdle(engine, requestId)).status).toBe('INACTIVE');
    expect(await engine.publishEvent('payment.received', { order_id: 'o-2', amount: 1 })).toMatchObject({ resumedRunIds: [] });
    expect(await engine.publishEvent('payment.failed', { order_id: 'o-1' })).toMatchObject({ resumedRunIds: [] });
    const woke = await engine.publishEvent('payment.received', { order_id: 'o-1', amount: 42 }, { eventId: 'pay-1' });
    expect(woke.resumedRunIds).toEqual([requestId]);
    expect(await engine.waitForRun(requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { paid: 42 } });
    expect(await engine.publishEvent('payment.received', { order_id: 'o-1', amount: 42 }, { eventId: 'pay-1' })).toMatchObject({ resumedRunIds: [] });
  });

  it('fails the step with TIMEOUT (catchable) when the event does not come in time', async () => {
    const { clock, engine } = setup();
    await engine.deployFlow(payment, { publish: true });
    const { requestId } = await engine.startRun({ flow: 'payment', input: { order_id: 'o-3' } });
    expect((await statusAfterIdle(engine, requestId)).readyAt).toBe(clock.now() + 60_000);
    await clock.advance(60_000);
    expect(await engine.waitForRun(requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { unpaid: 'TIMEOUT' } });
    expect(await engine.publishEvent('payment.received', { order_id: 'o-3' })).toMatchObject({ resumedRunIds: [] });
  });

  it('rejects a WAIT without exactly one of durationMs, until and event', () => {
    const bad = (step: Record<string, unknown>) => validateFlow({ id: 'w', actions: { main: { startAt: 'w', steps: { w: { stepType: 'WAIT', ...step } } } } } as unknown as FlowDefinition);
    expect(bad({})).toMatchObject({ ok: false });
    expect(bad({ durationMs: 1, event: 'x' })).toMatchObject({ ok: false });
    expect(bad({ durationMs: 1, timeoutMs: 5 })).toMatchObject({ ok: false });
    expect(bad({ until: '"2026-01-02T00:00:00Z"' })).toMatchObject({ ok: true });
  });
});

describe('EMIT', () => {
  it('publishes after its step commits: starts subscribers and wakes waiting runs, once', async () => {
    const { engine } = setup();
    await engine.deployFlow(payment, { publish: true });
    await engine.deployFlow({
      id: 'receipts',
      actions: { main: { startAt: 'r', steps: { r: { stepType: 'COMPUTE', expression: '{receipt: event.order_id}' } } } },
      subscriptions: [{ on: 'payment.received', run: 'main' }],
    });
    const waiting = await engine.startRun({ flow: 'payment', input: { order_id: 'o-7' } });
    await engine.whenIdle();
    const payer: FlowDefinition = {
      id: 'payer',
      actions: { main: { startAt: 'emit', steps: { emit: { stepType: 'EMIT', event: 'payment.received', payload: '{order_id: "o-7", amount: 9}' } } } },
    };
    const result = await engine.runAction({ flow: payer });
    const eventId = (result.output as { eventId: string }).eventId;
    expect(eventId).toBe(`${result.requestId}:0:emit`);
    expect(await engine.waitForRun(waiting.requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { paid: 9 } });
    await until(async () => (await engine.listRuns({ flowId: 'receipts', status: 'SUCCEEDED' })).runs.length > 0);
    const receipts = (await engine.listRuns({ flowId: 'receipts' })).runs;
    expect(receipts.map((r) => [r.source, r.output])).toEqual([['event', { receipt: 'o-7' }]]);
    // Published, it left the store's outbox.
    await until(async () => (await engine.store.listPendingEmits({ recordedBefore: Number.MAX_SAFE_INTEGER, limit: 10 })).length === 0);
    // Published again by its publisher — the run's principal, as the outbox does after a crash between commit and publish: nothing new starts.
    expect(await engine.publishEvent('payment.received', { order_id: 'o-7', amount: 9 }, { eventId, userId: 'anonymous' })).toMatchObject({ runIds: [receipts[0]!.runId], resumedRunIds: [] });
  });

  it('publishes an emit that a dead process committed with the run\'s end but never published, once, at the next poll after the grace period', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const receipts: FlowDefinition = {
      id: 'receipts',
      actions: { main: { startAt: 'r', steps: { r: { stepType: 'COMPUTE', expression: '{receipt: event.order_id}' } } } },
      subscriptions: [{ on: 'payment.received', run: 'main' }],
    };
    // What the dead process left: the run's last transition, committed with its emitted event.
    const deployer = createEngine({ stores, clock, poll: false });
    await deployer.deployFlow(receipts, { publish: true });
    const payer: FlowDefinition = { id: 'payer', actions: { main: { startAt: 'emit', steps: { emit: { stepType: 'EMIT', event: 'payment.received', payload: '{order_id: "o-1"}' } } } } };
    await deployer.deployFlow(payer, { publish: true });
    const run = deployer.buildRun({ flow: await deployer.loadFlow('payer'), actionName: 'main', input: {}, source: 'http' });
    await deployer.close();
    const created = await stores.createRun({ run, lease: { owner: 'dead', expiresAt: clock.now() + 1_000 } });
    await stores.recordTransition({
      runId: run.runId,
      lease: { owner: 'dead', fencingToken: created.lease!.fencingToken },
      expectedVersion: 0,
      at: clock.now(),
      patch: { status: 'SUCCEEDED', output: null, endTime: clock.now() },
      emits: [{ eventId: `${run.runId}:0:emit`, event: 'payment.received', payload: { order_id: 'o-1' } }],
    });

    const engine = createEngine({ stores, clock, leaseMs: 1_000, pollIntervalMs: 200 });
    await clock.advance(0);
    await engine.whenIdle();
    expect((await stores.listRuns({ flowId: 'receipts' })).runs).toEqual([]); // within the grace period: the live path's turn
    await clock.advance(1_000);
    await until(async () => (await stores.listRuns({ flowId: 'receipts', status: 'SUCCEEDED' })).runs.length === 1);
    await until(async () => (await stores.listPendingEmits({ recordedBefore: Number.MAX_SAFE_INTEGER, limit: 10 })).length === 0);
    await clock.advance(1_000);
    await engine.whenIdle();
    expect((await stores.listRuns({ flowId: 'receipts' })).runs.map((r) => r.output)).toEqual([{ receipt: 'o-1' }]);
    await engine.close();
  });

  it('runs wait and emit written in the flow language', async () => {
    const { clock, engine } = setup();
    const compiled = compileFlow(
      ['machine ticker', '  implements', '    wait pause, for: 1000', '    emit tick, on: "ticked" at: steps.pause.waitedMs', '    wait reply, on: "tocked" to: steps.tick.eventId'].join('\n'),
    );
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    await engine.deployFlow(compiled.flow, { publish: true });
    await engine.deployFlow({
      id: 'echo',
      actions: { main: { startAt: 'e', steps: { e: { stepType: 'EMIT', event: 'tocked', payload: '{to: "nobody", at: event.at}' } } } },
      subscriptions: [{ on: 'ticked', run: 'main' }],
    });
    const { requestId } = await engine.startRun({ flow: 'ticker' });
    await engine.whenIdle();
    await clock.advance(1_000);
    // The echo starts once the tick's transition is committed, and its own event matches nothing.
    await until(async () => (await engine.listRuns({ flowId: 'echo', status: 'SUCCEEDED' })).runs.length === 1);
    await until(async () => (await engine.getRun(requestId)).state.suspension?.stepId === 'reply');
    expect((await engine.getRun(requestId)).status).toBe('INACTIVE');
    const tickId = ((await engine.getRun(requestId)).state.frames[0]!.steps.tick as { eventId: string }).eventId;
    await engine.publishEvent('tocked', { to: tickId, at: 1 });
    expect(await engine.waitForRun(requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { event: { to: tickId, at: 1 } } });
  });
});
