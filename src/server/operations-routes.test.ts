/**
 * What an operator relies on: `/health` (liveness) and `/ready` (the store answers), `/metrics`
 * for system administrators unless opened, and server errors logged without request data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import type { Logger } from '../core/engine/types.js';
import type { Store } from '../core/store.js';
import { createMemoryStores } from '../store/memory/memory-store.js';

let f: ServerFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { entries: { level: string; fields: Record<string, unknown>; msg: string | undefined }[] } {
  const entries: { level: string; fields: Record<string, unknown>; msg: string | undefined }[] = [];
  const at = (level: string) => (fields: object, msg?: string) => void entries.push({ level, fields: fields as Record<string, unknown>, msg });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('/health and /ready', () => {
  it('answers /ready 200 while the store answers and 503 STORE_ERROR once it does not, while /health stays 200', async () => {
    const stores: Store = createMemoryStores();
    let down = false;
    const ping = stores.ping.bind(stores);
    stores.ping = () => (down ? Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432')) : ping());
    const logger = recordingLogger();
    f = await createServerFixture({ stores, router: { logger } });
    expect(await f.json('GET', '/ready', { as: null })).toEqual({ status: 200, body: { ok: true } });
    down = true;
    const ready = await f.json('GET', '/ready', { as: null });
    expect(ready).toMatchObject({ status: 503, body: { error: { code: 'STORE_ERROR' } } });
    expect(JSON.stringify(ready.body)).not.toContain('10.0.0.5');
    expect(await f.json('GET', '/health', { as: null })).toEqual({ status: 200, body: { ok: true } });
    expect(logger.entries.some((e) => e.level === 'warn' && e.fields.path === '/ready')).toBe(true);
  });
});

describe('/metrics', () => {
  it('is for system administrators by default: 403 PERMISSION_DENIED for another user', async () => {
    f = await createServerFixture();
    await f.engine.principals.createUser({ id: 'admin' });
    expect((await f.json('GET', '/metrics', { as: 'olivia' })).body.error.code).toBe('PERMISSION_DENIED');
    const answer = await f.call('GET', '/metrics', { as: 'admin' });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('flowrun_http_responses_total');
  });

  it('counts members of a group named in `administrators` as administrators', async () => {
    f = await createServerFixture({ router: { administrators: ['ops'] } });
    expect((await f.call('GET', '/metrics', { as: 'gina' })).status).toBe(200); // gina is in ops
    expect((await f.call('GET', '/metrics', { as: 'otto' })).status).toBe(403);
  });

  it('serves every authenticated principal when open, and nobody when off', async () => {
    f = await createServerFixture({ router: { metrics: 'open' } });
    expect((await f.call('GET', '/metrics', { as: 'otto' })).status).toBe(200);
    expect((await f.call('GET', '/metrics', { as: null })).status).toBe(401);
    await f.close();
    f = await createServerFixture({ router: { metrics: 'off' } });
    expect((await f.json('GET', '/metrics', { as: 'admin' })).body.error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('server error logs', () => {
  it('logs a 500 with the method, path and error, but not the request body or the token', async () => {
    const stores: Store = createMemoryStores();
    const logger = recordingLogger();
    f = await createServerFixture({ stores, router: { logger } });
    const listRuns = stores.listRuns.bind(stores);
    stores.listRuns = () => Promise.reject(new TypeError('boom in the store'));
    const answer = await f.json('GET', '/runs?label=secret-label', { as: 'olivia' });
    stores.listRuns = listRuns;
    expect(answer.status).toBe(500);
    const [entry, ...more] = logger.entries.filter((e) => e.level === 'error');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ msg: 'request failed', fields: { method: 'GET', path: '/runs', status: 500, err: expect.objectContaining({ message: 'boom in the store' }) } });
    expect(JSON.stringify(entry)).not.toMatch(/secret-label|as:olivia/);
  });
});

describe('request log', () => {
  it('logs one line per request with its method, route pattern, status, duration and principal — no id, query or token', async () => {
    const logger = recordingLogger();
    f = await createServerFixture({ router: { logger } });
    const started = await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/echo', input: { n: 1 } } });
    const runId = started.body.run.runId as string;
    await f.json('GET', `/runs/${runId}?secret=s3cr3t`, { as: 'olivia' });
    await f.json('GET', '/no/such/path', { as: 'olivia' });
    await f.json('GET', '/runs', { as: null });
    const lines = logger.entries.filter((e) => e.msg === 'request').map((e) => e.fields);
    expect(lines).toEqual([
      { method: 'POST', route: '/runs', status: 201, durationMs: expect.any(Number), principal: 'olivia' },
      { method: 'GET', route: '/runs/:id', status: 400, durationMs: expect.any(Number), principal: 'olivia' },
      { method: 'GET', route: 'unmatched', status: 404, durationMs: expect.any(Number), principal: 'olivia' },
      { method: 'GET', route: 'unmatched', status: 401, durationMs: expect.any(Number), principal: null },
    ]);
    expect(JSON.stringify(logger.entries)).not.toMatch(new RegExp(`${runId}|s3cr3t|as:olivia`));
  });
});
