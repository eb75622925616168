/**
 * `POST /runs` taken directly (direct-start.ts, what `serve()` gets for a JSON body of declared
 * length): every start a client can send is answered exactly as the app's route answers it —
 * status, body, headers — and whatever it does not take reaches the app with its body unread.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServerFixture, testAuthenticate, type ServerFixture } from '../../test/support/server-fixture.js';
import { directStart } from './direct-start.js';
import { ServerMetrics } from './metrics.js';
import { StartRateLimiter } from './start-rate-limiter.js';
import type { RouterState } from './router-context.js';
import { requestErrorResponse } from './error-response.js';

let f: ServerFixture;
let metrics: ServerMetrics;
let take: ReturnType<typeof directStart>;

/** The direct path over the fixture's engine, with a start budget of its own. */
function directOver(startsPerSecond: number): ReturnType<typeof directStart> {
  metrics = new ServerMetrics();
  const state = { engine: f.engine, metrics, authenticate: testAuthenticate, starts: new StartRateLimiter({ startsPerSecond, now: () => f.engine.clock.now() }) } as Partial<RouterState> as RouterState;
  return directStart({
    state,
    maxBodyBytes: 1024,
    authenticated: new WeakMap(),
    failed: (error) => requestErrorResponse(error),
  });
}

beforeEach(async () => {
  f = await createServerFixture();
  take = directOver(1000);
});
afterEach(async () => {
  await f.close();
});

/** A POST as a Node server hands it over, its length declared; without one (`length: null`) the router's app answers it. */
function post(path: string, body: string, options: { as?: string | null; type?: string; length?: string | null } = {}): Request {
  const headers: Record<string, string> = { 'content-type': options.type ?? 'application/json' };
  if (options.length !== null) headers['content-length'] = options.length ?? String(Buffer.byteLength(body));
  if (options.as !== null) headers.authorization = `Bearer as:${options.as ?? 'olivia'}`;
  return new Request(`http://flowrun.test${path}`, { method: 'POST', headers, body });
}

/** An answer with what differs between two starts (run ids, times) blanked. */
async function shape(response: Response): Promise<{ status: number; type: string | null; body: unknown }> {
  const text = await response.text();
  const blank = (key: string, value: unknown): unknown => (/^(runId|rootRunId|treeId|startTime|updatedAt|endTime|deadline|retryAfterSeconds)$/.test(key) && value !== null ? '…' : value);
  return { status: response.status, type: response.headers.get('content-type'), body: JSON.parse(text, blank) };
}

describe('POST /runs taken directly', () => {
  it('answers every kind of start exactly as the route does', async () => {
    const cases: { body: unknown; as?: string }[] = [
      { body: { flowId: 'demo/echo', input: { n: 1 } } },
      { body: { flowId: 'demo/echo', input: { n: 2 }, label: 'l', tags: ['a', 'b'], runMonitoringBy: ['mona'], runManagingGroups: ['ops'] } },
      { body: { flowId: 'demo/echo', input: { n: 3 }, wait: true } },
      { body: { flowId: 'secure/report' }, as: 'otto' }, // not a starter: FLOW_NOT_FOUND, as for a missing flow
      { body: { flowId: 'secure/report' }, as: 'gina' }, // a starter through the group ops
      { body: { flowId: 'nope/missing' } },
      { body: { flowId: 'demo/echo', input: { n: 'x' } } }, // breaks the param schema
      { body: { flowId: 'demo/echo', extra: 1 } }, // not in the request schema
      { body: { flowId: 'demo/echo', requestId: 'has space' } },
      { body: { flowId: 'demo/echo', requestId: 'r-1', idempotencyKey: 'k' } },
      { body: [1, 2] },
      { body: 'not json {' },
    ];
    for (const [i, c] of cases.entries()) {
      const text = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      const direct = await take(post('/runs', text, { as: c.as }));
      expect(direct, `case ${i}`).not.toBeNull();
      const viaRoute = await f.router.fetch(post('/runs', text, { as: c.as, length: null }));
      expect(await shape(direct!.response), `case ${i}`).toEqual(await shape(viaRoute));
    }
  });

  it('answers a repeated idempotency key with the first run, and counts only new starts', async () => {
    const first = await take(post('/runs', JSON.stringify({ flowId: 'demo/echo', input: { n: 1 }, idempotencyKey: 'order-1' })));
    const again = await take(post('/runs', JSON.stringify({ flowId: 'demo/echo', input: { n: 1 }, idempotencyKey: 'order-1' })));
    const [a, b] = [await first!.response.json(), await again!.response.json()];
    expect([first!.response.status, again!.response.status]).toEqual([201, 200]);
    expect(b.run.runId).toBe(a.run.runId);
    expect(metrics.runsStarted).toBe(1);
  });

  it("holds a principal to maxStartsPerSecond, answering 429 with when to come back", async () => {
    take = directOver(3);
    const statuses: number[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < 5; i++) {
      const { response } = (await take(post('/runs', JSON.stringify({ flowId: 'demo/echo', input: { n: i } }))))!;
      statuses.push(response.status);
      if (response.status === 429) refused = response;
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await refused!.json()).error.code).toBe('LIMIT_EXCEEDED');
    // Another principal has budgets of its own.
    expect((await take(post('/runs', JSON.stringify({ flowId: 'demo/echo', input: { n: 1 } }), { as: 'mona' })))!.response.status).toBe(201);
  });

  it('leaves to the route, body unread, what it does not take', async () => {
    const body = JSON.stringify({ flowId: 'demo/echo', input: { n: 1 } });
    const others = [
      post('/runs', body, { as: null }), // no credentials: the route's 401
      post('/runs', body, { length: null }), // chunked: the route counts it as it reads
      post('/runs', body, { length: '1025' }), // over the limit: the route's 413
      post('/runs', body, { type: 'text/plain' }), // the route's 415
      post('/runs', body, { type: 'application/json; charset=latin1' }),
      post('/runs?x=1', body),
      post('/runs/', body),
      post('/runs/batch/start', JSON.stringify({ items: [] })),
      new Request('http://flowrun.test/runs', { headers: { authorization: 'Bearer as:olivia' } }),
    ];
    for (const [i, request] of others.entries()) {
      const taken = take(request);
      // Unauthenticated is found out through a promise; everything else at once.
      if (i === 0) expect(await taken, `request ${i}`).toBeNull();
      else expect(taken, `request ${i}`).toBeNull();
      expect(request.bodyUsed, `request ${i}`).toBe(false);
    }
  });

  it('serves POST /runs on a socket with a declared length the same as the route', async () => {
    const { serve } = await import('./index.js');
    const server = await serve({ router: f.router });
    try {
      const body = JSON.stringify({ flowId: 'demo/echo', input: { n: 5 }, wait: true });
      const overSocket = await fetch(`${server.url}/runs`, { method: 'POST', headers: { authorization: 'Bearer as:olivia', 'content-type': 'application/json' }, body });
      const viaRoute = await f.router.fetch(post('/runs', body, { length: null }));
      expect(await shape(overSocket)).toEqual(await shape(viaRoute));
      expect(overSocket.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
