/**
 * Issue 12 items 3 and 4 against a real `flowrun serve` process, over HTTP only, on SQLite and
 * PostgreSQL: a stranger (mallory) with a token cannot resume alice's waiting run with an event,
 * cannot read her events through a flow he deploys, and a subscriber he deploys never acts with
 * alice's act-as grant. Grants and principals are made with the `flowrun principals` CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSqliteSpec, issueToken, startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { runFlowrunCli } from '../support/run-cli.js';
import { DEPLOY_PROD, shipsOnPayment } from '../support/hostile-flows.js';

const SHIP = shipsOnPayment('alice/ship');
const GRAB = {
  id: 'mallory/grab',
  actions: {
    main: {
      startAt: 'deploy',
      steps: {
        deploy: { stepType: 'RUN_FLOW', flowDefinitionId: 'ops/deploy-prod', runAs: 'svc-deploy', defaultNextStepInstanceId: 'copy', catch: [{ errorEquals: ['*'], next: 'copy' }] },
        copy: { stepType: 'COMPUTE', expression: '{copied: event, deploy: steps.deploy.error.code}' },
      },
    },
  },
  subscriptions: [{ on: 'a.daily', run: 'main' }],
};

async function cli(store: string, ...args: string[]): Promise<void> {
  const result = await runFlowrunCli([...args, '--store', store]);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
}

const backends: { name: string; skip: boolean; open: () => { store: string; drop: () => Promise<void> } }[] = [
  { name: 'SQLite', skip: false, open: () => ({ store: freshSqliteSpec(), drop: async () => undefined }) },
  {
    name: `PostgreSQL${pgSkipNote}`,
    skip: !pgUrl,
    open: () => {
      const { spec, drop } = freshPgSchema('flowrun_hostile_events');
      return { store: spec, drop };
    },
  },
];

describe.each(backends)('flowrun serve: events follow the permission model ($name)', ({ skip, open }) => {
  let serve: ServeProcess;
  let drop: () => Promise<void> = async () => undefined;
  let alice: string;
  let mallory: string;

  beforeAll(async () => {
    if (skip) return;
    const opened = open();
    drop = opened.drop;
    serve = await startServeProcess({ store: opened.store, timeoutMs: 60_000 });
    [alice, mallory] = [await issueToken(opened.store, 'alice'), await issueToken(opened.store, 'mallory')];
    await cli(opened.store, 'principals', 'create', 'svc-deploy', '--kind', 'service-account');
    await cli(opened.store, 'principals', 'grant-act-as', 'svc-deploy', 'alice');
    expect((await serve.json('POST', '/flows', { token: alice, body: { definition: SHIP, publish: true } })).status).toBe(201);
    expect((await serve.json('POST', '/flows', { token: serve.adminToken, body: { definition: DEPLOY_PROD, publish: true } })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await serve?.stop();
    await drop();
  });

  async function status(runId: string, token: string): Promise<string> {
    return (await serve.json('GET', `/runs/${runId}`, { token })).body.run.status;
  }

  async function ended(runId: string, token: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 200; i++) {
      const run = (await serve.json('GET', `/runs/${runId}`, { token })).body.run;
      if (!['ACTIVE', 'INACTIVE'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${runId} did not end`);
  }

  it.skipIf(skip)("does not let a stranger's event ship another user's order; her own event does", async () => {
    const started = await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/ship', input: { orderId: 'o-1' } } });
    const runId = started.body.run.runId as string;
    for (let i = 0; i < 200 && (await status(runId, alice)) !== 'INACTIVE'; i++) await new Promise((r) => setTimeout(r, 50));
    // It waits for the event now: a forged one that resumes nothing is refused, not early.
    expect(await status(runId, alice)).toBe('INACTIVE');
    const forged = await serve.json('POST', '/events', { token: mallory, body: { name: 'payment.confirmed', payload: { orderId: 'o-1' } } });
    expect(forged).toMatchObject({ status: 200, body: { runIds: [] } });
    expect(JSON.stringify(forged.body)).not.toContain(runId);
    // The refusal is logged by the server; the run still waits.
    for (let i = 0; i < 200 && !serve.output().includes('did not resume'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(serve.output().split('\n').some((line) => line.includes('did not resume') && line.includes(runId))).toBe(true);
    expect(await status(runId, alice)).toBe('INACTIVE');
    expect((await serve.json('POST', '/events', { token: alice, body: { name: 'payment.confirmed', payload: { orderId: 'o-1' } } })).status).toBe(200);
    expect(await ended(runId, alice)).toMatchObject({ status: 'SUCCEEDED', output: { shipped: 'o-1' } });
  }, 60_000);

  it.skipIf(skip)("gives a stranger's subscriber nothing without a subscribe grant, and never alice's act-as grant with one", async () => {
    expect((await serve.json('POST', '/flows', { token: mallory, body: { definition: GRAB, publish: true } })).status).toBe(201);
    const unheard = await serve.json('POST', '/events', { token: alice, body: { name: 'a.daily', payload: { secret: 1 } } });
    expect(unheard.body.runIds).toEqual([]);
    expect((await serve.json('GET', '/runs', { token: mallory })).body.runs).toEqual([]);

    await cli(serve.store, 'principals', 'grant-events', 'subscribe', 'mallory', 'a.daily');
    const heard = await serve.json('POST', '/events', { token: alice, body: { name: 'a.daily', payload: { secret: 2 } } });
    expect(heard.body.runIds).toHaveLength(1);
    const run = await ended(heard.body.runIds[0], mallory);
    expect(run).toMatchObject({ status: 'SUCCEEDED', createdBy: 'mallory', runAs: null, triggeredBy: 'alice', output: { deploy: 'PERMISSION_DENIED', copied: { secret: 2 } } });
    expect((await serve.json('GET', '/runs?flowId=ops/deploy-prod', { token: serve.adminToken })).body.runs).toEqual([]);
  }, 60_000);
});
