/**
 * Issue 12, items 3 and 4, over HTTP through `router.fetch`: a stranger (otto) cannot resume
 * olivia's waiting run with an event, cannot read her payloads through a flow he deploys, and a
 * subscriber he deploys never acts with the grants of the user whose event started it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import { DEPLOY_PROD, shipsOnPayment } from '../../test/support/hostile-flows.js';

const shipping = shipsOnPayment();
const deployProd = DEPLOY_PROD;

/** otto's subscriber: copies the payload into its output and tries ops/deploy-prod as svc-deploy. */
const ottosSubscriber = {
  id: 'otto/listen',
  actions: {
    main: {
      startAt: 'deploy',
      steps: {
        deploy: { stepType: 'RUN_FLOW', flowDefinitionId: 'ops/deploy-prod', runAs: 'svc-deploy', defaultNextStepInstanceId: 'copy', catch: [{ errorEquals: ['*'], next: 'copy' }] },
        copy: { stepType: 'COMPUTE', expression: '{copied: event, deploy: steps.deploy.error.code}' },
      },
    },
  },
  subscriptions: [
    { on: 'a.daily', run: 'main' },
    { on: 'order.created', run: 'main' },
  ],
};

let f: ServerFixture;
beforeEach(async () => {
  const stores = createMemoryStores();
  const engine = createEngine({ stores, pollIntervalMs: 50 });
  f = await createServerFixture({ stores, engine });
  await engine.principals.createServiceAccount({ id: 'svc-deploy' });
  await engine.principals.grantActAs({ serviceAccountId: 'svc-deploy', principalId: 'olivia' });
  await engine.deployFlow(shipping, { deployedBy: 'adam', publish: true });
  await engine.deployFlow(deployProd, { deployedBy: 'adam', publish: true });
});
afterEach(async () => {
  await f.close();
});

async function oliviasWaitingOrder(orderId: string): Promise<string> {
  const started = await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'shop/ship', input: { orderId } } });
  expect(started.status).toBe(201);
  const runId = started.body.run.runId as string;
  await f.engine.whenIdle();
  expect((await f.json('GET', `/runs/${runId}`, { as: 'olivia' })).body.run.status).toBe('INACTIVE');
  return runId;
}

