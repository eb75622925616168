/**
 * Issue 13 item 5: what publishing an event costs while many other runs wait. Each measured
 * publish resumes exactly one run (started just before through the engine, waiting at an event
 * WAIT on `go` for its own key); around it wait 10, then 100,000 other runs, half on a timer an
 * hour away, half on other event names. Reports publish p50/p99 per store and the ratio
 * 100,000 ÷ 10. The goal: p99 within 2×.
 *
 * The other waiting runs are written straight through the store, the way the engine writes a run
 * that reaches a WAIT: `createRun` (ACTIVE, leased) then `recordTransition` to INACTIVE with the
 * state a real engine run had at its WAIT (copied from one run started through the engine, its
 * suspension re-aimed), its `readyAt` and its lease given back. Starting 100,000 runs through the
 * engine would store the same rows, only slower.
 *
 *   node --import tsx bench/event-waiters.ts [--quick] [--stores sqlite,pg] [--others 10,100000] [--publishes 200] [--budget-s 60]
 *
 * PostgreSQL: FLOWRUN_BENCH_PG_URL, else FLOWRUN_TEST_PG_URL, else the local test role; each
 * measurement uses a fresh schema, dropped afterwards. Prints a markdown table, then one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createEngine, createPostgresStores, createSqliteStore, uuidIds, type FlowDefinition, type Store } from '../src/index.js';
import type { NewRun, RunRecord } from '../src/core/run.js';
import { latencySummary, markdownTable, readOptions } from './measure.js';
import { adminUrl } from './pg-admin.js';

const HOUR_MS = 3_600_000;

const flows: FlowDefinition[] = [
  {
    id: 'bench/awaits-go',
    actions: {
      main: {
        params: { key: { type: 'text', required: true } },
        startAt: 'wait',
        steps: { wait: { stepType: 'WAIT', event: 'go', match: { key: 'input.key' }, defaultNextStepInstanceId: 'done' }, done: { stepType: 'SUCCEED' } },
      },
    },
  },
  { id: 'bench/awaits-other', actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'WAIT', event: 'other.0' } } } } },
  { id: 'bench/awaits-timer', actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'WAIT', durationMs: HOUR_MS } } } } },
];

/** One measurement: a store with `others` runs waiting besides the one each publish resumes. */
export interface EventWaitersRow {
  store: 'sqlite' | 'pg';
  others: number;
  publishes: number;
  setupSeconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface OpenedStore {
  store: Store;
  dispose: () => Promise<void>;
}

async function openStore(kind: 'sqlite' | 'pg'): Promise<OpenedStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-waiters-'));
    const store = createSqliteStore({ path: join(dir, 'flowrun.db') });
    return { store, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `bench_waiters_${process.pid}_${Date.now()}`;
  const store = createPostgresStores({ connectionString: adminUrl(), schema });
  return {
    store,
    dispose: async () => {
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/** The run as `createRun` takes it, back at its start: ACTIVE, no suspension. */
function newRunLike(template: RunRecord, runId: string, at: number): NewRun {
  const { version: _v, lastSeq: _l, leaseOwner: _o, leaseExpiresAt: _x, fencingToken: _f, updatedAt: _u, endTime: _e, output: _out, runError: _r, ...fixed } = template;
  const { suspension: _s, ...state } = template.state;
  return { ...fixed, runId, rootRunId: runId, treeId: runId, startTime: at, status: 'ACTIVE', readyAt: at, state };
}

/** Writes `count` waiting runs like `template` (half on timers, half on other event names), `concurrency` at a time. */
async function fillWaiting(store: Store, templates: { timer: RunRecord; other: RunRecord }, count: number): Promise<void> {
  const owner = 'bench-filler';
  let next = 0;
  const one = async (i: number): Promise<void> => {
    const onTimer = i % 2 === 0;
    const template = onTimer ? templates.timer : templates.other;
    const at = Date.now();
    const created = await store.createRun({ run: newRunLike(template, uuidIds.newRunId(), at), lease: { owner, expiresAt: at + HOUR_MS } });
    if (!created.lease) throw new Error('createRun gave no lease');
    const s = template.state.suspension!;
    const suspension = onTimer ? { ...s, since: at, until: at + HOUR_MS } : { ...s, since: at, event: `other.${i % 1000}` };
    await store.recordTransition({
      runId: created.run.runId,
      lease: { owner, fencingToken: created.lease.fencingToken },
      expectedVersion: created.run.version,
      at,
      patch: { status: 'INACTIVE', state: { ...created.run.state, suspension }, readyAt: onTimer ? at + HOUR_MS : null },
      events: [{ kind: 'status', status: 'INACTIVE' }],
      releaseLease: true,
    });
  };
  const loop = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await one(i);
  };
  await Promise.all(Array.from({ length: 64 }, loop));
}

async function measure(kind: 'sqlite' | 'pg', others: number, publishes: number, budgetMs: number): Promise<EventWaitersRow> {
  const { store, dispose } = await openStore(kind);
  const engine = createEngine({ stores: store });
  try {
    for (const flow of flows) await engine.deployFlow(flow, { publish: true });
    const setupStarted = performance.now();
    const timer = await engine.startRun({ flow: 'bench/awaits-timer' });
    const other = await engine.startRun({ flow: 'bench/awaits-other' });
    await engine.whenIdle();
    const templates = { timer: (await store.getRun(timer.requestId))!, other: (await store.getRun(other.requestId))! };
    if (templates.timer.status !== 'INACTIVE' || templates.other.status !== 'INACTIVE') throw new Error('the template runs do not wait');
    await fillWaiting(store, templates, others - 2);
    const setupSeconds = Math.round((performance.now() - setupStarted) / 100) / 10;
    const warmup = 5;
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < warmup + publishes; i++) {
      if (i >= warmup + 20 && performance.now() - started > budgetMs) break;
      const key = `k${i}`;
      const run = await engine.startRun({ flow: 'bench/awaits-go', input: { key } });
      await engine.whenIdle();
      const t0 = performance.now();
      const published = await engine.publishEvent('go', { key });
      const t1 = performance.now();
      if (published.resumedRunIds.length !== 1 || published.resumedRunIds[0] !== run.requestId) throw new Error(`publish ${i} resumed ${JSON.stringify(published.resumedRunIds)}`);
      await engine.whenIdle();
      if (i >= warmup) latencies.push(t1 - t0);
    }
    const s = latencySummary(Float64Array.from(latencies));
    return { store: kind, others, publishes: latencies.length, setupSeconds, p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max };
  } finally {
    await engine.close();
    await store.close();
    await dispose();
  }
}

/** Measures every store × waiting-run count; a markdown table with the 100,000 ÷ 10 ratio per store. */
export async function benchEventWaiters(options: { stores: ('sqlite' | 'pg')[]; others: number[]; publishes: number; budgetMs: number }): Promise<{ rows: EventWaitersRow[]; table: string }> {
  const rows: EventWaitersRow[] = [];
  for (const kind of options.stores) for (const others of options.others) rows.push(await measure(kind, others, options.publishes, options.budgetMs));
  const least = Math.min(...options.others);
  const body = rows.map((row) => {
    const base = rows.find((r) => r.store === row.store && r.others === least)!;
    const ratio = (x: number, y: number): string => (x / y).toFixed(2);
    return [row.store, row.others.toLocaleString('en'), String(row.publishes), String(row.setupSeconds), String(row.p50Ms), String(row.p99Ms), String(row.maxMs), `${ratio(row.p50Ms, base.p50Ms)} / ${ratio(row.p99Ms, base.p99Ms)}`];
  });
  const table = markdownTable(['store', 'other runs waiting', 'publishes', 'setup s', 'publish p50 ms', 'publish p99 ms', 'max ms', `p50 / p99 ÷ ${least.toLocaleString('en')} waiting`], body);
  return { rows, table };
}

if (process.argv[1]?.endsWith('event-waiters.ts')) {
  const opt = readOptions(process.argv.slice(2));
  const quick = opt.has('quick');
  const result = await benchEventWaiters({
    stores: opt.get('stores', 'sqlite,pg').split(',') as ('sqlite' | 'pg')[],
    others: opt.get('others', quick ? '10,20000' : '10,100000').split(',').map(Number),
    publishes: opt.num('publishes', quick ? 50 : 200),
    budgetMs: opt.num('budget-s', 60) * 1000,
  });
  console.log(result.table);
  console.log(JSON.stringify(result.rows));
}
