/**
 * Random requests — methods, paths, headers and bodies, valid and not — always get an answer in
 * the documented shape (an error is `{error: {code, message, details}}` with the status of its
 * code, never INTERNAL), and the router keeps serving afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import { ERROR_STATUS, statusOf } from './error-response.js';

let f: ServerFixture;
let roomy: ServerFixture;
beforeAll(async () => {
  f = await createServerFixture({ router: { maxBodyBytes: 4096 } });
  roomy = await createServerFixture({ router: { maxBodyBytes: 2_000_000 } });
});
afterAll(async () => {
  await f.close();
  await roomy.close();
});

const segment = fc.oneof(
  fc.constantFrom('runs', 'flows', 'batch', 'start', 'get', 'cancel', 'logs', 'events', 'stream', 'children', 'publish', 'approve', 'reject', 'health', 'openapi.json', 'metrics', 'demo%2Fecho', '%2F', '..', '%00', '%E0%A4%A', 'x'.repeat(300)),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const path = fc.tuple(fc.array(segment, { minLength: 0, maxLength: 4 }), fc.option(fc.string({ maxLength: 30 }), { nil: undefined })).map(([parts, query]) => `/${parts.join('/')}${query !== undefined ? `?${query.replace(/#/g, '')}` : ''}`);
const startBody = fc.record(
  { flowId: fc.oneof(fc.constantFrom('demo/echo', 'demo/nothing', 'secure/report'), fc.anything()), input: fc.anything(), tags: fc.anything(), wait: fc.boolean(), idempotencyKey: fc.string(), limit: fc.integer() },
  { requiredKeys: [] },
);
const body = fc.oneof(fc.constant(undefined), fc.json(), fc.string({ maxLength: 50 }), startBody.map((b) => JSON.stringify(b)), fc.constant('{"runIds": ["a", 1]}'), fc.constant('x'.repeat(4097)));
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS', 'HEAD'),
  path: fc.oneof(path, fc.constantFrom('/runs', '/runs/batch/start', '/runs/batch/get', '/runs/batch/cancel', '/flows', '/events', '/runs?limit=99999999999', '/runs?marker=%7B%7D', '/runs?status=', '/flows/demo%2Fecho?version=0')),
  as: fc.constantFrom<string | null>('olivia', 'otto', null),
  authorization: fc.option(fc.constantFrom('Bearer', 'Bearer ', 'Basic x', 'Bearer frt_nope', 'Bearer as:'), { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', ''),
  lastEventId: fc.option(fc.string({ maxLength: 20 }).filter((s) => !/[\r\n\0]/.test(s)), { nil: undefined }),
  body,
});

/**
 * JSON text of hostile shapes, written as text (JSON.stringify of a deep value exhausts the
 * stack): deep objects, arrays or both; the same structure repeated as if shared (`[x, x]`
 * doubled, the JSON form of a self-referencing value); many keys; long strings.
 */
