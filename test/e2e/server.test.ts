/**
 * The API on a real port with `serve()`: JSON routes and the event stream over real sockets, a
 * client that drops its connection and resumes with Last-Event-ID, a run started by runAction in
 * another process streaming through the route, 1,000 watchers of one run during a start load,
 * and a graceful close that ends open streams.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, createFilesystemStores, type Engine, type LiveRunEvent, type Store } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { serve, type RunningServer } from '../../src/server/index.js';
import { echoFlow, hold, holdFlow, readSse, testAuthenticate } from '../support/server-fixture.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';

const root = resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(stores: Store, options: { engine?: Engine } = {}): Promise<{ server: RunningServer; engine: Engine; get: (path: string, init?: RequestInit & { as?: string }) => Promise<Response>; post: (path: string, body: unknown, as?: string) => Promise<any> }> {
  // One principal starts hundreds of runs at once here (a load, not a rate-limit test): its start budget is lifted.
  const engine = options.engine ?? createEngine({ stores, modules: { hold }, pollIntervalMs: 100, runtimeConfig: { budgets: { maxStartsPerSecond: 10_000 } } });
  const server = await serve({ engine, authenticate: testAuthenticate, heartbeatMs: 1_000 });
  cleanups.push(async () => {
    await server.close();
    await engine.close();
    await stores.close();
  });
  const get = (path: string, init: RequestInit & { as?: string } = {}) => fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer as:${init.as ?? 'olivia'}`, ...(init.headers as Record<string, string>) } });
  const post = async (path: string, body: unknown, as = 'olivia') => (await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer as:${as}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  return { server, engine, get, post };
}

function sqliteStores(): Store {
  return createFilesystemStores({ rootDir: mkdtempSync(join(tmpdir(), 'flowrun-server-')), developmentOnly: true });
}

describe('serve()', () => {
  it('listens on 127.0.0.1 by default and answers JSON routes over a real socket', async () => {
    const { server, engine, get, post } = await startServer(sqliteStores());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await engine.deployFlow(echoFlow, { publish: true });
    const started = await post('/runs', { flowId: 'demo/echo', input: { n: 5 }, wait: true });
    expect(started.run).toMatchObject({ status: 'SUCCEEDED', output: { n: 5 } });
    expect(await (await get(`/runs/${started.run.runId}`)).json()).toEqual({ run: started.run });
    expect((await fetch(`${server.url}/runs`)).status).toBe(401);
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true });
  });

  it('resumes a stream with Last-Event-ID after the client drops the connection, and close() ends open streams', async () => {
    const { server, engine, get, post } = await startServer(sqliteStores());
    await engine.deployFlow(holdFlow, { publish: true });
    const { run } = await post('/runs', { flowId: 'demo/hold', label: 'watched' });
    const aborter = new AbortController();
    const first = await get(`/runs/${run.runId}/stream`, { signal: aborter.signal });
    const seen = await readSse(first.body!, (e) => e.id === String(run.lastSeq));
    aborter.abort(); // the client goes away mid-stream
    for (let i = 0; i < 100 && server.router.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.router.openStreams).toBe(0);
    await fetch(`${server.url}/runs/${run.runId}`, { method: 'PATCH', headers: { authorization: 'Bearer as:olivia', 'content-type': 'application/json' }, body: '{"label":"x"}' });
    const resumed = await get(`/runs/${run.runId}/stream`, { headers: { 'last-event-id': seen.at(-1)!.id! } });
    const reading = readSse(resumed.body!);
    await post(`/runs/${run.runId}/cancel`, {});
    const rest = await reading;
    const seqs = [...seen, ...rest].filter((e) => e.event !== 'comment').map((e) => Number(e.id));
    const all = (await engine.getRunEvents(run.runId)).map((e) => e.seq);
    expect(seqs).toEqual(all);
    expect(JSON.parse(rest.at(-1)!.data)).toMatchObject({ kind: 'status', status: 'CANCELED' });

    // Graceful close: an open stream ends instead of holding the server up.
    const other = await post('/runs', { flowId: 'demo/hold' });
    const open = await get(`/runs/${other.run.runId}/stream`);
    const ended = readSse(open.body!);
    await server.close();
    await ended;
    expect(server.router.openStreams).toBe(0);
  });

  it('holds 1,000 watchers of one run during a start-run load, and lets go of them all', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const { server, engine, get, post } = await startServer(sqliteStores());
    await engine.deployFlow(holdFlow, { publish: true });
    await engine.deployFlow(echoFlow, { publish: true });
    const { run } = await post('/runs', { flowId: 'demo/hold' });
    gc();
    const baseline = process.memoryUsage().heapUsed;
    const watchers = await Promise.all(Array.from({ length: 1000 }, () => get(`/runs/${run.runId}/stream`)));
    expect(watchers.every((w) => w.status === 200)).toBe(true);
    const reading = watchers.map((w) => readSse(w.body!));
    for (let i = 0; i < 200 && server.router.openStreams < 1000; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.router.openStreams).toBe(1000);
    const load = await Promise.all(Array.from({ length: 200 }, (_, n) => post('/runs', { flowId: 'demo/echo', input: { n } })));
    expect(load.every((r) => r.run?.flowId === 'demo/echo')).toBe(true);
    await post(`/runs/${run.runId}/cancel`, {});
    const streams = await Promise.all(reading);
    expect(streams.every((s) => JSON.parse(s.filter((e) => e.event !== 'comment').at(-1)!.data).status === 'CANCELED')).toBe(true);
    for (let i = 0; i < 100 && server.router.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.router.openStreams).toBe(0);
    await engine.whenIdle();
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    // 1,000 streams hold far more than this while open; what is left after they end is noise.
    expect(process.memoryUsage().heapUsed - baseline).toBeLessThan(24 * 1024 * 1024);
  }, 120_000);
});

async function streamFromAnotherProcess(storeSpec: string): Promise<void> {
  const requestId = crypto.randomUUID();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/start-run-process.ts', requestId, '60'], { cwd: root, env: { ...process.env, FLOWRUN_STORE: storeSpec }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  cleanups.push(async () => void child.kill());
  const stores = openStoreSpec(storeSpec);
  const engine = createEngine({ stores, poll: false, pollIntervalMs: 200 });
  const { get } = await startServer(stores, { engine });
  // The other process records the run when it starts; its owner (`job`) may watch it.
  let response: Response | null = null;
  for (let i = 0; i < 400; i++) {
    response = await get(`/runs/${requestId}/stream`, { as: 'job' });
    if (response.status === 200) break;
    await response.body?.cancel();
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(response!.status).toBe(200);
  const lineSeenWhileRunning: boolean[] = [];
  const events = await readSse(response!.body!, (e) => {
    if (e.event === 'item' && e.data.includes('"type":"line"') && e.data.includes('"added"')) lineSeenWhileRunning.push(child.exitCode === null);
    return false;
  });
  const live = events.filter((e) => e.event !== 'comment').map((e) => JSON.parse(e.data) as LiveRunEvent);
  expect(live.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
  const persisted = live.filter((e) => !e.transient);
  expect(persisted.map((e) => e.seq)).toEqual(persisted.map((_, i) => i + 1));
  expect(lineSeenWhileRunning.filter(Boolean).length).toBeGreaterThanOrEqual(3);
  expect(await exited).toBe(0);
  // Another principal sees no such run.
  expect((await get(`/runs/${requestId}/stream`, { as: 'otto' })).status).toBe(404);
}

describe('a run started by runAction in another process', () => {
  it('streams through GET /runs/{id}/stream over one SQLite file while it runs', async () => {
    await streamFromAnotherProcess(`sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-server-watch-')), 'flowrun.db')}`);
  }, 60_000);

  it.skipIf(!pgUrl)(`streams through GET /runs/{id}/stream over PostgreSQL while it runs${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_server_watch');
    cleanups.push(drop);
    await streamFromAnotherProcess(spec);
  }, 60_000);
});
