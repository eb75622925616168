import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServerFixture, testAuthenticate, type ServerFixture } from '../../test/support/server-fixture.js';
import { createFlowApiRouter } from './create-flow-api-router.js';

let f: ServerFixture;
beforeEach(async () => {
  f = await createServerFixture();
});
afterEach(async () => {
  await f.close();
});

/** Asserts the documented error shape and returns it. */
function expectError(answer: { status: number; body: any }, status: number, code: string): { code: string; message: string; details: Record<string, any> } {
  expect(answer.status).toBe(status);
  expect(Object.keys(answer.body)).toEqual(['error']);
  expect(answer.body.error).toMatchObject({ code, message: expect.any(String), details: expect.any(Object) });
  return answer.body.error;
}

describe('router basics', () => {
  it('answers /health without credentials and everything else with 401 UNAUTHENTICATED', async () => {
    expect(await f.json('GET', '/health', { as: null })).toEqual({ status: 200, body: { ok: true } });
    for (const [method, path] of [['GET', '/runs'], ['GET', '/flows'], ['POST', '/runs'], ['GET', '/openapi.json'], ['GET', '/nope']] as const) {
      const response = await f.call(method, path, { as: null });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expectError({ status: response.status, body: await response.json() }, 401, 'UNAUTHENTICATED');
    }
  });

  it('answers an unknown route with 404 ROUTE_NOT_FOUND', async () => {
    expectError(await f.json('GET', '/runs/x/nothing'), 404, 'ROUTE_NOT_FOUND');
    expectError(await f.json('DELETE', '/flows'), 404, 'ROUTE_NOT_FOUND');
  });

  it('serves an OpenAPI 3.1 document generated from the validation schemas', async () => {
    const { status, body } = await f.json('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/flows', '/flows/{flowId}', '/flows/{flowId}/publish', '/runs', '/runs/{id}', '/runs/{id}/cancel', '/runs/{id}/logs', '/runs/{id}/children', '/runs/{id}/events', '/runs/{id}/stream', '/runs/batch/start', '/runs/batch/get', '/runs/batch/cancel', '/events', '/runs/{id}/approve', '/runs/{id}/reject']));
    const start = body.components.schemas.StartRun;
    expect(start.required).toEqual(['flowId']);
    expect(Object.keys(start.properties)).toContain('idempotencyKey');
    expect(body.paths['/runs'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['limit', 'marker', 'status', 'orderBy']));
  });

  it('serves under a basePath (a Next.js catch-all route) with the same answers', async () => {
    const router = createFlowApiRouter({ engine: f.engine, authenticate: testAuthenticate, basePath: '/api/flowrun/' });
    const call = (path: string, init: RequestInit = {}) => router.fetch(new Request(`http://x${path}`, { ...init, headers: { authorization: 'Bearer as:olivia', 'content-type': 'application/json' } }));
    const started = await call('/api/flowrun/runs', { method: 'POST', body: JSON.stringify({ flowId: 'demo/echo', input: { n: 3 }, wait: true }) });
    expect(started.status).toBe(200);
    const { run } = (await started.json()) as { run: { runId: string } };
    expect((await call(`/api/flowrun/runs/${run.runId}`)).status).toBe(200);
    expect((await call('/api/flowrun/health')).status).toBe(200);
    expect((await call(`/runs/${run.runId}`)).status).toBe(404);
  });

  it('counts responses at /metrics', async () => {
    await f.call('GET', '/runs');
    await f.call('GET', '/nope');
    const text = await (await f.call('GET', '/metrics', { as: 'admin' })).text();
    expect(text).toMatch(/flowrun_http_responses_total\{status="2xx"\} \d+/);
    expect(text).toMatch(/flowrun_http_responses_total\{status="4xx"\} 1/);
  });
});

