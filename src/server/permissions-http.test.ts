/**
 * DESIGN.md §6 over HTTP: every principal of the matrix against every run operation, through
 * `router.fetch`, on a run olivia started of `secure/report` with `runMonitoringBy: [mona]`,
 * `runManagingBy: [manny]`, `runMonitoringGroups: [auditors]` (gina is in auditors and ops).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServerFixture, holdFlow as holdFlowDefinition, type ServerFixture } from '../../test/support/server-fixture.js';

type Operation = 'read' | 'logs' | 'events' | 'stream' | 'children' | 'update' | 'cancel' | 'start';
type Cell = 200 | 201 | 'RUN_NOT_FOUND' | 'PERMISSION_DENIED' | 'FLOW_NOT_FOUND';

const READ_OK = { read: 200, logs: 200, events: 200, stream: 200, children: 200 } as const;
const HIDDEN = { read: 'RUN_NOT_FOUND', logs: 'RUN_NOT_FOUND', events: 'RUN_NOT_FOUND', stream: 'RUN_NOT_FOUND', children: 'RUN_NOT_FOUND', update: 'RUN_NOT_FOUND', cancel: 'RUN_NOT_FOUND' } as const;
const MATRIX: Record<string, { who: string; expected: Record<Operation, Cell> }> = {
  owner: { who: 'olivia', expected: { ...READ_OK, update: 200, cancel: 200, start: 201 } },
  monitor: { who: 'mona', expected: { ...READ_OK, update: 'PERMISSION_DENIED', cancel: 'PERMISSION_DENIED', start: 'FLOW_NOT_FOUND' } },
  manager: { who: 'manny', expected: { ...READ_OK, update: 200, cancel: 200, start: 'FLOW_NOT_FOUND' } },
  'other user': { who: 'otto', expected: { ...HIDDEN, start: 'FLOW_NOT_FOUND' } },
  'group member (monitoring group, starters group)': { who: 'gina', expected: { ...READ_OK, update: 'PERMISSION_DENIED', cancel: 'PERMISSION_DENIED', start: 201 } },
  'flow administrator': { who: 'adam', expected: { ...READ_OK, update: 200, cancel: 200, start: 201 } },
};

let f: ServerFixture;
beforeEach(async () => {
  f = await createServerFixture();
});
afterEach(async () => {
  await f.close();
});

async function oliviasRun(): Promise<string> {
  const { status, body } = await f.json('POST', '/runs', {
    as: 'olivia',
    body: { flowId: 'secure/report', runMonitoringBy: ['mona'], runManagingBy: ['manny'], runMonitoringGroups: ['auditors'] },
  });
  expect(status).toBe(201);
  return body.run.runId;
}

function request(op: Operation, runId: string): [string, string, unknown?] {
  switch (op) {
    case 'read': return ['GET', `/runs/${runId}`];
    case 'logs': return ['GET', `/runs/${runId}/logs`];
    case 'events': return ['GET', `/runs/${runId}/events`];
    case 'stream': return ['GET', `/runs/${runId}/stream`];
    case 'children': return ['GET', `/runs/${runId}/children`];
    case 'update': return ['PATCH', `/runs/${runId}`, { label: 'x' }];
    case 'cancel': return ['POST', `/runs/${runId}/cancel`];
    case 'start': return ['POST', '/runs', { flowId: 'secure/report' }];
  }
}

describe('permissions over HTTP', () => {
  for (const [role, { who, expected }] of Object.entries(MATRIX)) {
    it(`applies DESIGN §6 to the ${role}`, async () => {
      const actual: Record<string, Cell> = {};
      for (const op of Object.keys(expected) as Operation[]) {
        const runId = await oliviasRun();
        const [method, path, body] = request(op, runId);
        const response = await f.call(method, path, { as: who, ...(body !== undefined ? { body } : {}) });
        if (response.status < 300) {
          actual[op] = response.status as Cell;
          await response.body?.cancel();
        } else actual[op] = ((await response.json()) as { error: { code: Cell } }).error.code;
      }
      expect(actual).toEqual(expected);
    });
  }

  it('answers an invisible run exactly like a missing one, on every run route', async () => {
    const runId = await oliviasRun();
    const missing = '01a20000-0000-7000-8000-000000000000';
    for (const op of ['read', 'logs', 'events', 'stream', 'children', 'update', 'cancel'] as const) {
      const [method, hiddenPath, body] = request(op, runId);
      const [, missingPath] = request(op, missing);
      const hidden = await f.call(method, hiddenPath, { as: 'otto', ...(body !== undefined ? { body } : {}) });
      const absent = await f.call(method, missingPath, { as: 'otto', ...(body !== undefined ? { body } : {}) });
      expect(hidden.status).toBe(404);
      expect(headerList(hidden)).toEqual(headerList(absent));
      expect((await hidden.text()).replaceAll(runId, 'ID')).toBe((await absent.text()).replaceAll(missing, 'ID'));
    }
    const batch = await f.json('POST', '/runs/batch/get', { as: 'otto', body: { runIds: [runId, missing] } });
    expect(JSON.stringify(batch.body.results[0]).replaceAll(runId, 'ID')).toBe(JSON.stringify(batch.body.results[1]).replaceAll(missing, 'ID'));
  });

  it('answers a start of a flow the caller may not see exactly like one of a missing flow; one it sees but may not start is 403', async () => {
    const hidden = await f.call('POST', '/runs', { as: 'otto', body: { flowId: 'secure/report' } });
    const absent = await f.call('POST', '/runs', { as: 'otto', body: { flowId: 'secure/nothing' } });
    expect([hidden.status, absent.status]).toEqual([404, 404]);
    expect((await hidden.text()).replaceAll('secure/report', 'ID')).toBe((await absent.text()).replaceAll('secure/nothing', 'ID'));
    await f.engine.deployFlow({ ...holdFlowDefinition, id: 'secure/viewed', roles: { starters: ['olivia'], viewers: ['otto'] } }, { deployedBy: 'adam', publish: true });
    expectError403(await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'secure/viewed' } }));
  });

  it("lists only the runs a principal may read", async () => {
    const runId = await oliviasRun();
    await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/hold' } });
    const ids = async (who: string) => (await f.json('GET', '/runs', { as: who })).body.runs.map((r: { runId: string }) => r.runId);
    expect(await ids('mona')).toEqual([runId]);
    expect(await ids('gina')).toEqual([runId]);
    expect(await ids('otto')).not.toContain(runId);
    expect(await ids('adam')).toContain(runId);
  });

  it('starts a run as the authenticated principal, whatever the body claims', async () => {
    const { body } = await f.json('POST', '/runs', { as: 'gina', body: { flowId: 'demo/echo', input: { n: 1 } } });
    expect(body.run).toMatchObject({ createdBy: 'gina', runOwner: 'gina' });
    expectError403(await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', runAs: 'svc-none' } }));
  });
});

function expectError403(answer: { status: number; body: any }): void {
  expect(answer.status).toBe(403);
  expect(answer.body.error.code).toBe('PERMISSION_DENIED');
}

function headerList(response: Response): string[] {
  const list: string[] = [];
  response.headers.forEach((value, name) => list.push(`${name}: ${value}`));
  return list.sort();
}

describe('groups asserted by an identity provider', () => {
  it('counts the groups `authenticate` returns beside the stored ones, for starting and reading', async () => {
    // `Bearer idp:<user>:<group>,<group>`: the groups come from the identity provider, not the stores.
    const idp = async (request: Request): Promise<{ userId: string; groups?: string[] } | null> => {
      const match = /^Bearer idp:([^:]+):(.*)$/.exec(request.headers.get('authorization') ?? '');
      if (!match) return null;
      const groups = match[2]!.split(',').filter(Boolean);
      return { userId: match[1]!, ...(groups.length ? { groups } : {}) };
    };
    const g = await createServerFixture({ router: { authenticate: idp } });
    try {
      const call = (method: string, path: string, token: string, body?: unknown) =>
        g.call(method, path, { as: null, headers: { authorization: `Bearer ${token}` }, ...(body !== undefined ? { body } : {}) });
      // ida is in no stored group: only what her identity provider says makes her a starter (ops) or monitor (auditors).
      expect((await call('POST', '/runs', 'idp:ida:', { flowId: 'secure/report' })).status).toBe(404);
      expect((await call('POST', '/runs', 'idp:ida:ops', { flowId: 'secure/report' })).status).toBe(201);
      const started = await call('POST', '/runs', 'idp:olivia:', { flowId: 'secure/report', runMonitoringGroups: ['auditors'] });
      const runId = ((await started.json()) as { run: { runId: string } }).run.runId;
      expect((await call('GET', `/runs/${runId}`, 'idp:ida:')).status).toBe(404);
      expect((await call('GET', `/runs/${runId}`, 'idp:ida:auditors')).status).toBe(200);
      expect((await call('POST', `/runs/${runId}/cancel`, 'idp:ida:auditors')).status).toBe(403);
    } finally {
      await g.close();
    }
  });
});
