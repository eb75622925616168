/**
 * Run trees (issue 12): a flow that launches itself twice is a fork bomb, stopped at
 * `maxRunsPerTree` on SQLite and PostgreSQL; canceling a tree cancels its launched runs and
 * refuses launches racing the cancel.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createFilesystemStores, createMemoryStores, createPostgresStores, type FlowDefinition, type Store } from '../../../index.js';
import { FORK_FLOW as forkBomb } from '../../../../test/support/hostile-flows.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'flowrun-trees-'));
const pgUrl = process.env.FLOWRUN_TEST_PG_URL;
const schemas: string[] = [];
afterAll(async () => {
  rmSync(tempRoot, { recursive: true, force: true });
  if (!pgUrl || schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});


const stores: [string, () => Store, string | false][] = [
  ['SQLite file', () => createFilesystemStores({ rootDir: mkdtempSync(join(tempRoot, 'db-')) }), false],
  [
    'PostgreSQL',
    () => {
      const schema = `flowrun_trees_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      return createPostgresStores({ connectionString: pgUrl!, schema });
    },
    pgUrl ? false : 'FLOWRUN_TEST_PG_URL is not set',
  ],
];

describe.each(stores)('the fork bomb over %s', (_name, createStore, skip) => {
  it.skipIf(Boolean(skip))('stops at maxRunsPerTree: the tree holds exactly the budget, and the launches past it fail with LIMIT_EXCEEDED', async () => {
    const engine = createEngine({ stores: createStore(), poll: false, runtimeConfig: { budgets: { maxRunsPerTree: 40 } } });
    await engine.deployFlow(forkBomb, { publish: true });
    const { requestId } = await engine.startRun({ flow: 'm/fork', userId: 'mallory' });
    await engine.whenIdle();
    const runs = [];
    for (let marker: string | null | undefined; marker !== null; ) {
      const page = await engine.listRuns({ flowId: 'm/fork', limit: 100, ...(marker ? { marker } : {}) });
      runs.push(...page.runs);
      marker = page.marker;
    }
    expect(runs).toHaveLength(40);
    expect(runs.every((run) => run.treeId === requestId)).toBe(true);
    expect(runs.filter((run) => run.status === 'ACTIVE' || run.status === 'INACTIVE')).toEqual([]);
    const refused = runs.filter((run) => run.status === 'FAILED');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.runError).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxRunsPerTree', max: 40, value: 41 } });
    expect(await engine.store.getRunTree(requestId)).toEqual({ treeId: requestId, runCount: 40, canceled: false });
    await engine.close();
    await engine.store.close();
  });
});

/** A flow whose runs wait at a module gate, then launch `launches` more of themselves. */
function gated(id: string, launches: number): FlowDefinition {
  const steps: Record<string, unknown> = { gate: { stepType: 'MODULE', moduleIdentifier: 'gate', defaultNextStepInstanceId: launches > 0 ? 'l0' : undefined } };
  for (let i = 0; i < launches; i++) steps[`l${i}`] = { stepType: 'RUN_FLOW', flowDefinitionId: id, async: true, ...(i + 1 < launches ? { defaultNextStepInstanceId: `l${i + 1}` } : {}) };
  return { id, actions: { main: { startAt: 'gate', steps } } } as FlowDefinition;
}

function gate() {
  let open!: () => void;
  let enter!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const entered = new Promise<void>((resolve) => (enter = resolve));
  return { open, entered, module: async () => (enter(), await opened, { passed: true }) };
}