describe('flows', () => {
  const counter = (id: string) => ({ id, actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '1' } } } } });

  it('deploys, publishes, lists and reads flows with ids that contain a slash', async () => {
    const deployed = await f.json('POST', '/flows', { as: 'otto', body: { definition: counter('team/count') } });
    expect(deployed).toEqual({ status: 201, body: { id: 'team/count', version: 1 } });
    const v2 = { ...counter('team/count'), actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '2' } } } } };
    expect((await f.json('POST', '/flows', { as: 'otto', body: { definition: v2 } })).body).toEqual({ id: 'team/count', version: 2 });
    expect((await f.json('GET', '/flows/team%2Fcount?version=2', { as: 'otto' })).body.flow).toMatchObject({ flowId: 'team/count', version: 2, published: false });
    expect(await f.json('POST', '/flows/team%2Fcount/publish', { as: 'otto', body: { version: 2 } })).toEqual({ status: 200, body: { id: 'team/count', version: 2 } });
    expect((await f.json('GET', '/flows/team%2Fcount', { as: 'otto' })).body.flow).toMatchObject({ version: 2, published: true });
    const { body } = await f.json('GET', '/flows', { as: 'otto' });
    expect(body.flows.map((s: { flowId: string }) => s.flowId)).toContain('team/count');
  });

  it('lets only administrators deploy new versions or publish, and hides flows a principal may not see', async () => {
    // secure/report names adam as administrator and starters: otto may not see it.
    expectError(await f.json('POST', '/flows/secure%2Freport/publish', { as: 'otto', body: { version: 1 } }), 404, 'FLOW_NOT_FOUND');
    expectError(await f.json('GET', '/flows/secure%2Freport', { as: 'otto' }), 404, 'FLOW_NOT_FOUND');
    expectError(await f.json('POST', '/flows', { as: 'otto', body: { definition: { ...counter('secure/report') } } }), 403, 'PERMISSION_DENIED');
    // olivia is a starter: she sees the flow but does not administer it.
    expect((await f.json('GET', '/flows/secure%2Freport', { as: 'olivia' })).status).toBe(200);
    expectError(await f.json('POST', '/flows/secure%2Freport/publish', { as: 'olivia', body: { version: 1 } }), 403, 'PERMISSION_DENIED');
    expect((await f.json('POST', '/flows/secure%2Freport/publish', { as: 'adam', body: { version: 1 } })).status).toBe(200);
    const listed = (await f.json('GET', '/flows', { as: 'otto' })).body.flows.map((s: { flowId: string }) => s.flowId);
    expect(listed).not.toContain('secure/report');
    expect(listed).toContain('demo/echo');
  });

  it('refuses an invalid definition with 400 INVALID_DEFINITION listing the problems, and a bad version with the field', async () => {
    const error = expectError(await f.json('POST', '/flows', { body: { definition: { id: 'x/bad', actions: { main: { startAt: 'nowhere', steps: {} } } } } }), 400, 'INVALID_DEFINITION');
    expect(error.details.issues.length).toBeGreaterThan(0);
    expect(expectError(await f.json('GET', '/flows/demo%2Fecho?version=abc'), 400, 'INVALID_INPUT').details.issues[0].path).toBe('query.version');
    expectError(await f.json('GET', '/flows/demo%2Fecho?version=9'), 404, 'FLOW_NOT_FOUND');
    expect(expectError(await f.json('POST', '/flows/demo%2Fecho/publish', { body: { version: 'two' } }), 400, 'INVALID_INPUT').details.issues[0].path).toBe('body.version');
  });
});

