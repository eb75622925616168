/**
 * Hostile users and hostile flows against a real `flowrun serve` process, over HTTP only, as a
 * stranger with a token would try it (issue 12): what they send is refused with a clear code and
 * changes nothing, what they deploy fails its own runs and never the server, and nothing they do
 * reaches another user's runs. SQLite always; the event and budget cases on PostgreSQL too.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSqliteSpec, issueToken, startServeProcess, type ServeProcess } from '../support/serve-process.js';

const ECHO = { id: 'alice/echo', actions: { main: { params: { v: { type: 'any' } }, startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '{v: input.v}' } } } } };
const PRIVATE = { id: 'alice/private', roles: { viewers: ['alice'], starters: ['alice'] }, actions: { main: { startAt: 'a', steps: { a: { stepType: 'SUCCEED' } } } } };

/** JSON text of `{"a": … 1 …}` nested `levels` deep (built as text: JSON.stringify recurses). */
function nestedJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

describe('flowrun serve under hostile users (SQLite)', () => {
  let serve: ServeProcess;
  let alice: string;
  let mallory: string;

  beforeAll(async () => {
    const store = freshSqliteSpec();
    serve = await startServeProcess({ store, umask: '000', timeoutMs: 60_000 });
    [alice, mallory] = [await issueToken(store, 'alice'), await issueToken(store, 'mallory')];
    for (const flow of [ECHO, PRIVATE]) expect((await serve.json('POST', '/flows', { token: alice, body: { definition: flow, publish: true } })).status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await serve?.stop();
  });

  it('refuses an input nested past the limit with 400 naming the path, and records no run', async () => {
    const deep = await serve.json('POST', '/runs', { token: mallory, body: `{"flowId":"alice/echo","input":{"v":${nestedJson(4_150)}}}` });
    expect(deep.status).toBe(400);
    expect(deep.body.error.code).toBe('INVALID_INPUT');
    expect(JSON.stringify(deep.body.error.details)).toContain('input.v');
    const runs = await serve.json('GET', '/runs?flowId=alice/echo', { token: mallory });
    expect(runs.body.runs).toEqual([]);
    expect((await serve.request('GET', '/health', { token: null })).status).toBe(200);
  });

  it('answers a start of a flow the caller may not see exactly like a missing flow', async () => {
    const hidden = await serve.json('POST', '/runs', { token: mallory, body: { flowId: 'alice/private' } });
    const missing = await serve.json('POST', '/runs', { token: mallory, body: { flowId: 'alice/nothing' } });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.body.error.code).toBe(missing.body.error.code);
    expect(hidden.body.error.message.replace('alice/private', 'X')).toBe(missing.body.error.message.replace('alice/nothing', 'X'));
    expect((await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/private', wait: true } })).body.run.status).toBe('SUCCEEDED');
  });

  it('keeps /metrics for administrators and answers /ready without a token', async () => {
    expect((await serve.request('GET', '/metrics', { token: mallory })).status).toBe(403);
    expect((await serve.request('GET', '/metrics')).status).toBe(200);
    expect((await serve.request('GET', '/ready', { token: null })).status).toBe(200);
  });

  it('keeps the store folder to its owner (0700) and its files 0600 under a umask of 000', () => {
    const db = serve.store.slice('sqlite:'.length);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    expect(statSync(`${db}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(db)).mode & 0o077).toBe(0);
  });
});

describe('flowrun serve restarts (SQLite)', () => {
  it('mints an admin token only on a store that has none, and a restart says how to get one', async () => {
    const store = freshSqliteSpec();
    const first = await startServeProcess({ store, timeoutMs: 60_000 });
    await first.stop();
    expect(first.adminToken).toMatch(/^frt_/);
    const second = await startServeProcess({ store, timeoutMs: 60_000 });
    await second.stop();
    expect(second.adminToken).toBeNull();
    expect(second.output()).toContain('flowrun tokens create --user admin');
    const stillValid = await startServeProcess({ store, args: ['--no-admin-token'], timeoutMs: 60_000 });
    try {
      expect((await stillValid.request('GET', '/runs', { token: first.adminToken })).status).toBe(200);
    } finally {
      await stillValid.stop();
    }
  }, 120_000);
});
