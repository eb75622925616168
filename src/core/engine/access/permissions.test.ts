import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type Engine, type FlowDefinition, type Module } from '../../../index.js';

/** Waits until the run is canceled: the run stays ACTIVE while a cell looks at it. */
const hold: Module = (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null), { once: true }));

const report: FlowDefinition = {
  id: 'secure/report',
  roles: { administrators: ['adam'], starters: ['olivia', 'ops', 'svc-reports'] },
  actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } },
};

type Cell = 'ok' | 'PERMISSION_DENIED' | 'RUN_NOT_FOUND' | 'FLOW_NOT_FOUND' | string;
type Operation = 'read' | 'cancel' | 'update' | 'start' | 'run-as';
const OPERATIONS: Operation[] = ['read', 'cancel', 'update', 'start', 'run-as'];

/**
 * Every principal against every operation on a run olivia started of `secure/report`, with
 * `runMonitoringBy: [mona]`, `runManagingBy: [manny]`, `runMonitoringGroups: [auditors]`.
 * "run-as" is a start with `runAs: 'svc-reports'` (a starter of the flow). A start refused to a
 * principal that may not even see the flow answers FLOW_NOT_FOUND, like a missing flow.
 */
const MATRIX: Record<string, { who: string; expected: Record<Operation, Cell> }> = {
  owner: { who: 'olivia', expected: { read: 'ok', cancel: 'ok', update: 'ok', start: 'ok', 'run-as': 'ok' } },
  monitor: { who: 'mona', expected: { read: 'ok', cancel: 'PERMISSION_DENIED', update: 'PERMISSION_DENIED', start: 'FLOW_NOT_FOUND', 'run-as': 'FLOW_NOT_FOUND' } },
  manager: { who: 'manny', expected: { read: 'ok', cancel: 'ok', update: 'ok', start: 'FLOW_NOT_FOUND', 'run-as': 'FLOW_NOT_FOUND' } },
  'other user': { who: 'otto', expected: { read: 'RUN_NOT_FOUND', cancel: 'RUN_NOT_FOUND', update: 'RUN_NOT_FOUND', start: 'FLOW_NOT_FOUND', 'run-as': 'FLOW_NOT_FOUND' } },
  // gina holds every role through groups only: auditors (run monitors), ops (starters, act-as on svc-reports).
  'group member': { who: 'gina', expected: { read: 'ok', cancel: 'PERMISSION_DENIED', update: 'PERMISSION_DENIED', start: 'ok', 'run-as': 'ok' } },
  'flow administrator': { who: 'adam', expected: { read: 'ok', cancel: 'ok', update: 'ok', start: 'ok', 'run-as': 'PERMISSION_DENIED' } },
  // A service account that is a starter acts as itself; it holds no run role.
  'service account (starter)': { who: 'svc-reports', expected: { read: 'RUN_NOT_FOUND', cancel: 'RUN_NOT_FOUND', update: 'RUN_NOT_FOUND', start: 'ok', 'run-as': 'ok' } },
  'service account with act-as': { who: 'svc-batch', expected: { read: 'RUN_NOT_FOUND', cancel: 'RUN_NOT_FOUND', update: 'RUN_NOT_FOUND', start: 'FLOW_NOT_FOUND', 'run-as': 'ok' } },
  'service account without act-as': { who: 'svc-idle', expected: { read: 'RUN_NOT_FOUND', cancel: 'RUN_NOT_FOUND', update: 'RUN_NOT_FOUND', start: 'FLOW_NOT_FOUND', 'run-as': 'FLOW_NOT_FOUND' } },
};