describe('events over HTTP follow the permission model', () => {
  it("does not let a stranger's POST /events resume another user's waiting run, and answers as if there were none", async () => {
    const runId = await oliviasWaitingOrder('o-1');
    const response = await f.call('POST', '/events', { as: 'otto', body: { name: 'payment.confirmed', payload: { orderId: 'o-1' } } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ runIds: [] });
    expect(text).not.toContain(runId);
    await f.engine.whenIdle();
    expect((await f.json('GET', `/runs/${runId}`, { as: 'olivia' })).body.run).toMatchObject({ status: 'INACTIVE', output: null });

    // Her own event ships it.
    expect((await f.json('POST', '/events', { as: 'olivia', body: { name: 'payment.confirmed', payload: { orderId: 'o-1' } } })).status).toBe(200);
    expect(await f.engine.waitForRun(runId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { shipped: 'o-1' } });
  });

  it('lets a principal granted publishing the name resume it (the grant is the explicit way for a payment service)', async () => {
    const runId = await oliviasWaitingOrder('o-2');
    await f.engine.principals.grantEvents({ principalId: 'otto', right: 'publish', pattern: 'payment.confirmed' });
    expect((await f.json('POST', '/events', { as: 'otto', body: { name: 'payment.confirmed', payload: { orderId: 'o-2' } } })).status).toBe(200);
    expect(await f.engine.waitForRun(runId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED' });
  });

  it("gives a stranger's deployed subscriber none of another user's payloads without a subscribe grant", async () => {
    expect((await f.json('POST', '/flows', { as: 'otto', body: { definition: ottosSubscriber, publish: true } })).status).toBe(201);
    const published = await f.json('POST', '/events', { as: 'olivia', body: { name: 'order.created', payload: { card: '4242' } } });
    expect(published.body.runIds).toEqual([]);
    await f.engine.whenIdle();
    expect((await f.json('GET', '/runs', { as: 'otto' })).body.runs).toEqual([]);
    expect((await f.engine.listRuns({ flowId: 'otto/listen' })).runs).toEqual([]);
  });

  it("runs a subscriber as its deployer, never with the publisher's act-as grant, and shows the publisher as triggeredBy", async () => {
    await f.engine.principals.grantEvents({ principalId: 'otto', right: 'subscribe', pattern: 'a.*' });
    expect((await f.json('POST', '/flows', { as: 'otto', body: { definition: ottosSubscriber, publish: true } })).status).toBe(201);
    const published = await f.json('POST', '/events', { as: 'olivia', body: { name: 'a.daily', payload: { day: 1 } } });
    expect(published.body.runIds).toHaveLength(1);
    const runId = published.body.runIds[0] as string;
    await f.engine.waitForRun(runId, { timeoutMs: 5_000 });
    await f.engine.whenIdle();
    const run = (await f.json('GET', `/runs/${runId}`, { as: 'otto' })).body.run;
    expect(run).toMatchObject({ status: 'SUCCEEDED', createdBy: 'otto', runOwner: 'otto', runAs: null, triggeredBy: 'olivia', output: { deploy: 'PERMISSION_DENIED' } });
    expect((await f.engine.listRuns({ flowId: 'ops/deploy-prod' })).runs).toEqual([]);
  });

  it("does not let POST /events put the runs it starts into another user's run tree (only an EMIT's runs join a tree)", async () => {
    const oliviasRun = await oliviasWaitingOrder('o-3');
    await f.engine.principals.grantEvents({ principalId: 'otto', right: 'subscribe', pattern: 'a.*' });
    expect((await f.json('POST', '/flows', { as: 'otto', body: { definition: ottosSubscriber, publish: true } })).status).toBe(201);
    const smuggled = await f.json('POST', '/events', { as: 'otto', body: { name: 'a.daily', payload: {}, treeId: oliviasRun } });
    expect(smuggled.status).toBe(400);
    expect((await f.engine.listRuns({ flowId: 'otto/listen' })).runs).toEqual([]);
    const published = await f.json('POST', '/events', { as: 'otto', body: { name: 'a.daily', payload: {} } });
    const runId = published.body.runIds[0] as string;
    expect(await f.engine.getRun(runId)).toMatchObject({ treeId: runId, rootRunId: runId });
    expect(await f.engine.store.getRunTree(oliviasRun)).toBeNull();
    await f.engine.whenIdle();
  });
});

describe('event ids over HTTP', () => {
  it('lets nobody take an event id first: the same id from another publisher starts the subscriber again, for that publisher', async () => {
    const subscriber = { id: 'adam/audit', actions: { main: { startAt: 'note', steps: { note: { stepType: 'COMPUTE', expression: '{seen: event}' } } } }, subscriptions: [{ on: 'audit.entry', run: 'main' }] };
    await f.engine.principals.grantEvents({ principalId: 'adam', right: 'subscribe', pattern: 'audit.*' });
    await f.engine.deployFlow(subscriber as FlowDefinition, { deployedBy: 'adam', publish: true });
    const ottos = await f.json('POST', '/events', { as: 'otto', body: { name: 'audit.entry', eventId: 'entry-42', payload: { by: 'otto' } } });
    const olivias = await f.json('POST', '/events', { as: 'olivia', body: { name: 'audit.entry', eventId: 'entry-42', payload: { by: 'olivia' } } });
    expect(ottos.body.runIds).toHaveLength(1);
    expect(olivias.body.runIds).toHaveLength(1);
    expect(olivias.body.runIds[0]).not.toBe(ottos.body.runIds[0]);
    const run = await f.engine.waitForRun(olivias.body.runIds[0]);
    expect(run).toMatchObject({ status: 'SUCCEEDED', triggeredBy: 'olivia', output: { seen: { by: 'olivia' } } });
    // Publishing it again is idempotent for its publisher.
    expect((await f.json('POST', '/events', { as: 'olivia', body: { name: 'audit.entry', eventId: 'entry-42', payload: {} } })).body.runIds).toEqual(olivias.body.runIds);
  });
});

describe('what POST /events answers (issue 14: the publisher learns what its event did)', () => {
  it('answers the waiting run it resumed', async () => {
    const runId = await oliviasWaitingOrder('o-7');
    const published = await f.json('POST', '/events', { as: 'olivia', body: { name: 'payment.confirmed', payload: { orderId: 'o-7' } } });
    expect(published.body).toMatchObject({ runIds: [], resumedRunIds: [runId], skipped: [] });
    expect(await f.engine.waitForRun(runId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('does not name a resumed run the publisher may not read (a grant to publish the name is not a grant to read)', async () => {
    const runId = await oliviasWaitingOrder('o-8');
    await f.engine.principals.grantEvents({ principalId: 'otto', right: 'publish', pattern: 'payment.confirmed' });
    const published = await f.call('POST', '/events', { as: 'otto', body: { name: 'payment.confirmed', payload: { orderId: 'o-8' } } });
    const text = await published.text();
    expect(JSON.parse(text)).toMatchObject({ resumedRunIds: [] });
    expect(text).not.toContain(runId);
    expect(await f.engine.waitForRun(runId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('says which subscriber was skipped and why, for flows the publisher may see', async () => {
    const needy = { id: 'adam/needy', actions: { main: { params: { orderId: { type: 'text', required: true } }, startAt: 'x', steps: { x: { stepType: 'COMPUTE', expression: '{id: input.orderId}' } } } }, subscriptions: [{ on: 'audit.entry', run: 'main' }] };
    await f.engine.principals.grantEvents({ principalId: 'adam', right: 'subscribe', pattern: 'audit.*' });
    await f.engine.deployFlow(needy as FlowDefinition, { deployedBy: 'adam', publish: true });
    const published = await f.json('POST', '/events', { as: 'olivia', body: { name: 'audit.entry', payload: { by: 'olivia' } } });
    expect(published.body.runIds).toEqual([]);
    expect(published.body.skipped).toEqual([{ flowId: 'adam/needy', flowVersion: 1, subscription: 'main', code: 'INVALID_INPUT', message: expect.stringContaining('orderId') }]);
  });

  it('does not name a skipped subscriber of a flow the publisher may not see', async () => {
    const hidden = { id: 'adam/hidden', roles: { viewers: ['adam'], starters: ['adam'] }, actions: { main: { startAt: 'x', steps: { x: { stepType: 'COMPUTE', expression: '1' } } } }, subscriptions: [{ on: 'audit.entry', run: 'main' }] };
    await f.engine.principals.grantEvents({ principalId: 'adam', right: 'subscribe', pattern: 'audit.*' });
    await f.engine.deployFlow(hidden as FlowDefinition, { deployedBy: 'adam', publish: true });
    const published = await f.call('POST', '/events', { as: 'otto', body: { name: 'audit.entry', payload: {} } });
    const text = await published.text();
    expect(JSON.parse(text)).toMatchObject({ runIds: [], skipped: [] });
    expect(text).not.toContain('adam/hidden');
    expect(await f.engine.publishEvent('audit.entry', {}, { userId: 'otto' })).toMatchObject({ skipped: [{ flowId: 'adam/hidden', code: 'PERMISSION_DENIED' }] });
  });
});
