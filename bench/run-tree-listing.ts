/**
 * The dashboard's runs page with child runs collapsed under their parent (issue 15): pages of
 * `GET /runs?rootsOnly=true&childCounts=true` through the router (no port), over a fresh store of
 * run trees; prints the query plans, then ONE JSON line.
 *
 *   node --import tsx bench/run-tree-listing.ts --store sqlite --runs 100000
 *   node --import tsx bench/run-tree-listing.ts --store pg --runs 100000 [--db flowrun_bench_dash_api]
 *
 * Shape: trees of one root and `--children` (default 3) child runs started right after it, so
 * three runs in four are children that a roots-only page reads past. Every run is owned by
 * `owner`, a plain user (each run of a page, and each child counted, is checked against its roles);
 * `admin` is a system administrator (the store's own counts). For each, `--pages` (default 40)
 * pages of 50 following the marker, three ways: roots only with `total` (the default listing),
 * roots only with `markerOnly=true`, and roots only with `markerOnly=true&childCounts=true`.
 * Figures: wall ms per page (p50, p95, max) and process CPU ms per page (user + system).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createEngine, createPostgresStores, createSqliteStore, uuidIds, type Store } from '../src/index.js';
import type { NewRun } from '../src/core/run.js';
import { createFlowApiRouter } from '../src/server/index.js';
import { latencySummary, r3, readOptions } from './measure.js';
import { PgAdmin } from './pg-admin.js';

const opt = readOptions(process.argv.slice(2));
const storeKind = opt.get('store', 'sqlite');
const RUNS = opt.num('runs', 100_000);
const CHILDREN = opt.num('children', 3);
const PAGES = opt.num('pages', 40);
const IN_FLIGHT = opt.num('in-flight', 2048);

let admin: PgAdmin | null = null;
let dbPath: string | null = null;
let store: Store;
if (storeKind === 'pg') {
  admin = await PgAdmin.freshDatabase(opt.get('db', 'flowrun_bench_dash_api'));
  store = createPostgresStores({ connectionString: admin.url, schema: 'flowrun' });
} else {
  const dir = join('bench', 'out', `run-tree-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  dbPath = join(dir, 'flowrun.db');
  store = createSqliteStore({ path: dbPath });
}

const engine = createEngine({ stores: store, poll: false });
await engine.deployFlow({ id: 'tree/flow', actions: { main: { startAt: 's', steps: { s: { stepType: 'SUCCEED' } } } } }, { deployedBy: 'owner', publish: true });
await engine.principals.createUser({ id: 'owner' });
await engine.principals.createUser({ id: 'admin' });
await engine.principals.setAdministrator('admin', true);
const router = createFlowApiRouter({ engine, authenticate: async (request) => ({ userId: request.headers.get('x-user') ?? 'nobody' }) });

const base = Date.UTC(2026, 0, 1);
const treeSize = CHILDREN + 1;
let rootId = '';
function newRun(i: number): NewRun {
  const runId = uuidIds.newRunId();
  const isRoot = i % treeSize === 0;
  if (isRoot) rootId = runId;
  return {
    runId, flowId: 'tree/flow', flowVersion: 1, actionName: 'main', status: 'SUCCEEDED', label: null, tags: [], input: { i },
    createdBy: 'owner', runOwner: 'owner', runAs: null, triggeredBy: null, source: 'bench', sessionId: null,
    parentRunId: isRoot ? null : rootId, rootRunId: isRoot ? runId : rootId, treeId: isRoot ? runId : rootId, detached: false, depth: isRoot ? 0 : 1,
    monitors: { users: [], groups: [] }, managers: { users: [], groups: [] }, startTime: base + i, timeoutMs: null, deadline: null, readyAt: null,
    state: { frames: [{ graph: 'action:main', at: null, steps: {}, last: null, depth: 0, attempt: 1, item: { i } }], vars: {}, outputs: {}, stepSeq: 1, stepLogs: true, historyCount: 0 },
  };
}

// Trees are created whole in order (a child names the root made just before it): one writer, many in flight.
const loadStart = performance.now();
let next = 0;
const runs = Array.from({ length: RUNS }, (_, i) => newRun(i));
await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
  while (next < RUNS) await store.createRun({ run: runs[next++]! });
}));
const loadS = (performance.now() - loadStart) / 1000;
if (admin) await admin.query('VACUUM (ANALYZE) flowrun.runs');

// ---- plans ----------------------------------------------------------------------------------
const someRoot = runs[0]!.runId;
const plans: Record<string, string[]> = {};
if (dbPath) {
  const db = new Database(dbPath, { readonly: true });
  const plan = (sql: string, ...params: unknown[]): string[] => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
  plans.rootsPage = plan('SELECT * FROM flowrun_runs WHERE parent_run_id IS NULL ORDER BY start_time DESC, run_id DESC LIMIT ?', 51);
  plans.childCount = plan('SELECT count(*) AS n FROM (SELECT 1 FROM flowrun_runs WHERE parent_run_id = ? LIMIT ?)', someRoot, 101);
  plans.childPage = plan('SELECT * FROM flowrun_runs WHERE parent_run_id = ? ORDER BY start_time ASC, run_id ASC LIMIT ?', someRoot, 101);
  db.close();
} else {
  const plan = async (sql: string, params: unknown[]): Promise<string[]> => (await admin!.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${sql}`, params)).rows.map((r) => r['QUERY PLAN']);
  await admin!.query('SET search_path TO flowrun');
  plans.rootsPage = await plan('SELECT * FROM runs WHERE parent_run_id IS NULL ORDER BY start_time DESC, run_id DESC LIMIT 51', []);
  plans.childCount = await plan('SELECT count(*) AS n FROM (SELECT 1 FROM runs WHERE parent_run_id = $1 LIMIT 101) AS matching', [someRoot]);
  plans.childPage = await plan('SELECT * FROM runs WHERE parent_run_id = $1 ORDER BY start_time ASC, run_id ASC LIMIT 101', [someRoot]);
}
for (const [name, lines] of Object.entries(plans)) console.error(`-- ${name}\n${lines.join('\n')}`);

// ---- measure --------------------------------------------------------------------------------
async function pages(user: string, query: string): Promise<Record<string, number>> {
  const wall = new Float64Array(PAGES);
  let marker: string | null = null;
  let rows = 0;
  let counted = 0;
  const cpu = process.cpuUsage();
  for (let p = 0; p < PAGES; p++) {
    const started = performance.now();
    const response = await router.fetch(new Request(`http://bench/runs?rootsOnly=true&limit=50&${query}${marker ? `&marker=${marker}` : ''}`, { headers: { 'x-user': user } }));
    const body = (await response.json()) as { runs: { childCount?: number }[]; marker: string | null };
    wall[p] = performance.now() - started;
    if (response.status !== 200) throw new Error(`status ${response.status}: ${JSON.stringify(body)}`);
    rows += body.runs.length;
    counted += body.runs.reduce((n, r) => n + (r.childCount ?? 0), 0);
    marker = body.marker;
  }
  const used = process.cpuUsage(cpu);
  const s = latencySummary(wall);
  return { p50Ms: r3(s.p50), p95Ms: r3(s.p95), maxMs: r3(s.max), cpuMsPerPage: r3((used.user + used.system) / 1000 / PAGES), rowsPerPage: rows / PAGES, childrenPerPage: counted / PAGES };
}

const figures: Record<string, Record<string, number>> = {};
for (const user of ['owner', 'admin']) {
  figures[`${user}.withTotal`] = await pages(user, '');
  figures[`${user}.markerOnly`] = await pages(user, 'markerOnly=true');
  figures[`${user}.markerOnly.childCounts`] = await pages(user, 'markerOnly=true&childCounts=true');
}
await engine.close();
await store.close();
console.log(JSON.stringify({ bench: 'run-tree-listing', store: storeKind, runs: RUNS, children: CHILDREN, pages: PAGES, loadS: r3(loadS), figures, plans }));
if (dbPath) rmSync(join(dbPath, '..'), { recursive: true, force: true });
process.exit(0);