const leaf = fc.oneof(fc.json({ maxDepth: 2 }), fc.integer({ min: 0, max: 200_000 }).map((n) => JSON.stringify('x'.repeat(n))));
const deepValue = fc.record({ levels: fc.integer({ min: 1, max: 30_000 }), kind: fc.constantFrom('object', 'array', 'mixed'), leaf }).map(({ levels, kind, leaf: inner }) => {
  if (kind === 'array') return `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
  if (kind === 'object') return `${'{"a":'.repeat(levels)}${inner}${'}'.repeat(levels)}`;
  const half = Math.ceil(levels / 2);
  return `${'{"a":['.repeat(half)}${inner}${']}'.repeat(half)}`;
});
const doubledValue = fc.record({ times: fc.integer({ min: 1, max: 14 }), leaf }).map(({ times, leaf: inner }) => {
  let text = inner;
  for (let i = 0; i < times && text.length < 400_000; i++) text = `{"l": ${text}, "r": ${text}}`;
  return text;
});
const manyKeys = fc.integer({ min: 1, max: 20_000 }).map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}": ${i}`).join(', ')}}`);
const hostileValue = fc.oneof(deepValue, doubledValue, manyKeys, leaf);
const hostileRequest = fc.oneof(
  // demo/hold declares no params, so any input is bound as it is (and the run waits until canceled).
  hostileValue.map((v) => ['POST', '/runs', `{"flowId": "demo/hold", "input": {"x": ${v}}}`] as const),
  hostileValue.map((v) => ['POST', '/runs', `{"flowId": "demo/echo", "input": {"n": 1, "x": ${v}}, "wait": true}`] as const),
  hostileValue.map((v) => ['POST', '/runs/batch/start', `{"runs": [{"flowId": "demo/hold", "input": {"x": ${v}}}]}`] as const),
  hostileValue.map((v) => ['POST', '/events', `{"name": "hostile.event", "payload": ${v}}`] as const),
  hostileValue.map((v) => ['POST', '/flows', `{"definition": {"id": "hostile/flow", "actions": {"main": {"startAt": "e", "steps": {"e": {"stepType": "COMPUTE", "expression": "1", "literals": {"v": ${v}}}}}}}}`] as const),
  fc.integer({ min: 1, max: 20_000 }).map((n) => ['POST', '/flows', `{"definition": {"id": "hostile/schema", "classes": {"C": ${'{"type": "object", "properties": {"p": '.repeat(n)}{"type": "string"}${'}}'.repeat(n)}}, "actions": {"main": {"startAt": "e", "steps": {"e": {"stepType": "COMPUTE", "expression": "1"}}}}}}`] as const),
  hostileValue.map((v) => ['POST', '/runs', v] as const),
  hostileValue.map((v) => ['PATCH', '/runs/nope', `{"label": ${v}}`] as const),
);

describe('hostile values', () => {
  it('never answer a 5xx: too deep is 400 INVALID_INPUT, and every run and listing stays readable', async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest, async ([method, path, body]) => {
        const response = await roomy.call(method, path, { body, as: 'olivia' });
        const parsed = (await response.json()) as Record<string, any>;
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) expect(response.status).toBe(statusOf(parsed.error.code));
        for (const run of [parsed.run, ...(parsed.results ?? []).map((r: { run?: unknown }) => r.run)].filter(Boolean) as { runId: string }[]) {
          expect((await roomy.call('GET', `/runs/${run.runId}`)).status).toBe(200);
        }
      }),
      { numRuns: 80 },
    );
    const listed = await roomy.call('GET', '/runs?limit=1000', { as: 'adam' });
    expect(listed.status).toBe(200);
    const deep = await roomy.json('POST', '/runs', { body: `{"flowId": "demo/hold", "input": {"x": ${'['.repeat(100)}${']'.repeat(100)}}}` });
    expect(deep).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } });
  }, 120_000);
});

describe('random requests', () => {
  it('always answer with the documented shape and status, and the router keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.as !== null) headers.authorization = `Bearer as:${r.as}`;
        if (r.authorization !== undefined) headers.authorization = r.authorization;
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.lastEventId !== undefined) headers['last-event-id'] = r.lastEventId;
        let url: URL;
        try {
          url = new URL(`http://flowrun.test${r.path}`);
        } catch {
          return; // not a URL a client could send
        }
        const hasBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
        const response = await f.router.fetch(new Request(url, { method: r.method, headers, ...(hasBody ? { body: r.body } : {}) }));
        const type = response.headers.get('content-type') ?? '';
        if (r.method === 'HEAD') {
          expect([200, ...Object.values(ERROR_STATUS)]).toContain(response.status); // HEAD answers like GET, without a body
          return;
        }
        if (type.startsWith('text/event-stream') || type.startsWith('text/plain')) {
          expect(response.status).toBeLessThan(300);
          await response.body?.cancel();
          return;
        }
        const text = await response.text();
        const parsed = JSON.parse(text) as Record<string, any>;
        if (response.status >= 400) {
          expect(Object.keys(parsed)).toEqual(['error']);
          expect(typeof parsed.error.code).toBe('string');
          expect(typeof parsed.error.message).toBe('string');
          expect(typeof parsed.error.details).toBe('object');
          expect(response.status).toBe(statusOf(parsed.error.code));
          expect(parsed.error.code).not.toBe('INTERNAL');
        }
      }),
      { numRuns: 400 },
    );
    expect((await f.router.fetch(new Request('http://flowrun.test/health'))).status).toBe(200);
    expect((await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, wait: true } })).body.run.status).toBe('SUCCEEDED');
  }, 120_000);
});
