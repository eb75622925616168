/**
 * The process under load in bench/http.ts. `flowrun` serves the flowrun API over a SQLite store
 * (one-step flow, API-token authentication, every request acting for its principal); `floor`
 * serves the same JSON from a bare Hono app on @hono/node-server with no engine, no store and
 * no authentication: the request rate an HTTP stack of the same kind gives before any work.
 *
 *   node --import tsx bench/http-server.ts flowrun [FILE]   → prints {url, token, flowId, runId, run}
 *     (FILE: a V8 CPU profile of the server from its first request to SIGTERM, written then;
 *     on SIGUSR2 the part so far goes to FILE.post.cpuprofile and FILE holds what follows;
 *     `node bench/profile-summary.mjs FILE` sums it)
 *   node --import tsx bench/http-server.ts floor RUN_JSON   → prints {url}
 *   node --import tsx bench/http-server.ts least RUN_JSON [FILE]   → prints {url} (FILE: its CPU profile, as flowrun's)
 *
 * `least` is the least a durable, exact server must do, with no engine: a start writes the
 * request's run twice (created, then ended — two group commits on a SQLite file, fsync on
 * commit like the store's default), a read checks once that the file did not change
 * (`PRAGMA data_version`, what any exact read of a shared SQLite file costs at the least) and
 * answers the prepared JSON. No authentication, validation, events or flow at all: what it
 * reaches is an upper bound for any real implementation on this machine.
 *   node --import tsx bench/http-server.ts least-rows   → prints {url}: `least`'s POST /runs writing flowrun's rows instead
 *     (one run row with every index of flowrun's schema and its five events, once, as the store writes a
 *     run that ends within its start): how much of the gap to `least` the storage format alone takes.
 *   node --import tsx bench/http-server.ts inproc SECONDS   → prints {rps, cpuUsPerStart}: engine.startRun from 64 callers, no HTTP
 */
import { serve as listen } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';

import type BetterSqlite3 from 'better-sqlite3';
import type { FlowDefinition } from '../src/index.js';

const [mode, runJson] = process.argv.slice(2);

/** The one-step flow every start of the bench runs (flowrun's server, in process, and the run least-rows copies). */
const BENCH_FLOW: FlowDefinition = {
  id: 'bench/start',
  actions: { main: { params: { n: { type: 'number' } }, startAt: 'done', steps: { done: { stepType: 'COMPUTE', expression: '{n: input.n}' } } } },
};
const say = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

