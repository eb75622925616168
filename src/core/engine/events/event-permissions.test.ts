/**
 * Events follow the permission model (DESIGN.md §6, issue 12 items 3 and 4), on every store: who
 * may resume a waiting run, which deployed flows receive an event, and who the runs an event
 * starts act as. alice owns the waiting runs and publishes `a.daily`; mallory is a stranger.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createEngine, createFilesystemStores, createMemoryStores, type Engine, type FlowDefinition, type Logger, type Store } from '../../../index.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../../../../test/support/pg-schema.js';
import { openStoreSpec } from '../../../cli/store-spec.js';
import { DEPLOY_PROD, shipsOnPayment } from '../../../../test/support/hostile-flows.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'flowrun-event-permissions-'));
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));

const shipping = shipsOnPayment();
const deployProd = DEPLOY_PROD;

/** A stranger's subscriber: reads the payload, and tries to start ops/deploy-prod as svc-deploy. */
const grabber = (runAs?: string): FlowDefinition => ({
  id: 'mallory/grab',
  actions: {
    main: {
      startAt: 'deploy',
      steps: {
        deploy: { stepType: 'RUN_FLOW', flowDefinitionId: 'ops/deploy-prod', runAs: 'svc-deploy', defaultNextStepInstanceId: 'copy', catch: [{ errorEquals: ['*'], next: 'copy' }] },
        copy: { stepType: 'COMPUTE', expression: '{copied: event.secret}' },
      },
    },
  },
  subscriptions: [{ on: 'a.daily', run: 'main', ...(runAs !== undefined ? { runAs } : {}) }],
});

/** EMITs payment.confirmed for an order. */
const payer: FlowDefinition = {
  id: 'pay/confirm',
  actions: { main: { params: { orderId: { type: 'text', required: true } }, startAt: 'emit', steps: { emit: { stepType: 'EMIT', event: 'payment.confirmed', payload: '{orderId: input.orderId}' } } } },
};

interface Backend {
  name: string;
  skip: boolean;
  open(): { stores: Store; drop: () => Promise<void> };
}

const BACKENDS: Backend[] = [
  { name: 'memory', skip: false, open: () => ({ stores: createMemoryStores(), drop: async () => undefined }) },
  { name: 'SQLite', skip: false, open: () => ({ stores: createFilesystemStores({ rootDir: mkdtempSync(join(tempRoot, 'db-')) }), drop: async () => undefined }) },
  {
    name: `PostgreSQL${pgSkipNote}`,
    skip: !pgUrl,
    open: () => {
      const { spec, drop } = freshPgSchema('flowrun_event_perms');
      return { stores: openStoreSpec(spec), drop };
    },
  },
];

