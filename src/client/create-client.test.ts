/**
 * The client against the real router, through `router.fetch` (no port): every operation, the
 * iterators over several pages, batches with partial failures, waiting and watching, and the
 * errors it rebuilds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEngine, createMemoryStores, FlowError, NotFoundError, ValidationError, type FlowDefinition, type Module } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import { createClient, isRunNotFoundError, type FlowClient } from './index.js';

/** Logs five ticks, 15 ms apart: a run with several events over time. */
const ticker: Module = async (_input, ctx) => {
  for (let i = 1; i <= 5; i++) {
    ctx.log('TICK', `tick ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  return { ticks: 5 };
};

const tickerFlow: FlowDefinition = {
  id: 'demo/ticker',
  actions: { main: { startAt: 'tick', steps: { tick: { stepType: 'MODULE', moduleIdentifier: 'ticker' } } } },
};

let fx: ServerFixture;
let client: FlowClient;

function clientAs(userId: string, fetch: (request: Request) => Promise<Response> = fx.router.fetch): FlowClient {
  return createClient({ baseUrl: 'http://flowrun.test/', token: `as:${userId}`, fetch });
}

beforeEach(async () => {
  fx = await createServerFixture({ modules: { ticker } });
  await fx.engine.deployFlow(tickerFlow, { deployedBy: 'adam', publish: true });
  client = clientAs('olivia');
});

afterEach(async () => {
  await fx.close();
});

describe('flowrun/client over the router', () => {
  it('answers health and deploys, publishes, lists and reads flows whose ids hold a slash', async () => {
    expect(await client.health()).toMatchObject({ ok: true });
    const definition: FlowDefinition = { ...(await fx.engine.getFlow('demo/echo')).definition, id: 'team/echo', title: 'Echo' };
    expect(await client.deployFlow(definition)).toEqual({ id: 'team/echo', version: 1 });
    expect(await client.deployFlow({ ...definition, title: 'Echo 2' }, { publish: true })).toEqual({ id: 'team/echo', version: 2 });
    expect(await client.publishFlow('team/echo', 1)).toEqual({ id: 'team/echo', version: 1 });
    expect((await client.listFlows()).find((f) => f.flowId === 'team/echo')).toMatchObject({ latestVersion: 2, publishedVersion: 1 });
    expect(await client.getFlow('team/echo')).toMatchObject({ flowId: 'team/echo', version: 1, published: true });
    expect(await client.getFlow('team/echo', { version: 2 })).toMatchObject({ version: 2, published: false });
    const missing = await client.getFlow('team/nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ code: 'FLOW_NOT_FOUND' });
  });

  it('starts a run with the seed-003 fields, reads, updates and cancels it', async () => {
    const started = await client.runFlow({
      flowId: 'demo/hold',
      label: 'nightly batch',
      tags: ['a', 'b'],
      runMonitoringBy: ['mona'],
      runManagingBy: ['manny'],
      runManagingGroups: ['ops'],
      input: {},
    });
    expect(started).toMatchObject({ flowId: 'demo/hold', status: 'ACTIVE', label: 'nightly batch', tags: ['a', 'b'], createdBy: 'olivia' });
    expect(started).not.toHaveProperty('state');
    expect((await client.getRun(started.runId)).monitors.users).toContain('mona');
    expect(await clientAs('mona').getRun(started.runId)).toMatchObject({ runId: started.runId });
    const updated = await client.updateRun(started.runId, { label: 'renamed', tags: ['c'] });
    expect(updated).toMatchObject({ label: 'renamed', tags: ['c'] });
    // A monitor reads but may not cancel; a manager may.
    await expect(clientAs('mona').cancelRun(started.runId)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await clientAs('manny').cancelRun(started.runId)).toMatchObject({ status: 'CANCELED' });
  });

  it('waits on the server with wait: true and returns the ended run with its output', async () => {
    const run = await client.runFlow({ flowId: 'demo/echo', input: { n: 7 }, wait: true });
    expect(run).toMatchObject({ status: 'SUCCEEDED', output: { n: 7 } });
  });

  it('rebuilds validation errors with their issues, and says which field the client refused', async () => {
    const bad = await client.runFlow({ flowId: 'demo/echo', input: { n: 'seven' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues.length).toBeGreaterThan(0);
    await expect(client.listRuns({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'limit' }] });
    await expect(client.listRuns({ status: 'DONE' as never })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'status' }] });
    expect(() => createClient({ baseUrl: 'ftp://x' })).toThrow(/baseUrl/);
  });

  it('pages through runs with markers: listRuns, the runs() iterator and listAllRuns agree', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await client.runFlow({ flowId: 'demo/echo', input: { n: i }, label: `page-${i}`, tags: ['paged'], wait: true })).runId);
    const first = await client.listRuns({ limit: 3, tags: ['paged'], orderBy: 'startTime', orderDir: 'asc' });
    expect(first.runs).toHaveLength(3);
    expect(first.hasNextPage).toBe(true);
    const second = await client.listRuns({ limit: 3, tags: ['paged'], orderBy: 'startTime', orderDir: 'asc', marker: first.marker });
    expect(second.runs.map((r) => r.runId)).toEqual(ids.slice(3, 6));
    const seen: string[] = [];
    for await (const run of client.runs({ limit: 3, tags: ['paged'], orderBy: 'start_time', orderDir: 'asc' })) seen.push(run.runId);
    expect(seen).toEqual(ids);
    expect((await client.listAllRuns({ limit: 2, flowId: 'demo/echo', status: ['SUCCEEDED'] })).map((r) => r.runId).sort()).toEqual([...ids].sort());
    const later = await client.listAllRuns({ startTime: { from: new Date(Date.now() + 60_000) } });
    expect(later).toEqual([]);
    expect((await client.listAllRuns({ label: 'page-3' })).map((r) => r.runId)).toEqual([ids[3]]);
    // Another user sees none of them.
    expect(await clientAs('otto').listAllRuns({ tags: ['paged'] })).toEqual([]);
  });

  it('reads logs by page, and the runLogs iterator returns every entry once', async () => {
    const run = await client.runFlow({ flowId: 'demo/ticker', wait: true });
    const page = await client.getRunLogs(run.runId, { limit: 2, offset: 0 });
    expect(page.entries).toHaveLength(2);
    expect(page.total).toBeGreaterThanOrEqual(5);
    const all: string[] = [];
    for await (const entry of client.runLogs(run.runId, { pageSize: 2 })) all.push(`${entry.code}:${entry.description}`);
    expect(all).toHaveLength(page.total);
    expect(all.filter((e) => e.startsWith('TICK:'))).toEqual(['TICK:tick 1', 'TICK:tick 2', 'TICK:tick 3', 'TICK:tick 4', 'TICK:tick 5']);
    expect((await client.listAllRunLogs(run.runId, { pageSize: 3 })).length).toBe(page.total);
    expect((await client.getRunEvents(run.runId, { afterSeq: 0 })).at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    expect(await client.getRunChildren(run.runId)).toEqual([]);
    expect(await client.listRunChildren(run.runId, { limit: 1 })).toEqual({ runs: [], hasNextPage: false, marker: null });
  });

  it('runs batches with partial failures, one result per item in input order', async () => {
    const started = await client.batchRunFlows({
      concurrency: 2,
      runs: [{ flowId: 'demo/hold' }, { flowId: 'demo/nope' }, { flowId: 'secure/report' }, { flowId: 'demo/hold', label: 'second' }],
    });
    expect(started.map((r) => (r.error ? r.error.code : r.run.status))).toEqual(['ACTIVE', 'FLOW_NOT_FOUND', 'ACTIVE', 'ACTIVE']);
    expect(started[1]!.error).toBeInstanceOf(FlowError);
    const ids = started.flatMap((r) => (r.run ? [r.run.runId] : []));
    const unknown = '0190a000-0000-7000-8000-000000000000';
    const got = await client.batchGetRuns({ runIds: [ids[2]!, unknown, ids[0]!], concurrency: 1 });
    expect(got.map((r) => [r.runId, r.error?.code ?? r.run?.runId])).toEqual([
      [ids[2], ids[2]],
      [unknown, 'RUN_NOT_FOUND'],
      [ids[0], ids[0]],
    ]);
    expect(isRunNotFoundError(got[1]!.error)).toBe(true);
    // otto may not see olivia's runs: they are "not found" for him, never "forbidden".
    expect((await clientAs('otto').batchCancelRuns({ runIds: ids })).map((r) => r.error?.code)).toEqual(['RUN_NOT_FOUND', 'RUN_NOT_FOUND', 'RUN_NOT_FOUND']);
    const canceled = await client.batchCancelRuns({ runIds: [...ids, unknown], concurrency: 3 });
    expect(canceled.map((r) => r.run?.status ?? r.error?.code)).toEqual(['CANCELED', 'CANCELED', 'CANCELED', 'RUN_NOT_FOUND']);
  });

  it('says RUN_NOT_FOUND for unknown runs and for runs the caller may not see', async () => {
    const run = await client.runFlow({ flowId: 'demo/echo', input: { n: 1 }, wait: true });
    const unknown = await client.getRun('0190a000-0000-7000-8000-000000000001').catch((e: unknown) => e);
    const invisible = await clientAs('otto').getRun(run.runId).catch((e: unknown) => e);
    for (const error of [unknown, invisible]) {
      expect(isRunNotFoundError(error)).toBe(true);
      expect(error).toBeInstanceOf(NotFoundError);
    }
    expect((invisible as FlowError).runId).toBe(run.runId);
    expect(isRunNotFoundError(new Error('x'))).toBe(false);
    await expect(clientAs('otto').cancelRun(run.runId)).rejects.toSatisfy(isRunNotFoundError);
  });

  it('waits for a run by polling; a signal or a timeout stops waiting and the run goes on', async () => {
    const held = await client.runFlow({ flowId: 'demo/hold' });
    const timedOut = await client.waitForRun(held.runId, { pollIntervalMs: 10, timeoutMs: 60 }).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ code: 'TIMEOUT', runId: held.runId });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client.waitForRun(held.runId, { pollIntervalMs: 10, signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELED' });
    expect((await client.getRun(held.runId)).status).toBe('ACTIVE');
    setTimeout(() => void client.cancelRun(held.runId), 50);
    expect(await client.waitForRun(held.runId, { pollIntervalMs: 10 })).toMatchObject({ status: 'CANCELED' });
    const quick = await client.runFlow({ flowId: 'demo/echo', input: { n: 3 } });
    expect(await client.waitForRun(quick.runId, { pollIntervalMs: 5 })).toMatchObject({ status: 'SUCCEEDED', output: { n: 3 } });
  });

  it('watches a run live to its terminal status', async () => {
    const run = await client.runFlow({ flowId: 'demo/ticker' });
    const events = [];
    for await (const event of client.watchRun(run.runId)) events.push(event);
    expect(events.filter((e) => e.kind === 'log' && e.entry.code === 'TICK')).toHaveLength(5);
    expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    const seqs = events.filter((e) => !e.transient).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    // Resuming after the terminal status ends at once.
    const after = [];
    for await (const event of client.watchRun(run.runId, { afterSeq: seqs.at(-1)! })) after.push(event);
    expect(after).toEqual([]);
  });

  it('resumes a dropped stream with Last-Event-ID: no event lost, none repeated', async () => {
    const lastEventIds: (string | null)[] = [];
    let streams = 0;
    // Cuts the first two streams after a few bytes have gone through, mid-run.
    const flaky = async (request: Request): Promise<Response> => {
      const response = await fx.router.fetch(request);
      if (!new URL(request.url).pathname.endsWith('/stream')) return response;
      lastEventIds.push(request.headers.get('last-event-id'));
      if (++streams > 2 || !response.body) return response;
      return new Response(cutAfterEvents(response.body, 2), { status: response.status, headers: response.headers });
    };
    const run = await client.runFlow({ flowId: 'demo/ticker' });
    const events = [];
    for await (const event of clientAs('olivia', flaky).watchRun(run.runId, { reconnectDelayMs: 5 })) events.push(event);
    const seqs = events.filter((e) => !e.transient).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(events.filter((e) => e.kind === 'log' && e.entry.code === 'TICK')).toHaveLength(5);
    expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    expect(streams).toBeGreaterThanOrEqual(3);
    expect(lastEventIds[0]).toBeNull();
    expect(Number(lastEventIds[1])).toBeGreaterThan(0);
  });

  it('ends a watch quietly when its signal aborts, and rejects a watch of an invisible run', async () => {
    const held = await client.runFlow({ flowId: 'demo/hold' });
    const controller = new AbortController();
    const seen = [];
    setTimeout(() => controller.abort(), 80);
    for await (const event of client.watchRun(held.runId, { signal: controller.signal })) seen.push(event);
    expect(seen.length).toBeGreaterThan(0);
    await vi.waitFor(() => expect(fx.router.openStreams).toBe(0));
    const watching = clientAs('otto').watchRun(held.runId);
    await expect(watching.next()).rejects.toSatisfy(isRunNotFoundError);
  });

  it('watches a run a job starts after the watch began (seed 002): the server waits for it', async () => {
    const stores = createMemoryStores();
    const g = await createServerFixture({ stores, engine: createEngine({ stores, modules: { ticker }, pollIntervalMs: 50, runtimeConfig: { budgets: { maxWatchWaitMs: 60_000 } } }) });
    try {
      const watcher = createClient({ baseUrl: 'http://flowrun.test/', token: 'as:olivia', fetch: g.router.fetch });
      const seen: string[] = [];
      const watching = (async () => {
        for await (const event of watcher.watchRun('nightly-1')) seen.push(event.kind === 'status' ? event.status : event.kind);
      })();
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); // the request reached the server, which found no run
      void g.engine.runAction({ flow: tickerFlow, requestId: 'nightly-1', userId: 'olivia', source: 'manual' });
      await watching;
      expect(seen[0]).toBe('ACTIVE');
      expect(seen.filter((k) => k === 'log').length).toBeGreaterThanOrEqual(5);
      expect(seen.at(-1)).toBe('SUCCEEDED');
    } finally {
      await g.close();
    }
  });

  it('reports an unreachable server as NETWORK_ERROR and a foreign answer as UNEXPECTED_RESPONSE', async () => {
    const offline = createClient({ baseUrl: 'http://127.0.0.1:9', fetch: () => Promise.reject(new TypeError('fetch failed')) });
    await expect(offline.health()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    const proxy = createClient({ baseUrl: 'http://x', fetch: async () => new Response('<html>bad gateway</html>', { status: 502 }) });
    await expect(proxy.getRun('r')).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', details: { status: 502 } });
    await expect(createClient({ baseUrl: 'http://flowrun.test', fetch: fx.router.fetch, token: 'as:nobody-bad' }).listRuns()).resolves.toMatchObject({ runs: [] });
    await expect(createClient({ baseUrl: 'http://flowrun.test', fetch: fx.router.fetch }).listRuns()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('flowrun/client on the wire', () => {
  it('sends each operation as the HTTP contract says: method, encoded path, query and body', async () => {
    const sent: { method: string; path: string; body: unknown; auth: string | null }[] = [];
    const answers: Record<string, unknown> = { '/flowrun/events': { eventId: 'e1', runIds: ['r9'] } };
    const recorder = async (request: Request): Promise<Response> => {
      const url = new URL(request.url);
      const text = await request.text();
      sent.push({ method: request.method, path: url.pathname + url.search, body: text ? JSON.parse(text) : undefined, auth: request.headers.get('authorization') });
      const run = { runId: 'r1', status: 'SUCCEEDED' };
      return Response.json(answers[url.pathname] ?? { run, runs: [], flows: [], flow: {}, entries: [], total: 0, results: [], hasNextPage: false, marker: null, id: 'f', version: 1 });
    };
    const c = createClient({ baseUrl: 'https://api.example.com/flowrun/', token: 'frt_x', fetch: recorder, headers: { 'x-trace': '1' } });
    await c.listRuns({ limit: 5, flowId: 'a/b', status: ['FAILED', 'CANCELED'], startTime: { from: 1000, to: '1970-01-01T00:00:02.000Z' }, endTime: { to: new Date(3000) }, tags: ['x', 'y'], orderBy: 'end_time', orderDir: 'asc', marker: 'm1' });
    await c.getRunLogs('r/1', { limit: 10, offset: 20 });
    await c.getFlow('@org/orders/validate', { version: 2 });
    await c.publishFlow('a/b', 3);
    expect(await c.publishEvent({ name: 'order.created', payload: { id: 1 }, eventId: 'ev-1' })).toEqual({ eventId: 'e1', runIds: ['r9'], resumedRunIds: [], skipped: [] });
    await c.approve('r1', { stepId: 'review', comment: 'ok' });
    await c.reject('r1', { stepId: 'review' });
    await c.runFlow({ flowId: 'a/b', input: { n: 1 }, runAs: 'svc', idempotencyKey: 'k1', extra: 'dropped' } as never);
    expect(sent.map(({ method, path, body }) => [method, path, body])).toEqual([
      ['GET', '/flowrun/runs?limit=5&marker=m1&flowId=a%2Fb&status=FAILED%2CCANCELED&startTimeFrom=1000&startTimeTo=2000&endTimeTo=3000&tags=x%2Cy&orderBy=endTime&orderDir=asc', undefined],
      ['GET', '/flowrun/runs/r%2F1/logs?limit=10&offset=20', undefined],
      ['GET', '/flowrun/flows/%40org%2Forders%2Fvalidate?version=2', undefined],
      ['POST', '/flowrun/flows/a%2Fb/publish', { version: 3 }],
      ['POST', '/flowrun/events', { name: 'order.created', payload: { id: 1 }, eventId: 'ev-1' }],
      ['POST', '/flowrun/runs/r1/approve', { stepId: 'review', comment: 'ok' }],
      ['POST', '/flowrun/runs/r1/reject', { stepId: 'review' }],
      ['POST', '/flowrun/runs', { flowId: 'a/b', input: { n: 1 }, runAs: 'svc', idempotencyKey: 'k1' }],
    ]);
    expect(new Set(sent.map((s) => s.auth))).toEqual(new Set(['Bearer frt_x']));
  });

  it('sends a GET once more when the first attempt got no answer, but never a start without an idempotency key', async () => {
    let calls = 0;
    const flaky = async (request: Request): Promise<Response> => {
      if (++calls % 2 === 1) throw new TypeError('fetch failed', { cause: new Error('other side closed') });
      return Response.json({ run: { runId: 'r1', status: 'ACTIVE' } });
    };
    const c = createClient({ baseUrl: 'http://x', fetch: flaky });
    expect(await c.getRun('r1')).toMatchObject({ runId: 'r1' });
    expect(calls).toBe(2);
    await expect(c.runFlow({ flowId: 'f' })).rejects.toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringContaining('other side closed') });
    expect(calls).toBe(3);
    calls = 0;
    expect(await c.runFlow({ flowId: 'f', idempotencyKey: 'k' })).toMatchObject({ runId: 'r1' });
    expect(calls).toBe(2);
  });

  it('gives up on a call with TIMEOUT after timeoutMs, but not on a start that waits for its run', async () => {
    const slow = (request: Request): Promise<Response> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(Response.json({ run: { runId: 'r1', status: 'SUCCEEDED' } })), 80);
        request.signal.addEventListener('abort', () => (clearTimeout(timer), reject(request.signal.reason)), { once: true });
      });
    const c = createClient({ baseUrl: 'http://x', fetch: slow, timeoutMs: 20 });
    await expect(c.getRun('r1')).rejects.toMatchObject({ code: 'TIMEOUT', runId: 'r1' });
    expect(await c.runFlow({ flowId: 'f', wait: true })).toMatchObject({ status: 'SUCCEEDED' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    await expect(c.waitForRun('r1', { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELED' });
    expect(() => createClient({ baseUrl: 'http://x', timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});

/** Passes a stream through until `count` SSE events went by, then breaks it. */
function cutAfterEvents(body: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      seen += new TextDecoder().decode(value).split('\n\n').length - 1;
      if (seen >= count) {
        await reader.cancel();
        controller.error(new TypeError('terminated'));
      }
    },
    cancel: () => reader.cancel(),
  });
}