if (mode === 'flowrun' || mode === 'inproc') {
  const { createEngine, createFilesystemStores, hashApiToken, newApiToken, serve } = await loadFlowrun();
  const stores = createFilesystemStores({ rootDir: mkdtempSync(join(tmpdir(), 'flowrun-bench-http-')), developmentOnly: true });
  // The request rate is measured from one principal: its start budget (maxStartsPerSecond, 100 by
  // default) is lifted so the figure is the server's, not the limiter's.
  const engine = createEngine({ stores, runtimeConfig: { budgets: { maxStartsPerSecond: 1e9 } } });
  await engine.principals.createUser({ id: 'bench' });
  const token = newApiToken();
  await stores.principals.createToken({ tokenId: 'bench', principalId: 'bench', tokenHash: await hashApiToken(token), at: Date.now() });
  const flowId = BENCH_FLOW.id;
  await engine.deployFlow(BENCH_FLOW, { deployedBy: 'bench', publish: true });
  if (mode === 'inproc') {
    // The reference without HTTP: the same durable start from 64 in-process callers, for `seconds`.
    const seconds = Number(runJson ?? 10);
    const ends = performance.now() + 1000 + seconds * 1000;
    let counting = performance.now() + 1000;
    let started = 0;
    let cpuFrom: NodeJS.CpuUsage | null = null;
    const loop = async (): Promise<void> => {
      while (performance.now() < ends) {
        await engine.startRun({ flow: flowId, input: { n: 1 }, userId: 'bench' });
        if (performance.now() >= counting) {
          cpuFrom ??= process.cpuUsage();
          started++;
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, loop));
    const cpu = process.cpuUsage(cpuFrom ?? undefined);
    counting = seconds;
    // CPU of the whole process (every thread: the fsync's and the checkpointer's too) per counted start.
    say({ rps: started / counting, cpuUsPerStart: Math.round(((cpu.user + cpu.system) / started) * 10) / 10 });
    await engine.close();
    await stores.close();
    process.exit(0);
  }
  const profiler = await startProfiler(runJson);
  const server = await serve({ engine, port: 0 });
  const started = await fetch(`${server.url}/runs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ flowId, input: { n: 1 }, wait: true }) });
  const { run } = (await started.json()) as { run: { runId: string } };
  say({ url: server.url, token, flowId, runId: run.runId, run });
  // FLOWRUN_BENCH_COMMIT_STATS=1: the group commit's counters go to stderr on exit (commits and fsyncs per request).
  if (process.env['FLOWRUN_BENCH_COMMIT_STATS']) process.on('SIGTERM', () => process.stderr.write(`commit stats ${JSON.stringify(stores.stats)}\n`));
  process.on('SIGTERM', () => void profiler.write().then(() => server.close()).then(() => engine.close()).then(() => stores.close()).then(() => process.exit(0)));
} else if (mode === 'floor') {
  const body = JSON.stringify({ run: JSON.parse(runJson!) });
  const app = new Hono();
  app.post('/runs', async (c) => {
    await c.req.json();
    return c.body(body, 201, { 'content-type': 'application/json; charset=utf-8' });
  });
  const server = listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => say({ url: `http://127.0.0.1:${info.port}` }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'least') {
  const profiler = await startProfiler(process.argv[4]);
  const run = JSON.parse(runJson!) as Record<string, unknown>;
  const body = JSON.stringify({ run });
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'flowrun-bench-least-')), 'least.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE runs (run_id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  const upsert = db.prepare('INSERT INTO runs (run_id, body) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET body = excluded.body');
  const dataVersion = db.prepare('PRAGMA data_version');
  const upserted = groupCommit<{ runId: string; body: string }>(db, (w) => upsert.run(w.runId, w.body));
  const write = (runId: string, record: unknown): Promise<void> => upserted({ runId, body: JSON.stringify(record) });
  let started = 0;
  const app = new Hono();
  app.post('/runs', async (c) => {
    const request = (await c.req.json()) as { input?: unknown };
    const created = { ...run, runId: `least-${++started}`, status: 'ACTIVE', input: request.input, output: null };
    await write(created.runId, created);
    void write(created.runId, { ...created, status: 'SUCCEEDED', output: request.input });
    return c.json({ run: created }, 201);
  });
  app.get('/runs/:id', (c) => {
    dataVersion.get();
    return c.body(body, 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  const server = listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => say({ url: `http://127.0.0.1:${info.port}` }));
  process.on('SIGTERM', () => void profiler.write().then(() => server.close(() => process.exit(0))));
} else if (mode === 'least-rows') {
  // The least server writing what flowrun's schema holds for one of these runs: one run row (its
  // table, primary key and every secondary index the migrations create) and its five events, in
  // one group commit with fsync, as the store writes a run that ends within its start. The rows are
  // copies of one run flowrun itself wrote into this file, with a new id and times: no engine,
  // authentication, validation or row building, only the format's own cost.
  const { createEngine, createFilesystemStores } = await loadFlowrun();
  const rootDir = mkdtempSync(join(tmpdir(), 'flowrun-bench-least-rows-'));
  const stores = createFilesystemStores({ rootDir, developmentOnly: true });
  const engine = createEngine({ stores });
  await engine.deployFlow(BENCH_FLOW, { publish: true });
  const { run: template } = await engine.startRun({ flow: BENCH_FLOW.id, input: { n: 1 } });
  await engine.close();
  await stores.close();
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(stores.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('temp_store = MEMORY');
  const columns = (db.prepare('PRAGMA table_info(flowrun_runs)').all() as { name: string }[]).map((c) => c.name);
  const row = db.prepare(`SELECT ${columns.join(', ')} FROM flowrun_runs WHERE run_id = ?`).raw().get(template.runId) as unknown[];
  const events = db.prepare('SELECT seq, kind, time, body FROM flowrun_run_events WHERE run_id = ? ORDER BY seq').raw().all(template.runId) as unknown[][];
  const [idAt, rootAt] = [columns.indexOf('run_id'), columns.indexOf('root_run_id')];
  const timesAt = ['start_time', 'end_time', 'updated_at'].map((name) => columns.indexOf(name));
  const insertRun = db.prepare(`INSERT INTO flowrun_runs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
  const insertEvents = db.prepare(`INSERT INTO flowrun_run_events (run_id, seq, kind, time, body) VALUES ${events.map(() => '(?, ?, ?, ?, ?)').join(', ')}`);
  const written = groupCommit<{ runId: string; time: number }>(db, (w) => {
    const values = row.slice();
    values[idAt] = w.runId;
    values[rootAt] = w.runId;
    for (const at of timesAt) values[at] = w.time;
    insertRun.run(values);
    insertEvents.run(events.flatMap(([seq, kind, , eventBody]) => [w.runId, seq, kind, w.time, eventBody]));
  });
  let started = 0;
  const app = new Hono();
  app.post('/runs', async (c) => {
    const request = (await c.req.json()) as { input?: unknown };
    // Ids as long as flowrun's and ordered like them (UUID v7): each insert lands at the end of the primary key.
    const runId = String(++started).padStart(36, '0');
    await written({ runId, time: Date.now() });
    return c.json({ run: { ...template, runId, input: request.input } }, 201);
  });
  const server = listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => say({ url: `http://127.0.0.1:${info.port}` }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  throw new Error('usage: http-server.ts flowrun | floor RUN_JSON | least RUN_JSON | least-rows | inproc SECONDS');
}

/**
 * Group commit, as the store does it: every write of one event-loop turn shares a transaction (its
 * COMMIT fsyncs with synchronous FULL); each write's promise settles once that transaction committed.
 */
function groupCommit<W>(db: BetterSqlite3.Database, apply: (write: W) => void): (write: W) => Promise<void> {
  let queued: { write: W; done: () => void }[] = [];
  const commit = (): void => {
    const batch = queued;
    queued = [];
    db.transaction(() => {
      for (const q of batch) apply(q.write);
    })();
    for (const q of batch) q.done();
  };
  return (write) =>
    new Promise((done) => {
      if (queued.length === 0) setImmediate(commit);
      queued.push({ write, done });
    });
}

/**
 * flowrun as a user runs it: the built package (`dist/`, what `npx flowrun serve` and an import of
 * `flowrun` load, compiled by tsc), not the sources through tsx's loader, which wraps every function
 * a hot path creates in a naming helper (~10 % of a start's CPU here). It must be built from the
 * sources as they are (`npm run build`, or `npx tsc -p tsconfig.build.json`): an older build fails
 * the bench rather than measure other code. `FLOWRUN_BENCH_FROM=src` measures the sources instead.
 */
async function loadFlowrun(): Promise<typeof import('../src/index.js') & typeof import('../src/server/index.js')> {
  if (process.env['FLOWRUN_BENCH_FROM'] === 'src') return { ...(await import('../src/index.js')), ...(await import('../src/server/index.js')) };
  const root = fileURLToPath(new URL('..', import.meta.url));
  // What tsconfig.build.json compiles: tests and conformance suites are not built.
  const isBuilt = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.conformance.ts');
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((entry) => (entry.isDirectory() ? newest(join(dir, entry.name)) : isBuilt(entry.name) ? statSync(join(dir, entry.name)).mtimeMs : 0)));
  let built: number;
  try {
    built = statSync(join(root, 'dist/server/index.js')).mtimeMs;
  } catch {
    throw new Error(`bench/http-server.ts measures the built package: ${root}dist/ is missing (npm run build)`);
  }
  if (newest(join(root, 'src')) > built) throw new Error(`bench/http-server.ts measures the built package: ${root}dist/ is older than src/ (npm run build, or FLOWRUN_BENCH_FROM=src)`);
  const dist = '../dist/';
  return { ...(await import(`${dist}index.js`)), ...(await import(`${dist}server/index.js`)) } as typeof import('../src/index.js') & typeof import('../src/server/index.js');
}

/**
 * A V8 CPU profile of this process from now to `write()` (SIGTERM), when `file` is given: on
 * SIGUSR2 the part so far goes to FILE.post.cpuprofile and a new one starts, so each request kind
 * (bench/http.ts sends it between the POST and the GET load) has its own.
 */
async function startProfiler(file: string | undefined): Promise<{ write(): Promise<void> }> {
  if (!file) return { write: async () => {} };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  process.on('SIGUSR2', () => {
    void session.post('Profiler.stop').then(async ({ profile }) => {
      writeFileSync(file.replace(/(\.cpuprofile)?$/, '.post.cpuprofile'), JSON.stringify(profile));
      await session.post('Profiler.start');
    });
  });
  return {
    write: async () => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}