describe('runs', () => {
  it('starts a run (201), waits for one (200), and reads it back without its execution state', async () => {
    const started = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, label: 'first', tags: ['a', 'b'] } });
    expect(started.status).toBe(201);
    expect(started.body.run).toMatchObject({ flowId: 'demo/echo', runOwner: 'olivia', createdBy: 'olivia', source: 'http', label: 'first', tags: ['a', 'b'] });
    expect(started.body.run.state).toBeUndefined();
    expect(started.body.run.leaseOwner).toBeUndefined();
    const waited = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 2 }, wait: true } });
    expect(waited.status).toBe(200);
    expect(waited.body.run).toMatchObject({ status: 'SUCCEEDED', output: { n: 2 } });
    const read = await f.json('GET', `/runs/${waited.body.run.runId}`);
    expect(read).toEqual({ status: 200, body: { run: waited.body.run } });
  });

  it('returns the first run for a repeated idempotency key of the same principal, and a new one for another principal', async () => {
    const body = { flowId: 'demo/echo', input: { n: 1 }, idempotencyKey: 'order-17' };
    const first = await f.json('POST', '/runs', { body });
    const again = await f.json('POST', '/runs', { body });
    const concurrent = await Promise.all([1, 2, 3].map(() => f.json('POST', '/runs', { body })));
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.run.runId).toBe(first.body.run.runId);
    expect(new Set(concurrent.map((a) => a.body.run.runId))).toEqual(new Set([first.body.run.runId]));
    const otto = await f.json('POST', '/runs', { as: 'otto', body });
    expect(otto.status).toBe(201);
    expect(otto.body.run.runId).not.toBe(first.body.run.runId);
    expectError(await f.json('POST', '/runs', { body: { ...body, flowId: 'demo/hold' } }), 409, 'CONFLICT');
    expect((await f.engine.listRuns({ flowId: 'demo/echo' })).runs).toHaveLength(2);
  });

  it('names each bad field of a start and starts nothing', async () => {
    const error = expectError(await f.json('POST', '/runs', { body: { flowId: 7, tags: 'x', wait: 'yes', surprise: 1 } }), 400, 'INVALID_INPUT');
    expect(error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body', 'body.flowId', 'body.tags', 'body.wait']);
    expect(expectError(await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 'nine' } } }), 400, 'INVALID_INPUT').details.issues[0].path).toMatch(/n/);
    expectError(await f.json('POST', '/runs', { body: { flowId: 'demo/nothing' } }), 404, 'FLOW_NOT_FOUND');
    expectError(await f.json('POST', '/runs', { body: { flowId: 'demo/echo', action: 'other' } }), 404, 'ACTION_NOT_FOUND');
    expectError(await f.json('POST', '/runs', { body: { flowId: 'demo/echo', requestId: 'a', idempotencyKey: 'b' } }), 400, 'INVALID_INPUT');
    expect((await f.engine.listRuns({})).runs).toEqual([]);
  });

  it('answers malformed JSON, a missing body, an oversized body and a forged marker with 400/413 and the field', async () => {
    expect(expectError(await f.json('POST', '/runs', { body: '{"flowId":' }), 400, 'INVALID_INPUT').details.issues).toEqual([{ path: 'body', message: 'is not valid JSON' }]);
    expectError(await f.json('POST', '/runs'), 400, 'INVALID_INPUT');
    expectError(await f.json('POST', '/runs', { body: '{"flowId":"demo/echo"}', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const big = { flowId: 'demo/echo', input: { n: 1, pad: 'x'.repeat(1024 * 1024) } };
    expectError(await f.json('POST', '/runs', { body: big }), 413, 'PAYLOAD_TOO_LARGE');
    // A declared length over the limit is refused before the body is read.
    expectError(await f.json('POST', '/runs', { body: { flowId: 'demo/echo' }, headers: { 'content-length': String(2 * 1024 * 1024) } }), 413, 'PAYLOAD_TOO_LARGE');
    expect(expectError(await f.json('GET', '/runs?marker=Zm9yZ2Vk'), 400, 'INVALID_INPUT').details.issues[0].path).toBe('query.marker');
    expect(expectError(await f.json('GET', '/runs?limit=-3'), 400, 'INVALID_INPUT').details.issues[0].path).toBe('query.limit');
    expect(expectError(await f.json('GET', '/runs?startTimeFrom=yesterday'), 400, 'INVALID_INPUT').details.issues[0].path).toBe('query.startTimeFrom');
    expect(expectError(await f.json('GET', '/runs?orderBy=size'), 400, 'INVALID_INPUT').details.issues[0].path).toBe('query.orderBy');
  });

  it('lists runs with filters, ordering and marker pagination; a huge limit is capped', async () => {
    for (let n = 0; n < 5; n++) await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n }, wait: true, tags: n % 2 ? ['odd'] : ['even'], label: `run ${n}` } });
    await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: 99 }, wait: true } });
    const seen: string[] = [];
    let marker: string | null = null;
    do {
      const page: { body: { runs: { runId: string; input: { n: number } }[]; hasNextPage: boolean; marker: string | null } } = await f.json('GET', `/runs?limit=2&orderDir=asc${marker ? `&marker=${marker}` : ''}`);
      seen.push(...page.body.runs.map((r) => String(r.input.n)));
      marker = page.body.hasNextPage ? page.body.marker : null;
    } while (marker);
    expect(seen).toEqual(['0', '1', '2', '3', '4']); // otto's run is not olivia's to see
    expect((await f.json('GET', '/runs?tags=odd&status=SUCCEEDED,FAILED')).body.runs).toHaveLength(2);
    expect((await f.json('GET', '/runs?label=run%203')).body.runs).toHaveLength(1);
    expect((await f.json('GET', `/runs?startTimeFrom=${new Date(Date.now() - 60_000).toISOString()}&flowId=demo%2Fecho`)).body.runs).toHaveLength(5);
    expect((await f.json('GET', '/runs?startTimeTo=0')).body.runs).toHaveLength(0);
    const capped = await f.json('GET', '/runs?limit=100000000');
    expect(capped.status).toBe(200);
    expect(capped.body.runs).toHaveLength(5);
  });

  it('updates label and tags, cancels, pages logs, lists children and persisted events', async () => {
    const { body } = await f.json('POST', '/runs', { body: { flowId: 'demo/hold' } });
    const id = body.run.runId as string;
    expect((await f.json('PATCH', `/runs/${id}`, { body: { label: 'renamed', tags: ['x'] } })).body.run).toMatchObject({ label: 'renamed', tags: ['x'] });
    expect((await f.json('PATCH', `/runs/${id}`, { body: { label: null } })).body.run.label).toBeNull();
    expect((await f.json('PATCH', `/runs/${id}`, { body: { tags: [1] } })).body.error.details.issues[0].path).toBe('body.tags.0');
    const canceled = await f.json('POST', `/runs/${id}/cancel`);
    expect(canceled.body.run.status).toBe('CANCELED');
    const logs = await f.json('GET', `/runs/${id}/logs?limit=1&offset=0`);
    expect(logs.body.entries).toHaveLength(1);
    expect(logs.body.total).toBeGreaterThan(1);
    const rest = await f.json('GET', `/runs/${id}/logs?offset=1&limit=1000000`);
    expect(rest.body.entries).toHaveLength(logs.body.total - 1);
    expect(await f.json('GET', `/runs/${id}/children`)).toEqual({ status: 200, body: { runs: [], hasNextPage: false, marker: null } });
    const events = await f.json('GET', `/runs/${id}/events?afterSeq=1&limit=2`);
    expect(events.body.events.map((e: { seq: number }) => e.seq)).toEqual([2, 3]);
    const all = (await f.json('GET', `/runs/${id}/events`)).body.events;
    expect(all.at(-1)).toMatchObject({ kind: 'status', status: 'CANCELED' });
  });

  it('lists the child runs of a run', async () => {
    const parent = { id: 'demo/parent', actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'demo/echo', literals: { n: 4 } } } } } };
    await f.json('POST', '/flows', { body: { definition: parent, publish: true } });
    const { body } = await f.json('POST', '/runs', { body: { flowId: 'demo/parent', wait: true } });
    expect(body.run.status).toBe('SUCCEEDED');
    const children = (await f.json('GET', `/runs/${body.run.runId}/children`)).body.runs;
    expect(children).toHaveLength(1);
    expect(children[0]).toMatchObject({ flowId: 'demo/echo', parentRunId: body.run.runId });
  });

  it('pages the child runs of a run with markers, oldest first', async () => {
    const steps = Object.fromEntries(
      [0, 1, 2, 3, 4].map((i) => [`c${i}`, { stepType: 'RUN_FLOW', flowDefinitionId: 'demo/echo', literals: { n: i }, ...(i < 4 ? { defaultNextStepInstanceId: `c${i + 1}` } : {}) }]),
    );
    await f.json('POST', '/flows', { body: { definition: { id: 'demo/fan', actions: { main: { startAt: 'c0', steps } } }, publish: true } });
    const { body } = await f.json('POST', '/runs', { body: { flowId: 'demo/fan', wait: true } });
    const pages: { runs: { runId: string; startTime: number }[]; hasNextPage: boolean; marker: string | null }[] = [];
    let marker: string | null = null;
    do {
      const page: (typeof pages)[number] = (await f.json('GET', `/runs/${body.run.runId}/children?limit=2${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`)).body;
      pages.push(page);
      marker = page.hasNextPage ? page.marker : null;
    } while (marker);
    expect(pages.map((p) => p.runs.length)).toEqual([2, 2, 1]);
    const all = pages.flatMap((p) => p.runs);
    expect(new Set(all.map((r) => r.runId)).size).toBe(5);
    expect(all.map((r) => r.startTime)).toEqual([...all.map((r) => r.startTime)].sort((a, b) => a - b));
    expect((await f.json('GET', `/runs/${body.run.runId}/children?marker=forged`)).status).toBe(400);
  });
});

