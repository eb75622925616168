/**
 * listRuns over many runs, in one fresh process on one fresh store; prints ONE JSON line.
 *
 *   node --import tsx bench/list-runs-runner.ts --store sqlite --runs 1000000
 *   node --import tsx bench/list-runs-runner.ts --store pg --runs 1000000
 *
 * Loading (`--load store|sql`): `store` writes the runs through the store's own `createRun` (no
 * events, no engine), `--in-flight` calls at a time, so the SQLite store's group commit packs
 * them into shared transactions (the default on SQLite). `sql` (the default on PostgreSQL, where
 * every createRun is its own commit and runs at ~2,600/s here) inserts 1,000 rows per statement
 * from bench-only code, with the row encoding of the store itself (`newRunValues` of
 * src/store/postgres/run-rows.ts), after the store created its schema. They spread over 10 flows and 4
 * statuses (60 % SUCCEEDED, 20 % FAILED, 10 % ACTIVE, 10 % CANCELED), start times 1 ms apart
 * with every other pair sharing a millisecond (so the run_id tie-break is exercised).
 *
 * Measuring: `store.listRuns` pages of 50 (default order: startTime desc), following the
 * marker for 200 pages, for 3 flowId + status filters and with no filter; each page timed.
 * On PostgreSQL the totals are measured again after VACUUM (ANALYZE) (`totals_after_vacuum`).
 * On PostgreSQL it runs once as loaded and once after ANALYZE (what autovacuum does on its own
 * shortly after a bulk load).
 *
 * Totals (issue 14, `--totals` on by default): `engine.listRuns(filter, {withTotal: true})` — the
 * page of 50 and its `total` — timed 30 times per filter (flowId; status; flowId + status) for a
 * system administrator (the store's bounded count), and 10 times with a flowId filter for a
 * principal that is not one (it owns every run here: the first 10,000 matching runs are checked,
 * the rest estimated).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, createPostgresStores, createSqliteStore, uuidIds, type Store } from '../src/index.js';
import type { NewRun, RunStatus } from '../src/core/run.js';
import { latencySummary, r3, readOptions } from './measure.js';
import { PgAdmin } from './pg-admin.js';
import { RUN_COLUMNS, newRunPlaceholders, newRunValues } from '../src/store/postgres/run-rows.js';
import pg from 'pg';

const opt = readOptions(process.argv.slice(2));
const storeKind = opt.get('store', 'sqlite');
const RUNS = opt.num('runs', 1_000_000);
const IN_FLIGHT = opt.num('in-flight', 4096);
const PAGES = opt.num('pages', 200);
const LOAD = opt.get('load', storeKind === 'pg' ? 'sql' : 'store');

let admin: PgAdmin | null = null;
let dir: string | null = null;
let store: Store;
if (storeKind === 'pg') {
  admin = await PgAdmin.freshDatabase('flowrun_bench_list');
  store = createPostgresStores({ connectionString: admin.url, schema: 'flowrun' });
} else {
  dir = join('bench', 'out', `list-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  store = createSqliteStore({ path: join(dir, 'flowrun.db') });
}

const STATUSES: RunStatus[] = ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'FAILED', 'ACTIVE', 'CANCELED'];
const base = Date.UTC(2026, 0, 1);

function newRun(i: number): NewRun {
  const runId = uuidIds.newRunId();
  const flowId = `list/flow-${i % 10}`;
  const status = STATUSES[Math.floor(i / 10) % STATUSES.length]!;
  const startTime = base + Math.floor(i / 2);
  return {
    runId,
    flowId,
    flowVersion: 1,
    actionName: 'main',
    status,
    label: null,
    tags: [],
    input: { i },
    createdBy: 'bench',
    runOwner: 'bench',
    runAs: null,
    triggeredBy: null,
    source: 'bench',
    sessionId: null,
    parentRunId: null,
    rootRunId: runId,
    treeId: runId,
    detached: false,
    depth: 0,
    monitors: { users: [], groups: [] },
    managers: { users: [], groups: [] },
    startTime,
    timeoutMs: null,
    deadline: null,
    readyAt: status === 'ACTIVE' ? startTime : null,
    state: { frames: [{ graph: 'action:main', at: 's1', steps: {}, last: null, depth: 0, attempt: 1, item: { i } }], vars: {}, outputs: {}, stepSeq: 0, stepLogs: true, historyCount: 0 },
  };
}

// ---- load ----------------------------------------------------------------------------------
const loadStart = performance.now();
let next = 0;
if (LOAD === 'store') {
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < RUNS) await store.createRun({ run: newRun(next++) });
    }),
  );
} else {
  if (!admin) throw new Error('--load sql is for PostgreSQL');
  await store.getRun('none'); // the store connects and creates its schema
  const ROWS = 1000;
  const width = newRunValues(newRun(0), { updatedAt: 0, lastSeq: 0, lease: null }).values.length;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      const client = new pg.Client({ connectionString: admin!.url });
      await client.connect();
      await client.query('SET search_path TO flowrun');
      while (next < RUNS) {
        const from = next;
        next = Math.min(RUNS, next + ROWS);
        const values: unknown[] = [];
        const tuples: string[] = [];
        // Each run's state slots (its frame's item and `last`), as the store writes them with the row.
        const slots: { run_id: string; key: string; body: unknown }[] = [];
        for (let i = from; i < next; i++) {
          const run = newRun(i);
          tuples.push(newRunPlaceholders(values.length + 1));
          const row = newRunValues(run, { updatedAt: run.startTime, lastSeq: 0, lease: null });
          values.push(...row.values);
          for (const slot of row.slots?.put ?? []) slots.push({ run_id: run.runId, key: slot.key, body: slot.value });
        }
        if (values.length !== tuples.length * width) throw new Error('row width changed');
        await client.query(`INSERT INTO runs (${RUN_COLUMNS}) VALUES ${tuples.join(', ')}`, values);
        await client.query(
          `INSERT INTO run_state_slots (run_id, key, ord, body) SELECT s->>'run_id', s->>'key', o, s->'body' FROM json_array_elements($1::json) WITH ORDINALITY AS x(s, o)`,
          [JSON.stringify(slots)],
        );
      }
      await client.end();
    }),
  );
}
const loadS = (performance.now() - loadStart) / 1000;

// ---- measure --------------------------------------------------------------------------------
const FILTERS: { flowId: string; status: RunStatus }[] = [
  { flowId: 'list/flow-3', status: 'FAILED' },
  { flowId: 'list/flow-7', status: 'SUCCEEDED' },
  { flowId: 'list/flow-0', status: 'ACTIVE' },
];

async function pages(filter: { flowId?: string; status?: RunStatus }): Promise<{ latencies: number[]; rows: number }> {
  const latencies: number[] = [];
  let marker: string | undefined;
  let rows = 0;
  let previous: { startTime: number; runId: string } | null = null;
  for (let p = 0; p < PAGES; p++) {
    const t0 = performance.now();
    const page = await store.listRuns({ ...filter, limit: 50, ...(marker ? { marker } : {}) });
    latencies.push(performance.now() - t0);
    for (const run of page.runs) {
      if (filter.flowId && run.flowId !== filter.flowId) throw new Error('filter broken');
      if (filter.status && run.status !== filter.status) throw new Error('filter broken');
      // startTime desc, run_id desc within a millisecond: every page strictly after the last.
      if (previous && (run.startTime > previous.startTime || (run.startTime === previous.startTime && run.runId >= previous.runId))) throw new Error('order broken');
      previous = { startTime: run.startTime, runId: run.runId };
    }
    rows += page.runs.length;
    if (!page.marker) break;
    marker = page.marker;
  }
  return { latencies, rows };
}

async function measure(): Promise<Record<string, unknown>> {
  await pages(FILTERS[0]!); // warm the cache: a page read cold from disk is another measurement
  const filtered: number[] = [];
  let rows = 0;
  for (const filter of FILTERS) {
    const r = await pages(filter);
    filtered.push(...r.latencies);
    rows += r.rows;
  }
  const unfiltered = await pages({});
  const firstPages: number[] = [];
  for (let k = 0; k < 50; k++) {
    const t0 = performance.now();
    await store.listRuns({ flowId: FILTERS[k % 3]!.flowId, status: FILTERS[k % 3]!.status, limit: 50 });
    firstPages.push(performance.now() - t0);
  }
  return {
    filtered_pages: filtered.length,
    filtered_rows: rows,
    filtered_ms: latencySummary(Float64Array.from(filtered)),
    unfiltered_pages: unfiltered.latencies.length,
    unfiltered_ms: latencySummary(Float64Array.from(unfiltered.latencies)),
    first_page_ms: latencySummary(Float64Array.from(firstPages)),
  };
}

let totalsSetUp = false;
async function measureTotals(): Promise<Record<string, unknown>> {
  const engine = createEngine({ stores: store, poll: false });
  // The administrator and the flows are made once per store (totals may be measured twice).
  if (!totalsSetUp) {
    await engine.principals.createUser({ id: 'root' });
    await engine.principals.setAdministrator('root', true);
    for (let f = 0; f < 10; f++) await engine.deployFlow({ id: `list/flow-${f}`, actions: { main: { startAt: 's1', steps: { s1: { stepType: 'SUCCEED' } } } } }, { deployedBy: 'bench' });
    totalsSetUp = true;
  }
  const result: Record<string, unknown> = {};
  const time = async (name: string, filter: { flowId?: string; status?: RunStatus }, as: string, times: number): Promise<void> => {
    const latencies: number[] = [];
    let total: number | undefined;
    let estimate: boolean | undefined;
    for (let k = 0; k < times + 1; k++) {
      const t0 = performance.now();
      const page = await engine.listRuns({ ...filter, limit: 50 }, { as, withTotal: true });
      // The first call warms the caches (flows, principals); it is not counted.
      if (k > 0) latencies.push(performance.now() - t0);
      total = page.total;
      estimate = page.totalIsEstimate;
    }
    result[name] = { total, estimate, ms: latencySummary(Float64Array.from(latencies)) };
  };
  await time('admin_flowId', { flowId: 'list/flow-7' }, 'root', 30);
  await time('admin_status_succeeded', { status: 'SUCCEEDED' }, 'root', 30);
  await time('admin_flowId_status', { flowId: 'list/flow-3', status: 'FAILED' }, 'root', 30);
  await time('owner_flowId', { flowId: 'list/flow-7' }, 'bench', 10);
  await engine.close();
  return result;
}

const out: Record<string, unknown> = { store: storeKind, runs: RUNS, load: LOAD, load_s: r3(loadS), load_runs_per_s: r3(RUNS / loadS), in_flight: IN_FLIGHT };
out.as_loaded = await measure();
if (admin) {
  await admin.query('ANALYZE flowrun.runs');
  out.after_analyze = await measure();
}
if (opt.get('totals', 'yes') === 'yes') out.totals = await measureTotals();
if (admin && opt.get('totals', 'yes') === 'yes') {
  // Autovacuum also vacuums a table after enough inserts (PostgreSQL 13+): the visibility map set,
  // a count reads the index alone. Measured apart, as the state of a table some time after a bulk load.
  await admin.query('VACUUM (ANALYZE) flowrun.runs');
  out.totals_after_vacuum = await measureTotals();
}
out.peak_rss_mb = r3(process.resourceUsage().maxRSS / 1024);
await store.close();
await admin?.close();
if (dir) rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(out)}\n`);