describe.each(BACKENDS)('events follow the permission model ($name)', (backend) => {
  let engine: Engine;
  let drop: () => Promise<void> = async () => undefined;
  let warnings: { obj: Record<string, unknown>; msg: string }[];

  async function setup(): Promise<Engine> {
    const opened = backend.open();
    drop = opened.drop;
    warnings = [];
    const logger: Logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (obj, msg) => void warnings.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }) };
    engine = createEngine({ stores: opened.stores, poll: false, runtimeConfig: { logger } });
    const p = engine.principals;
    for (const id of ['alice', 'mallory', 'manny', 'paula', 'adam']) await p.createUser({ id });
    await p.createGroup({ id: 'payments' });
    await p.addMember('payments', 'paula');
    await p.createServiceAccount({ id: 'svc-deploy' });
    await p.grantActAs({ serviceAccountId: 'svc-deploy', principalId: 'alice' });
    await engine.deployFlow(shipping, { deployedBy: 'adam', publish: true });
    await engine.deployFlow(deployProd, { deployedBy: 'adam', publish: true });
    await engine.deployFlow(payer, { deployedBy: 'adam', publish: true });
    return engine;
  }

  afterEach(async () => {
    await engine?.close();
    await engine?.store.close();
    await drop();
  });

  async function alicesWaitingOrder(orderId: string, managers: string[] = []): Promise<string> {
    const { requestId } = await engine.startRun({ flow: 'shop/ship', input: { orderId }, userId: 'alice', managers: { users: managers } });
    await engine.whenIdle();
    expect((await engine.getRun(requestId)).status).toBe('INACTIVE');
    return requestId;
  }

  it.skipIf(backend.skip)("does not let a stranger's event resume another user's waiting run, says nothing of it, and logs the refusal", async () => {
    await setup();
    const runId = await alicesWaitingOrder('o-1');
    const published = await engine.publishEvent('payment.confirmed', { orderId: 'o-1' }, { userId: 'mallory' });
    expect(published.resumedRunIds).toEqual([]);
    await engine.whenIdle();
    const run = await engine.getRun(runId);
    expect(run.status).toBe('INACTIVE');
    expect(run.output).toBeNull();
    expect(warnings.some((w) => w.obj.runId === runId && w.obj.publishedBy === 'mallory' && /did not resume/.test(w.msg))).toBe(true);
    // The run still waits: its owner's event resumes it, and the log says who published.
    expect((await engine.publishEvent('payment.confirmed', { orderId: 'o-1' }, { userId: 'alice' })).resumedRunIds).toEqual([runId]);
    expect(await engine.waitForRun(runId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { shipped: 'o-1' } });
    const received = (await engine.getRunLogs(runId)).entries.find((e) => e.code === 'EventReceived');
    expect(received?.details).toMatchObject({ publishedBy: 'alice' });
  });

  it.skipIf(backend.skip)('lets managers, flow administrators and holders of a publish grant (direct or through a group) resume; a revoked grant counts at once', async () => {
    await setup();
    const managed = await alicesWaitingOrder('o-m', ['manny']);
    expect((await engine.publishEvent('payment.confirmed', { orderId: 'o-m' }, { userId: 'manny' })).resumedRunIds).toEqual([managed]);
    const administered = await alicesWaitingOrder('o-a');
    expect((await engine.publishEvent('payment.confirmed', { orderId: 'o-a' }, { userId: 'adam' })).resumedRunIds).toEqual([administered]);

    const granted = await alicesWaitingOrder('o-g');
    await engine.principals.grantEvents({ principalId: 'payments', right: 'publish', pattern: 'payment.*' });
    expect((await engine.publishEvent('payment.confirmed', { orderId: 'o-g' }, { userId: 'paula' })).resumedRunIds).toEqual([granted]);
    const revoked = await alicesWaitingOrder('o-r');
    expect(await engine.principals.revokeEvents({ principalId: 'payments', right: 'publish', pattern: 'payment.*' })).toBe(true);
    expect((await engine.publishEvent('payment.confirmed', { orderId: 'o-r' }, { userId: 'paula' })).resumedRunIds).toEqual([]);
    expect((await engine.getRun(revoked)).status).toBe('INACTIVE');
    // A subscribe grant is not a publish grant.
    await engine.principals.grantEvents({ principalId: 'paula', right: 'subscribe', pattern: '*' });
    expect((await engine.publishEvent('payment.confirmed', { orderId: 'o-r' }, { userId: 'paula' })).resumedRunIds).toEqual([]);
  });

  it.skipIf(backend.skip)('publishes an EMIT as its run principal: a stranger run cannot wake another user run, the owner run can', async () => {
    await setup();
    const runId = await alicesWaitingOrder('o-e');
    const strangers = await engine.startRun({ flow: 'pay/confirm', input: { orderId: 'o-e' }, userId: 'mallory' });
    await engine.waitForRun(strangers.requestId, { timeoutMs: 5_000 });
    // The outbox publishes after the commit, on its own: wait for its refusal to be logged.
    await vi.waitFor(() => expect(warnings.some((w) => w.obj.runId === runId && w.obj.publishedBy === 'mallory')).toBe(true), { timeout: 5_000 });
    await engine.whenIdle();
    expect((await engine.getRun(runId)).status).toBe('INACTIVE');
    const owners = await engine.startRun({ flow: 'pay/confirm', input: { orderId: 'o-e' }, userId: 'alice' });
    await engine.waitForRun(owners.requestId, { timeoutMs: 5_000 });
    expect(await engine.waitForRun(runId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { shipped: 'o-e' } });
  });

  it.skipIf(backend.skip)("delivers an event to a flow only while its deployer may subscribe to the name, and logs the refused subscriber", async () => {
    await setup();
    await engine.deployFlow(grabber(), { deployedBy: 'mallory', publish: true });
    const refused = await engine.publishEvent('a.daily', { secret: 's-1' }, { userId: 'alice' });
    expect(refused.runIds).toEqual([]);
    expect((await engine.listRuns({ flowId: 'mallory/grab' })).runs).toEqual([]);
    expect(warnings.some((w) => w.obj.flowId === 'mallory/grab' && w.obj.deployedBy === 'mallory' && /subscriber refused/.test(w.msg))).toBe(true);

    await engine.principals.grantEvents({ principalId: 'mallory', right: 'subscribe', pattern: 'a.*' });
    expect((await engine.publishEvent('a.daily', { secret: 's-2' }, { userId: 'alice' })).runIds).toHaveLength(1);
    await engine.principals.revokeEvents({ principalId: 'mallory', right: 'subscribe', pattern: 'a.*' });
    expect((await engine.publishEvent('a.daily', { secret: 's-3' }, { userId: 'alice' })).runIds).toEqual([]);
    await engine.whenIdle();
    const outputs = (await engine.listRuns({ flowId: 'mallory/grab' })).runs.map((r) => r.output);
    expect(outputs).toEqual([{ copied: 's-2' }]);
  });

  it.skipIf(backend.skip)("acts as the subscribing flow's deployer, never with the publisher's grants, and records the publisher", async () => {
    await setup();
    await engine.principals.grantEvents({ principalId: 'mallory', right: 'subscribe', pattern: 'a.daily' });
    await engine.deployFlow(grabber(), { deployedBy: 'mallory', publish: true });
    const published = await engine.publishEvent('a.daily', { secret: 's' }, { userId: 'alice' });
    expect(published.runIds).toHaveLength(1);
    const run = await engine.waitForRun(published.runIds[0]!, { timeoutMs: 5_000 });
    expect(run).toMatchObject({ status: 'SUCCEEDED', createdBy: 'mallory', runOwner: 'mallory', runAs: null, triggeredBy: 'alice', source: 'event' });
    const logs = (await engine.getRunLogs(run.runId)).entries;
    expect(JSON.stringify(logs)).toContain('PERMISSION_DENIED');
    expect((await engine.listRuns({ flowId: 'ops/deploy-prod' })).runs).toEqual([]);
  });

  it.skipIf(backend.skip)("runs as the subscription's service account only while its deployer may act as it", async () => {
    await setup();
    await engine.principals.grantEvents({ principalId: 'alice', right: 'subscribe', pattern: 'a.daily' });
    await engine.deployFlow({ ...grabber('svc-deploy'), id: 'alice/nightly' }, { deployedBy: 'alice', publish: true });
    const published = await engine.publishEvent('a.daily', { secret: 'x' }, { userId: 'manny' });
    expect(published.runIds).toHaveLength(1);
    const run = await engine.waitForRun(published.runIds[0]!, { timeoutMs: 5_000 });
    expect(run).toMatchObject({ createdBy: 'alice', runAs: 'svc-deploy', triggeredBy: 'manny' });
    await engine.whenIdle();
    expect((await engine.listRuns({ flowId: 'ops/deploy-prod' })).runs).toMatchObject([{ status: 'SUCCEEDED', runAs: 'svc-deploy' }]);

    await engine.principals.revokeActAs({ serviceAccountId: 'svc-deploy', principalId: 'alice' });
    expect((await engine.publishEvent('a.daily', { secret: 'y' }, { userId: 'manny' })).runIds).toEqual([]);
    expect(warnings.some((w) => w.obj.flowId === 'alice/nightly' && /may not act as service account "svc-deploy"/.test(w.msg))).toBe(true);
    // A stranger who names the service account on a subscription gets nothing either.
    await engine.principals.grantEvents({ principalId: 'mallory', right: 'subscribe', pattern: 'a.daily' });
    await engine.deployFlow(grabber('svc-deploy'), { deployedBy: 'mallory', publish: true });
    expect((await engine.publishEvent('a.daily', { secret: 'z' }, { userId: 'alice' })).runIds).toEqual([]);
  });

  it.skipIf(backend.skip)('starts a subscriber only if its publisher may start the flow', async () => {
    await setup();
    await engine.principals.grantEvents({ principalId: 'adam', right: 'subscribe', pattern: '*' });
    await engine.deployFlow({ ...grabber(), id: 'restricted/sub', roles: { starters: ['alice'] } }, { deployedBy: 'adam', publish: true });
    expect((await engine.publishEvent('a.daily', {}, { userId: 'mallory' })).runIds).toEqual([]);
    expect((await engine.publishEvent('a.daily', {}, { userId: 'alice' })).runIds).toHaveLength(1);
    expect(warnings.some((w) => w.obj.flowId === 'restricted/sub' && w.obj.publishedBy === 'mallory')).toBe(true);
  });
});