describe('batch', () => {
  it('starts, reads and cancels many runs with one result per item in input order, failures included', async () => {
    const started = await f.json('POST', '/runs/batch/start', {
      body: { concurrency: 2, runs: [{ flowId: 'demo/hold' }, { flowId: 'demo/nothing' }, { flowId: 'demo/echo', input: { n: 'bad' } }, { flowId: 'demo/hold', label: 'last' }] },
    });
    expect(started.status).toBe(200);
    const results = started.body.results;
    expect(results.map((r: any) => r.run?.flowId ?? r.error.code)).toEqual(['demo/hold', 'FLOW_NOT_FOUND', 'INVALID_INPUT', 'demo/hold']);
    const ids = [results[0].run.runId, 'missing-run', results[3].run.runId];
    const read = await f.json('POST', '/runs/batch/get', { body: { runIds: ids } });
    expect(read.body.results.map((r: any) => r.run?.status ?? r.error.code)).toEqual(['ACTIVE', 'RUN_NOT_FOUND', 'ACTIVE']);
    const theirs = (await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/hold' } })).body.run.runId;
    const canceled = await f.json('POST', '/runs/batch/cancel', { body: { runIds: [...ids, theirs] } });
    expect(canceled.body.results.map((r: any) => r.run?.status ?? r.error.code)).toEqual(['CANCELED', 'RUN_NOT_FOUND', 'CANCELED', 'RUN_NOT_FOUND']);
    expect((await f.engine.getRun(theirs)).status).toBe('ACTIVE');
  });

  it('refuses a concurrency outside 1-32 and an empty batch, naming the field', async () => {
    expect(expectError(await f.json('POST', '/runs/batch/get', { body: { runIds: ['a'], concurrency: 64 } }), 400, 'INVALID_INPUT').details.issues[0].path).toBe('body.concurrency');
    expect(expectError(await f.json('POST', '/runs/batch/cancel', { body: { runIds: [] } }), 400, 'INVALID_INPUT').details.issues[0].path).toBe('body.runIds');
    expect(expectError(await f.json('POST', '/runs/batch/start', { body: { runs: [{ flowId: 'demo/echo' }, { flow: 'x' }] } }), 400, 'INVALID_INPUT').details.issues.map((i: any) => i.path)).toContain('body.runs.1.flowId');
  });
});

describe('events and approvals on an engine without them', () => {
  it('answers 501 NOT_IMPLEMENTED after validating the body', async () => {
    // An engine of a version before events and approvals: the same object without those methods.
    const older = Object.assign(Object.create(f.engine) as typeof f.engine, { publishEvent: undefined, approve: undefined, reject: undefined });
    const router = createFlowApiRouter({ engine: older, authenticate: testAuthenticate });
    const post = async (path: string, body: unknown) => {
      const response = await router.fetch(new Request(`http://x${path}`, { method: 'POST', headers: { authorization: 'Bearer as:olivia', 'content-type': 'application/json' }, body: JSON.stringify(body) }));
      return { status: response.status, body: await response.json() };
    };
    expectError(await post('/events', { name: 'order.created', payload: { id: 1 } }), 501, 'NOT_IMPLEMENTED');
    expectError(await post('/runs/r-1/approve', { stepId: 'wait' }), 501, 'NOT_IMPLEMENTED');
    expectError(await post('/runs/r-1/reject', { stepId: 'wait', comment: 'no' }), 501, 'NOT_IMPLEMENTED');
    expect(expectError(await post('/events', { payload: 1 }), 400, 'INVALID_INPUT').details.issues[0].path).toBe('body.name');
  });
});