describe('canceling a run tree', () => {
  it('cancels the launched runs of an ended root, and without `tree` leaves them going', async () => {
    const g = gate();
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: { gate: g.module } });
    await engine.deployFlow({ id: 't/root', actions: { main: { startAt: 'go', steps: { go: { stepType: 'RUN_FLOW', flowDefinitionId: 't/worker', async: true } } } } } as FlowDefinition, { publish: true });
    await engine.deployFlow(gated('t/worker', 0), { publish: true });
    const { requestId } = await engine.startRun({ flow: 't/root', userId: 'olivia' });
    const root = await engine.waitForRun(requestId);
    expect(root.status).toBe('SUCCEEDED');
    const [worker] = (await engine.listRuns({ parentRunId: requestId })).runs;
    expect(worker).toMatchObject({ status: 'ACTIVE', detached: true, treeId: requestId });

    await engine.cancelRun(requestId, { as: 'olivia' });
    expect((await engine.getRun(worker!.runId)).status).toBe('ACTIVE');
    await engine.cancelRun(requestId, { as: 'olivia', tree: true });
    expect(await engine.getRun(worker!.runId)).toMatchObject({ status: 'CANCELED', runError: { code: 'CANCELED' } });
    expect(await engine.store.getRunTree(requestId)).toMatchObject({ canceled: true });
    g.open();
    await engine.whenIdle();
    expect((await engine.listRuns({ flowId: 't/worker' })).runs).toHaveLength(1);
    await engine.close();
  });

  it('refuses a launch racing the cancel: the launching run is canceled and its launch never exists', async () => {
    const g = gate();
    const store = createMemoryStores();
    const hold = (_input: unknown, ctx: { signal: AbortSignal }) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null), { once: true }));
    const engine = createEngine({ stores: store, poll: false, modules: { gate: g.module, hold } });
    // The root launches a spawner and holds; the spawner waits at its gate, then launches a leaf.
    const root: FlowDefinition = {
      id: 't/root',
      actions: { main: { startAt: 'go', steps: { go: { stepType: 'RUN_FLOW', flowDefinitionId: 't/spawner', async: true, defaultNextStepInstanceId: 'hold' }, hold: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } },
    } as FlowDefinition;
    const spawner = { ...gated('t/spawner', 0), actions: { main: { startAt: 'gate', steps: { gate: { stepType: 'MODULE', moduleIdentifier: 'gate', defaultNextStepInstanceId: 'l' }, l: { stepType: 'RUN_FLOW', flowDefinitionId: 't/leaf', async: true } } } } } as FlowDefinition;
    await engine.deployFlow(root, { publish: true });
    await engine.deployFlow(spawner, { publish: true });
    await engine.deployFlow(gated('t/leaf', 0), { publish: true });
    const { requestId } = await engine.startRun({ flow: 't/root', userId: 'olivia' });
    await g.entered;
    expect((await engine.listRuns({ flowId: 't/spawner' })).runs).toMatchObject([{ status: 'ACTIVE', treeId: requestId }]);

    let launchSettled!: () => void;
    const launchAttempt = new Promise<void>((resolve) => (launchSettled = resolve));
    const record = store.recordTransition.bind(store);
    store.recordTransition = (t) => {
      const recorded = record(t);
      if (t.createRuns?.some((c) => c.run.flowId === 't/leaf')) void recorded.then(launchSettled, launchSettled);
      return recorded;
    };
    // The cancel is under way (the root not yet canceled, the spawner not yet reached) when the spawner launches.
    const cancel = store.cancelRun.bind(store);
    store.cancelRun = async (input) => {
      if (input.runId === requestId) {
        g.open();
        await launchAttempt;
      }
      return cancel(input);
    };
    await engine.cancelRun(requestId, { as: 'olivia', tree: true });
    await engine.whenIdle();
    expect((await engine.listRuns({ flowId: 't/leaf' })).runs).toEqual([]);
    expect((await engine.listRuns({ flowId: 't/spawner' })).runs).toMatchObject([{ status: 'CANCELED' }]);
    expect(await engine.getRun(requestId)).toMatchObject({ status: 'CANCELED' });
    await engine.close();
  });

  it('is refused to whoever may not manage the run, and hides runs one may not read', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: { gate: gate().module } });
    await engine.deployFlow(gated('t/private', 0), { publish: true });
    const { requestId } = await engine.startRun({ flow: 't/private', userId: 'olivia', monitors: { users: ['mona'] } });
    await expect(engine.cancelRun(requestId, { as: 'mona', tree: true })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(engine.cancelRun(requestId, { as: 'stranger', tree: true })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    expect(await engine.store.getRunTree(requestId)).toBeNull();
    expect((await engine.getRun(requestId)).status).toBe('ACTIVE');
    await engine.close();
  });
});
