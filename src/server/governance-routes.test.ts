/**
 * Events and approvals over HTTP: `POST /events` starts the subscribed flows as the caller, once
 * per event id; `POST /runs/{id}/approve|reject` decide a step held for approval, as a manager.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

const audit: FlowDefinition = {
  id: 'demo/audit',
  actions: { main: { startAt: 'note', steps: { note: { stepType: 'COMPUTE', expression: '{audited: event.order_id}' } } } },
  subscriptions: [{ on: 'order.created', run: 'main' }],
};

const charge: FlowDefinition = {
  id: 'billing/charge',
  actions: {
    main: {
      startAt: 'charge',
      steps: {
        charge: { stepType: 'MODULE', moduleIdentifier: 'card/charge', defaultNextStepInstanceId: 'done', catch: [{ errorEquals: ['GOVERNANCE_REJECTED'], next: 'refused' }] },
        done: { stepType: 'COMPUTE', expression: '"charged"' },
        refused: { stepType: 'COMPUTE', expression: 'steps.charge.error.code' },
      },
    },
  },
};

let f: ServerFixture;
beforeEach(async () => {
  const stores = createMemoryStores();
  const engine = createEngine({
    stores,
    pollIntervalMs: 50,
    runtimeConfig: { modules: { 'card/charge': () => ({ ok: true }) }, governance: (request) => (request.stepId === 'charge' ? { decision: 'approve', reason: 'card' } : 'allow') },
  });
  f = await createServerFixture({ stores, engine });
  await engine.principals.grantEvents({ principalId: 'adam', right: 'subscribe', pattern: 'order.*' });
  await engine.deployFlow(audit, { deployedBy: 'adam', publish: true });
  await engine.deployFlow(charge, { deployedBy: 'adam', publish: true });
});
afterEach(async () => {
  await f.close();
});

describe('events and approvals over HTTP', () => {
  it('publishes an event: the subscribed flow starts once per event id, owned by its deployer, triggered by the publisher', async () => {
    const first = await f.json('POST', '/events', { as: 'gina', body: { name: 'order.created', payload: { order_id: 'o-1' }, eventId: 'evt-1' } });
    expect(first.status).toBe(200);
    expect(first.body.runIds).toHaveLength(1);
    const again = await f.json('POST', '/events', { as: 'gina', body: { name: 'order.created', payload: { order_id: 'o-1' }, eventId: 'evt-1' } });
    expect(again.body.runIds).toEqual(first.body.runIds);
    const run = await f.engine.waitForRun(first.body.runIds[0], { timeoutMs: 5_000 });
    expect(run).toMatchObject({ source: 'event', createdBy: 'adam', runOwner: 'adam', triggeredBy: 'gina', output: { audited: 'o-1' } });
    const seen = await f.json('GET', `/runs/${run.runId}`, { as: 'adam' });
    expect(seen.body.run).toMatchObject({ triggeredBy: 'gina', createdBy: 'adam' });
  });

  it('approves and rejects a held step as the owner; a monitor may not decide; an outsider sees no run', async () => {
    const start = async () => (await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'billing/charge', runMonitoringBy: ['mona'] } })).body.run.runId as string;
    const held = async (id: string) => {
      await f.engine.whenIdle();
      expect((await f.engine.getRun(id)).status).toBe('INACTIVE');
    };
    const approved = await start();
    await held(approved);
    expect((await f.json('POST', `/runs/${approved}/approve`, { as: 'mona', body: { stepId: 'charge' } })).body.error.code).toBe('PERMISSION_DENIED');
    expect((await f.json('POST', `/runs/${approved}/approve`, { as: 'otto', body: { stepId: 'charge' } })).body.error.code).toBe('RUN_NOT_FOUND');
    expect((await f.json('POST', `/runs/${approved}/approve`, { as: 'olivia', body: { stepId: 'other' } })).body.error.code).toBe('CONFLICT');
    const decided = await f.json('POST', `/runs/${approved}/approve`, { as: 'olivia', body: { stepId: 'charge', comment: 'fine' } });
    expect(decided.status).toBe(200);
    expect((await f.engine.waitForRun(approved, { timeoutMs: 5_000 })).output).toBe('charged');
    const rejected = await start();
    await held(rejected);
    expect((await f.json('POST', `/runs/${rejected}/reject`, { as: 'olivia', body: { stepId: 'charge', comment: 'no' } })).status).toBe(200);
    expect((await f.engine.waitForRun(rejected, { timeoutMs: 5_000 })).output).toBe('GOVERNANCE_REJECTED');
  });
});
