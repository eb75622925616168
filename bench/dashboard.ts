/**
 * The dashboard's figures (issue 15), in Debian's Chromium through playwright-core against a
 * real server (`serve()` with the dashboard) over a SQLite file; prints a table and ONE JSON line.
 *
 *   node --import tsx bench/dashboard.ts --runs 100000 --rounds 7 --changes 40
 *
 * 1. Initial download: the dashboard built from source by Vite; the JavaScript and CSS its page
 *    loads before anything else (the entry script, its modulepreloads and stylesheets), gzipped
 *    as the server sends them (level 6), against the lazy chunks (the graph, the run and flow pages).
 * 2. First rows: `--runs` runs loaded through the store's `createRun` (10 flows, 4 statuses,
 *    like list-runs-runner.ts), then, `--rounds` times in a fresh browser context (cold cache,
 *    new tab), the time from navigation start to the first row of the runs page in the DOM
 *    (a MutationObserver in the page; `performance.now()` is measured from navigation start).
 * 3. Status change → DOM: `--changes` runs of a flow that waits until canceled; for each, its
 *    run page (live through its SSE stream) and the runs page (which polls its newest page every
 *    RUNS_POLL_MS, conditionally: 304 while the store is unchanged) are open,
 *    the run is canceled over HTTP, and the time from just before the cancel request is sent to
 *    the moment each page shows CANCELED is taken (`Date.now()` on one machine, both sides).
 * 4. A big run: a flow of `--big-steps` steps in a chain whose first step logs `--big-logs`
 *    entries (the history cap raised to hold them), run to its end; then, `--rounds` times in a
 *    fresh tab, its run page: the time to the whole graph coloured (every step `done`), the
 *    longest main-thread task while it loads (PerformanceObserver `longtask`), and the time from a
 *    click on the Logs tab to its table drawn.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { createClient } from '../src/client/index.js';
import type { NewRun, RunStatus } from '../src/core/run.js';
import { createEngine, createSqliteStore, uuidIds, type FlowDefinition, type Module } from '../src/index.js';
import { issueApiToken, withPrincipalsOf } from '../src/cli/admin-store.js';
import { createFlowApiRouter, serve } from '../src/server/index.js';
import { buildDashboard, hold, holdFlow, launchChromium } from '../test/support/dashboard-browser.js';
import { RUNS_POLL_MS } from '../dashboard/src/pages/runs-polling.js';
import { fmt, latencySummary, markdownTable, median, r3, readOptions } from './measure.js';

const opt = readOptions(process.argv.slice(2));
const RUNS = opt.num('runs', 100_000);
const ROUNDS = opt.num('rounds', 7);
const CHANGES = opt.num('changes', 40);
const BIG_STEPS = opt.num('big-steps', 200);
const BIG_LOGS = opt.num('big-logs', 10_000);

// ---- 1. initial download ---------------------------------------------------------------------
const built = await buildDashboard();
const html = readFileSync(join(built, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
const gz = (file: string): number => gzipSync(readFileSync(join(built, file)), { level: 6 }).byteLength;
const all = readdirSync(join(built, 'assets')).map((f) => `assets/${f}`);
const sum = (files: string[]): number => files.reduce((n, f) => n + gz(f), 0);
const initialJsKb = sum(initial.filter((f) => f.endsWith('.js'))) / 1024;
const initialCssKb = sum(initial.filter((f) => f.endsWith('.css'))) / 1024;
const lazy = all.filter((f) => !initial.includes(f));
const graphKb = sum(lazy.filter((f) => f.includes('flow-graph') && f.endsWith('.js'))) / 1024;
const lazyKb = sum(lazy) / 1024;

// ---- 2. a store with many runs -----------------------------------------------------------------
const dir = join('bench', 'out', `dashboard-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = createSqliteStore({ path: join(dir, 'flowrun.db') });
const STATUSES: RunStatus[] = ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'FAILED', 'ACTIVE', 'CANCELED'];
const base = Date.now() - RUNS;
const newRun = (i: number): NewRun => {
  const runId = uuidIds.newRunId();
  const status = STATUSES[Math.floor(i / 10) % STATUSES.length]!;
  const startTime = base + i;
  return {
    runId, flowId: `list/flow-${i % 10}`, flowVersion: 1, actionName: 'main', status, label: `run ${i}`, tags: i % 3 ? [] : ['nightly'], input: { i },
    createdBy: 'admin', runOwner: 'admin', runAs: null, triggeredBy: null, source: 'bench', sessionId: null, parentRunId: null, rootRunId: runId, treeId: runId,
    detached: false, depth: 0, monitors: { users: [], groups: [] }, managers: { users: [], groups: [] }, startTime, timeoutMs: null, deadline: null,
    // Loaded runs are never claimed: none is ready, so the engine's worker leaves them alone.
    readyAt: null,
    state: { frames: [{ graph: 'action:main', at: 's1', steps: {}, last: null, depth: 0, attempt: 1 }], vars: {}, outputs: {}, stepSeq: 0, stepLogs: true, historyCount: 0 },
  };
};
const loadStart = performance.now();
let next = 0;
await Promise.all(Array.from({ length: 2048 }, async () => {
  while (next < RUNS) await store.createRun({ run: newRun(next++) });
}));
const loadS = (performance.now() - loadStart) / 1000;

const chatty: Module = (_input, ctx) => {
  for (let i = 0; i < BIG_LOGS; i++) ctx.log('Progress', `entry ${i} of ${BIG_LOGS}`, { i });
  return { logged: BIG_LOGS };
};
const bigFlow: FlowDefinition = {
  id: 'bench/big',
  actions: {
    main: {
      startAt: 's0',
      steps: Object.fromEntries(
        Array.from({ length: BIG_STEPS }, (_, i) => [
          `s${i}`,
          i === 0
            ? { stepType: 'MODULE' as const, moduleIdentifier: 'chatty', defaultNextStepInstanceId: 's1' }
            : { stepType: 'COMPUTE' as const, expression: `{n: ${i}}`, ...(i + 1 < BIG_STEPS ? { defaultNextStepInstanceId: `s${i + 1}` } : {}) },
        ]),
      ),
    },
  },
};
const engine = createEngine({ stores: store, modules: { hold, chatty }, pollIntervalMs: 50, runtimeConfig: { maxHistoryPerRun: BIG_LOGS + 2 * BIG_STEPS + 100, budgets: { maxStartsPerSecond: 10_000 } } });
const token = await withPrincipalsOf(store, async (principals) => {
  await principals.createUser({ id: 'admin' });
  await principals.setAdministrator('admin', true);
  return (await issueApiToken(store, principals, { principalId: 'admin' })).token;
});
await engine.deployFlow(holdFlow, { deployedBy: 'admin', publish: true });
await engine.deployFlow(bigFlow, { deployedBy: 'admin', publish: true });
// GET /runs answers counted by status: how many of the runs page's polls were 304 (listing-etags.ts).
const listingAnswers = new Map<string, number>();
const router = createFlowApiRouter({ engine, dashboard: { dir: built } });
const countingRouter = {
  fetch: async (request: Request): Promise<Response> => {
    const response = await router.fetch(request);
    if (request.method === 'GET' && new URL(request.url).pathname === '/runs') {
      const key = `${response.status}${request.headers.has('if-none-match') ? ' (conditional)' : ''}`;
      listingAnswers.set(key, (listingAnswers.get(key) ?? 0) + 1);
    }
    return response;
  },
  close: () => router.close(),
  get openStreams() {
    return router.openStreams;
  },
};
const server = await serve({ router: countingRouter });
const client = createClient({ baseUrl: server.url, token });
const browser = await launchChromium();

/** A signed-in tab (the token put in its sessionStorage before the page runs) that notes when the first run row appears. */
async function signedInTab(): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.addInitScript((t: string) => {
    sessionStorage.setItem('flowrun.token', t);
    const w = window as unknown as { firstRowsMs?: number };
    new MutationObserver((_m, observer) => {
      if (document.querySelector('tr[data-run-id]')) {
        w.firstRowsMs = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  }, token);
  const page = await context.newPage();
  return { page, close: () => context.close() };
}

const firstRows: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const { page, close } = await signedInTab();
  await page.goto(`${server.url}/ui/runs`);
  await page.waitForFunction(() => (window as unknown as { firstRowsMs?: number }).firstRowsMs !== undefined);
  firstRows.push(await page.evaluate(() => (window as unknown as { firstRowsMs: number }).firstRowsMs));
  await close();
}

// ---- 3. status change → DOM -------------------------------------------------------------------
/** Resolves with Date.now() in the page when `selector`'s data-status becomes `status`. */
// A string, not a function: tsx names inner functions with a helper the page does not have.
const watchStatus = (page: Page, selector: string, status: string): Promise<number> =>
  page.evaluate(`new Promise((resolve) => {
    const check = () => document.querySelector(${JSON.stringify(selector)})?.getAttribute('data-status') === ${JSON.stringify(status)};
    if (check()) return resolve(Date.now());
    new MutationObserver((m, observer) => { if (check()) { observer.disconnect(); resolve(Date.now()); } })
      .observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  })`);
const runPageMs: number[] = [];
const runsPageMs: number[] = [];
listingAnswers.clear();
const list = await signedInTab();
await list.page.goto(`${server.url}/ui/runs?status=ACTIVE`);
const detail = await signedInTab();
for (let i = 0; i < CHANGES; i++) {
  const run = await client.runFlow({ flowId: 'demo/hold' });
  await list.page.locator(`tr[data-run-id="${run.runId}"]`).waitFor();
  await detail.page.goto(`${server.url}/ui/runs/${run.runId}`);
  await detail.page.locator('h1 [data-status="ACTIVE"]').waitFor();
  // The run page's stream is open once its graph shows the running step.
  await detail.page.locator('[data-state="running"]').waitFor();
  const onRunPage = watchStatus(detail.page, 'h1 [data-status]', 'CANCELED');
  const onRunsPage = watchStatus(list.page, `tr[data-run-id="${run.runId}"] [data-status]`, 'CANCELED');
  // Let both observers attach before the change: evaluate() has sent them once this round trip returns.
  await Promise.all([detail.page.evaluate(() => 0), list.page.evaluate(() => 0)]);
  const t0 = Date.now();
  await client.cancelRun(run.runId);
  runPageMs.push((await onRunPage) - t0);
  // The runs page filters ACTIVE: a canceled run leaves it on the next poll instead of changing; also counted.
  const left = list.page.locator(`tr[data-run-id="${run.runId}"]`).waitFor({ state: 'detached' }).then(() => Date.now());
  runsPageMs.push((await Promise.race([onRunsPage, left])) - t0);
}
const listingStatuses = Object.fromEntries([...listingAnswers].sort(([a], [b]) => a.localeCompare(b)));
await list.close();
await detail.close();

// ---- 4. a big run's page ----------------------------------------------------------------------
const big = await client.runFlow({ flowId: 'bench/big', wait: true });
if (big.status !== 'SUCCEEDED') throw new Error(`the big run ended ${big.status}: ${JSON.stringify(big.runError)}`);
const bigGraphMs: number[] = [];
const bigLongestTaskMs: number[] = [];
const bigLogsTabMs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const { page, close } = await signedInTab();
  await page.addInitScript(`window.longTasks = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });`);
  await page.goto(`${server.url}/ui/runs/${big.runId}`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-state="done"]').length === n, BIG_STEPS, { timeout: 120_000, polling: 'raf' });
  bigGraphMs.push(await page.evaluate('performance.now()'));
  // Every entry replayed: the Logs tab counts the module's entries and one per step at least.
  await page.waitForFunction((n) => Number(/Logs \((\d+)\)/.exec(document.querySelector('.tabs')?.textContent ?? '')?.[1] ?? 0) >= n, BIG_LOGS + BIG_STEPS, { timeout: 120_000 });
  bigLongestTaskMs.push(await page.evaluate('Math.max(0, ...window.longTasks)'));
  const clicked = page.evaluate(`new Promise((resolve) => {
    const tab = [...document.querySelectorAll('[role=tab]')].find((t) => t.textContent.startsWith('Logs'));
    const t0 = performance.now();
    tab.click();
    const wait = () => (document.querySelector('table.logs tr') ? resolve(performance.now() - t0) : requestAnimationFrame(wait));
    wait();
  })`);
  bigLogsTabMs.push((await clicked) as number);
  await close();
}
await browser.close();
await server.close();
await engine.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
rmSync(built, { recursive: true, force: true });

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const runPage = latencySummary(Float64Array.from(runPageMs));
const runsPage = latencySummary(Float64Array.from(runsPageMs));
console.log(markdownTable(['figure', 'value'], [
  ['initial JS, gzipped (kB)', fmt(initialJsKb)],
  ['initial CSS, gzipped (kB)', fmt(initialCssKb)],
  ['lazy chunks, gzipped (kB; React Flow alone)', `${fmt(lazyKb)} (${fmt(graphKb)})`],
  [`runs loaded (${RUNS.toLocaleString('en')}, s)`, fmt(loadS)],
  [`first rows, ms (${ROUNDS} cold tabs: min / median / max)`, `${fmt(Math.min(...firstRows))} / ${fmt(median(firstRows))} / ${fmt(Math.max(...firstRows))}`],
  [`status → DOM, run page (SSE), ms (${CHANGES}: p50 / p99 / max)`, `${fmt(runPage.p50)} / ${fmt(runPage.p99)} / ${fmt(runPage.max)}`],
  [`big run page (${BIG_STEPS} steps, ${BIG_LOGS.toLocaleString('en')} log entries): graph all done, ms (min / median / max)`, `${fmt(Math.min(...bigGraphMs))} / ${fmt(median(bigGraphMs))} / ${fmt(Math.max(...bigGraphMs))}`],
  ['big run page: longest main-thread task while loading, ms (min / median / max)', `${fmt(Math.min(...bigLongestTaskMs))} / ${fmt(median(bigLongestTaskMs))} / ${fmt(Math.max(...bigLongestTaskMs))}`],
  ['big run page: Logs tab click → table drawn, ms (min / median / max)', `${fmt(Math.min(...bigLogsTabMs))} / ${fmt(median(bigLogsTabMs))} / ${fmt(Math.max(...bigLogsTabMs))}`],
  [`status → DOM, runs page (newest page polled every ${RUNS_POLL_MS} ms), ms (${CHANGES}: p50 / p99 / max)`, `${fmt(runsPage.p50)} / ${fmt(runsPage.p99)} / ${fmt(runsPage.max)}`],
  ['GET /runs answers during the status changes, by HTTP status', JSON.stringify(listingStatuses)],
]));
console.log(JSON.stringify({
  initialJsKb: r3(initialJsKb), initialCssKb: r3(initialCssKb), lazyKb: r3(lazyKb), graphKb: r3(graphKb), runs: RUNS, loadS: r3(loadS),
  firstRowsMs: sorted(firstRows).map(r3), bigGraphMs: sorted(bigGraphMs).map(r3), bigLongestTaskMs: sorted(bigLongestTaskMs).map(r3), bigLogsTabMs: sorted(bigLogsTabMs).map(r3), runPageMs: { p50: r3(runPage.p50), p99: r3(runPage.p99), max: r3(runPage.max) }, runsPageMs: { p50: r3(runsPage.p50), p99: r3(runsPage.p99), max: r3(runsPage.max) }, listingStatuses,
}));