describe('permissions: who may read, cancel, update, start and run as', () => {
  let engine: Engine;

  beforeEach(async () => {
    engine = createEngine({ stores: createMemoryStores(), modules: { hold }, poll: false });
    const p = engine.principals;
    for (const id of ['olivia', 'mona', 'manny', 'otto', 'gina', 'adam']) await p.createUser({ id });
    for (const id of ['auditors', 'ops']) await p.createGroup({ id });
    for (const id of ['svc-reports', 'svc-batch', 'svc-idle']) await p.createServiceAccount({ id });
    await p.addMember('auditors', 'gina');
    await p.addMember('ops', 'gina');
    await p.grantActAs({ serviceAccountId: 'svc-reports', principalId: 'olivia' });
    await p.grantActAs({ serviceAccountId: 'svc-reports', principalId: 'ops' });
    await p.grantActAs({ serviceAccountId: 'svc-reports', principalId: 'svc-batch' });
    await engine.deployFlow(report, { deployedBy: 'deployer' });
  });

  afterEach(async () => {
    for (const run of (await engine.listRuns({ status: 'ACTIVE' })).runs) await engine.cancelRun(run.runId);
    await engine.close();
  });

  async function oliviasRun(): Promise<string> {
    const { requestId } = await engine.startRun({
      flow: 'secure/report',
      userId: 'olivia',
      runMonitoringBy: ['mona'],
      runManagingBy: ['manny'],
      runMonitoringGroups: ['auditors'],
    });
    return requestId;
  }

  async function outcome(action: () => Promise<unknown>): Promise<Cell> {
    try {
      await action();
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  async function runCount(): Promise<number> {
    return (await engine.listRuns({ flowId: 'secure/report', limit: 1000 })).runs.length;
  }

  /** Performs one cell and checks that what happened matches what it answered. */
  async function perform(who: string, operation: Operation): Promise<Cell> {
    if (operation === 'start' || operation === 'run-as') {
      const before = await runCount();
      const runAs = operation === 'run-as' ? 'svc-reports' : undefined;
      let requestId = '';
      const cell = await outcome(async () => ({ requestId } = await engine.startRun({ flow: 'secure/report', userId: who, ...(runAs ? { runAs } : {}) })));
      if (cell !== 'ok') return (await runCount()) === before ? cell : `${cell} but a run was created`;
      const run = await engine.getRun(requestId);
      return run.createdBy === who && run.runOwner === who && run.runAs === (runAs ?? null) ? 'ok' : `ok but recorded ${run.createdBy}/${run.runAs}`;
    }
    const runId = await oliviasRun();
    if (operation === 'read') {
      const cell = await outcome(async () => {
        await engine.getRun(runId, { as: who });
        await engine.getRunLogs(runId, { as: who });
        await engine.getRunEvents(runId, { as: who });
      });
      // Reading is all or nothing: the log and events answer like the record.
      const logs = await outcome(() => engine.getRunLogs(runId, { as: who }));
      return logs === cell ? cell : `${cell} but logs ${logs}`;
    }
    if (operation === 'cancel') {
      const cell = await outcome(() => engine.cancelRun(runId, { as: who }));
      const status = (await engine.getRun(runId)).status;
      return (cell === 'ok') === (status === 'CANCELED') ? cell : `${cell} but ${status}`;
    }
    const cell = await outcome(() => engine.updateRun(runId, { label: `by ${who}` }, { as: who }));
    const label = (await engine.getRun(runId)).label;
    return (cell === 'ok') === (label === `by ${who}`) ? cell : `${cell} but label ${label}`;
  }

  it('answers every cell of the matrix as the roles say, and does exactly what it answers', async () => {
    const actual: Record<string, Record<Operation, Cell>> = {};
    for (const [row, { who }] of Object.entries(MATRIX)) {
      actual[row] = {} as Record<Operation, Cell>;
      for (const operation of OPERATIONS) actual[row][operation] = await perform(who, operation);
    }
    expect(actual).toEqual(Object.fromEntries(Object.entries(MATRIX).map(([row, { expected }]) => [row, expected])));
  });

  it('answers a run the principal may not see exactly like a run that does not exist', async () => {
    const runId = await oliviasRun();
    const hidden = await engine.getRun(runId, { as: 'otto' }).catch((error: unknown) => error);
    const missing = await engine.getRun('no-such-run', { as: 'otto' }).catch((error: unknown) => error);
    expect(hidden).toMatchObject({ name: 'NotFoundError', code: 'RUN_NOT_FOUND', message: `run "${runId}" does not exist` });
    expect(missing).toMatchObject({ name: 'NotFoundError', code: 'RUN_NOT_FOUND', message: 'run "no-such-run" does not exist' });
    expect(Object.keys(hidden as object).sort()).toEqual(Object.keys(missing as object).sort());
    await expect(engine.cancelRun(runId, { as: 'otto' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(engine.getRunLedger(runId, { as: 'otto' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    const watch = engine.watchRun(runId, { as: 'otto' });
    await expect(watch.next()).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('lists only the runs a principal may read', async () => {
    const first = await oliviasRun();
    const { requestId: gina } = await engine.startRun({ flow: 'secure/report', userId: 'gina' });
    const { requestId: manny } = await engine.startRun({ flow: 'secure/report', userId: 'adam', runManagingBy: ['manny'] });
    const ids = async (as: string, limit = 100): Promise<string[]> => (await engine.listRuns({ orderBy: 'startTime', orderDir: 'asc', limit }, { as })).runs.map((r) => r.runId);
    expect(await ids('mona')).toEqual([first]);
    expect(await ids('manny')).toEqual([first, manny]);
    expect(await ids('gina')).toEqual([first, gina]);
    expect(await ids('adam')).toEqual([first, gina, manny]);
    expect(await ids('otto')).toEqual([]);
    const page = await engine.listRuns({ orderBy: 'startTime', orderDir: 'asc', limit: 1 }, { as: 'manny' });
    expect(page.runs.map((r) => r.runId)).toEqual([first]);
    const next = await engine.listRuns({ orderBy: 'startTime', orderDir: 'asc', limit: 1, marker: page.marker! }, { as: 'manny' });
    expect(next.runs.map((r) => r.runId)).toEqual([manny]);
    expect(next.hasNextPage).toBe(false);
  });

  it('applies a revoked grant or a removed member on the very next check', async () => {
    await expect(engine.startRun({ flow: 'secure/report', userId: 'gina', runAs: 'svc-reports' })).resolves.toMatchObject({});
    await engine.principals.removeMember('ops', 'gina');
    await expect(engine.startRun({ flow: 'secure/report', userId: 'gina' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    await expect(engine.startRun({ flow: 'secure/report', userId: 'gina', runAs: 'svc-reports' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    await engine.principals.revokeActAs({ serviceAccountId: 'svc-reports', principalId: 'olivia' });
    await expect(engine.startRun({ flow: 'secure/report', userId: 'olivia', runAs: 'svc-reports' })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: 'principal "olivia" may not act as service account "svc-reports"',
    });
  });

  it('shows a flow that names viewers or starters only to them and its administrators, answering others like a missing flow', async () => {
    await expect(engine.getFlow('secure/report', undefined, { as: 'gina' })).resolves.toMatchObject({ flowId: 'secure/report' }); // a starter through ops
    await expect(engine.getFlow('secure/report', undefined, { as: 'adam' })).resolves.toMatchObject({ flowId: 'secure/report' });
    await expect(engine.getFlow('secure/report', undefined, { as: 'otto' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND', message: 'flow "secure/report" is not deployed' });
    await expect(engine.getFlow('secure/report', 1, { as: 'otto' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND', message: 'flow "secure/report" has no version 1' });
    await expect(engine.getFlow('secure/report', 2, { as: 'otto' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND', message: 'flow "secure/report" has no version 2' });
    await expect(engine.getFlow('secure/report')).resolves.toMatchObject({ version: 1 });
  });

  it('counts the groups an identity provider asserts beside the stored ones, for starting and for reading', async () => {
    // ida is in no stored group; her identity provider says she is in ops (starters) and auditors (run monitors).
    await expect(engine.startRun({ flow: 'secure/report', input: {}, userId: 'ida' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    const { requestId } = await engine.startRun({ flow: 'secure/report', input: {}, userId: 'ida', userGroups: ['ops'] });
    expect(await engine.getRun(requestId)).toMatchObject({ createdBy: 'ida', runOwner: 'ida' });
    const run = await oliviasRun();
    await expect(engine.getRun(run, { as: 'ida' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    expect(await engine.getRun(run, { as: { id: 'ida', groups: ['auditors'] } })).toMatchObject({ runId: run });
    // A monitor through an asserted group may read, not manage.
    await expect(engine.cancelRun(run, { as: { id: 'ida', groups: ['auditors'] } })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    // Asserted groups add to the stored ones; they never take any away.
    expect(await engine.getRun(run, { as: { id: 'gina', groups: [] } })).toMatchObject({ runId: run });
  });

  it('trusts calls that name no principal: in-process administration', async () => {
    const runId = await oliviasRun();
    await expect(engine.getRun(runId)).resolves.toMatchObject({ runId, monitors: { users: ['mona'], groups: ['auditors'] }, managers: { users: ['manny'], groups: [] } });
    const { requestId } = await engine.startRun({ flow: 'secure/report' });
    expect(await engine.getRun(requestId)).toMatchObject({ createdBy: 'anonymous', runAs: null });
    await expect(engine.updateRun(runId, { tags: ['x'] })).resolves.toMatchObject({ tags: ['x'] });
  });
});

describe('permissions: flows that name no roles', () => {
  const open: FlowDefinition = { id: 'open/echo', actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } } };

  it('lets any principal start it — also ids no store knows — and its deployer administer every run', async () => {
    const engine = createEngine({ stores: createMemoryStores(), modules: { hold }, poll: false });
    await engine.deployFlow(open, { deployedBy: 'dora' });
    const { requestId } = await engine.startRun({ flow: 'open/echo', userId: 'stranger@example.com' });
    expect(await engine.getRun(requestId, { as: 'stranger@example.com' })).toMatchObject({ createdBy: 'stranger@example.com', runOwner: 'stranger@example.com' });
    await expect(engine.getRun(requestId, { as: 'someone-else' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(engine.cancelRun(requestId, { as: 'dora' })).resolves.toMatchObject({ status: 'CANCELED' });
    await engine.close();
  });

  it('once a version names starters, only they and its administrators start it, and nothing is created for others', async () => {
    const engine = createEngine({ stores: createMemoryStores(), modules: { hold }, poll: false });
    await engine.deployFlow(open, { deployedBy: 'dora', publish: true });
    await engine.deployFlow({ ...open, roles: { starters: ['sam'] } }, { deployedBy: 'dora', publish: true });
    // A flow the caller may not see answers like a missing one, whatever the version selector.
    await expect(engine.runAction({ flow: 'open/echo', userId: 'stranger' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND', message: 'flow "open/echo" is not deployed' });
    await expect(engine.startRun({ flow: 'open/echo', version: 2, userId: 'stranger' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND', message: 'flow "open/echo" has no version 2' });
    // One the caller may see but not start is refused as such.
    await engine.deployFlow({ ...open, roles: { starters: ['sam'], viewers: ['vic'] } }, { deployedBy: 'dora', publish: true });
    await expect(engine.runAction({ flow: 'open/echo', userId: 'vic' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: 'principal "vic" may not start flow "open/echo"' });
    expect((await engine.listRuns()).runs).toEqual([]);
    await expect(engine.startRun({ flow: 'open/echo', userId: 'sam' })).resolves.toMatchObject({});
    await expect(engine.startRun({ flow: 'open/echo', userId: 'dora' })).resolves.toMatchObject({}); // the deployer administers it
    await expect(engine.startRun({ flow: 'open/echo', version: 1, userId: 'stranger' })).resolves.toMatchObject({}); // version 1 named none
    for (const run of (await engine.listRuns()).runs) await engine.cancelRun(run.runId);
    await engine.close();
  });

  it('gives the runs a run calls the same monitors and managers', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    await engine.deployFlow({ id: 'child', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression: '1' } } } } });
    const parent: FlowDefinition = { id: 'parent', actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'child' } } } } };
    const result = await engine.runAction({ flow: parent, userId: 'olivia', runMonitoringBy: ['mona'], runManagingGroups: ['ops'] });
    const [child] = (await engine.listRuns({ parentRunId: result.requestId })).runs;
    expect(child).toMatchObject({ runOwner: 'olivia', monitors: { users: ['mona'], groups: [] }, managers: { users: [], groups: ['ops'] } });
    await expect(engine.getRun(child!.runId, { as: 'mona' })).resolves.toMatchObject({ flowId: 'child' });
    await expect(engine.getRun(child!.runId, { as: 'otto' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await engine.close();
  });

  it('holds a definition passed inline to its own roles: passing it does not make the caller its administrator', async () => {
    const engine = createEngine({ stores: createMemoryStores(), modules: { hold }, poll: false });
    await expect(engine.startRun({ flow: { ...open, roles: { starters: ['sam'] } }, userId: 'mallory' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await engine.listFlows()).toEqual([]);
    await engine.close();
  });
});
