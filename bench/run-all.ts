/**
 * `npm run bench`: runs the scenarios and prints a markdown section per scenario; a copy goes to
 * bench/out/results.md (and every measurement's JSON line to bench/out/<scenario>.jsonl).
 * Figures go into bench/RESULTS.md by hand, with the command and the machine.
 *
 *   npm run bench                         # everything (≈ 40 min on 2 cores, peers and growth ≈ 25 of them)
 *   npm run bench -- --quick              # smaller N, one repetition (≈ 12 min)
 *   npm run bench -- --only pg,sqlite     # memory | pg | sqlite | statements | micro | recovery | list | waiting | waiters | permissions | streaming | dsl | http | live | hostile | peers | growth | schedules (comma-separated)
 *   npm run bench -- --only peers --quick # flowrun beside Mastra, LangGraph, DBOS, Restate (≈ 4 min quiet; 9 at load 14)
 *   npm run bench -- --only peers --engines dbos,flowrun-pg   # some engines of peers/growth (names in bench/peer-engines.ts)
 *   npm run bench -- --reps 3             # repetitions (default 2 — peers and growth 3 —, quick 1)
 *   npm run bench -- --step-kind compute  # COMPUTE steps instead of trivial MODULE steps
 *   npm run bench -- --only http --quick --requests-only   # HTTP request rates without the SSE latencies (A/B rounds)
 *
 * The `sqlite` scenario measures SQLite's single-commit limit (one-row commits, WAL,
 * synchronous=FULL; bench/commit-limit.ts) beside each steps-at-64-runs measurement, on the same
 * disk, and prints steps/s ÷ that limit and Node CPU µs per step (issue 13's goal: ≥ 1.5×).
 *
 * The PostgreSQL scenarios need a server (FLOWRUN_BENCH_PG_URL, else FLOWRUN_TEST_PG_URL, else
 * postgres://flowrun:flowrun@127.0.0.1:5432/flowrun_test; the role needs CREATEDB) and re-create
 * the databases flowrun_bench_flowrun, flowrun_bench_dbos and flowrun_bench_list (peers and growth:
 * flowrun_bench_peers_flowrun and flowrun_bench_peers_dbos). The peers (DBOS Transact, Mastra,
 * LangGraph, Restate and its server binary) are dependencies of bench/package.json only:
 * installed here with `npm ci --prefix bench` when missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import pg from 'pg';
import { benchCallReturn } from './call-return.js';
import { benchDslCompile } from './dsl-compile.js';
import { benchGrowth } from './growth.js';
import { benchEventWaiters } from './event-waiters.js';
import { benchHostile } from './hostile.js';
import { benchHttpRequests, benchSseLatency, benchSseLatencyAcrossProcesses } from './http.js';
import type { GotoLoopResult } from './goto-loop.js';
import { benchListRuns } from './list-runs.js';
import { benchLive } from './live.js';
import { markdownTable, readOptions } from './measure.js';
import { adminUrl } from './pg-admin.js';
import { benchPeers } from './peers.js';
import { benchPermissions } from './permissions.js';
import { benchPgCompare } from './pg-compare.js';
import { benchRecovery } from './recovery.js';
import { benchSqlite } from './sqlite-bench.js';
import { benchSqliteStatements } from './sqlite-statements.js';
import { benchEngineMicro } from './engine-micro.js';
import { benchStreamingPaces } from './streaming.js';

const SCENARIOS = ['memory', 'pg', 'sqlite', 'statements', 'micro', 'recovery', 'list', 'waiting', 'waiters', 'permissions', 'streaming', 'dsl', 'http', 'live', 'hostile', 'peers', 'growth', 'schedules'] as const;
type Scenario = (typeof SCENARIOS)[number];

const opt = readOptions(process.argv.slice(2));
const quick = opt.has('quick');
const only = opt.get('only', SCENARIOS.join(',')).split(',').map((s) => s.trim()) as Scenario[];
for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}"; choose from ${SCENARIOS.join(', ')}`);
const reps = opt.num('reps', quick ? 1 : 2);
const stepKind = opt.get('step-kind', 'module');

const sections: string[] = [];
function section(title: string, body: string): void {
  const text = `## ${title}\n\n${body}\n`;
  console.log(text);
  sections.push(text);
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`# flowrun bench — ${new Date().toISOString()} — ${machine}${quick ? ' — quick' : ''}\n`);
console.log(`Load average at start: ${loadavg().map((x) => x.toFixed(2)).join(', ')}\n`);

/** True when the benchmark PostgreSQL answers; otherwise says why the PostgreSQL parts are skipped. */
async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    console.log(`> PostgreSQL at ${new URL(adminUrl()).host} is not reachable (${error instanceof Error ? error.message : String(error)}): skipping the PostgreSQL parts.\n`);
    return false;
  }
}

/** True when DBOS Transact is installed under bench/ (installing it with npm ci when it is not). */
function dbosAvailable(): boolean {
  const marker = 'bench/node_modules/@dbos-inc/dbos-sdk/package.json';
  if (existsSync(marker)) return true;
  console.error('bench/node_modules is missing: npm ci --prefix bench (DBOS Transact, the peer) …');
  const npm = spawnSync('npm', ['ci', '--prefix', 'bench', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (npm.status === 0 && existsSync(marker)) return true;
  console.log('> DBOS Transact could not be installed (`npm ci --prefix bench` failed): the DBOS half of the PostgreSQL comparison is skipped; flowrun is measured alone.\n');
  return false;
}

const pgUp = only.some((s) => ['pg', 'list', 'waiters', 'live', 'peers', 'growth'].includes(s)) ? await postgresReachable() : false;
const started = Date.now();

if (only.includes('memory')) {
  const callReturn = await benchCallReturn(quick ? 1_000 : 5_000);
  section('Call-and-return overhead (memory store) vs plain async functions', markdownTable(Object.keys(callReturn[0]!), callReturn.map((r) => Object.values(r).map(String))));
  const iterations = quick ? 100_000 : 1_000_000;
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/goto-loop.ts', String(iterations)], { encoding: 'utf8' });
  const gotoLoop = JSON.parse(out.trim().split('\n').at(-1)!) as GotoLoopResult;
  section(`${iterations.toLocaleString('en')}-iteration goto loop (memory store, own process)`, markdownTable(Object.keys(gotoLoop), [Object.values(gotoLoop).map(String)]));
}

if (only.includes('pg') && pgUp) {
  section('PostgreSQL: flowrun vs DBOS Transact, same server, same run', benchPgCompare({ quick, reps, withDbos: dbosAvailable(), stepKind }));
}

if (only.includes('sqlite')) {
  section('SQLite (WAL, synchronous=FULL): parent runs and durable step transitions', benchSqlite({ quick, reps, stepKind }));
}

if (only.includes('recovery')) {
  section('Recovery after SIGKILL (SQLite)', await benchRecovery({ quick }));
}

if (only.includes('waiting')) {
  // Its own process, so the RSS is that of the waiting runs alone.
  const n = quick ? 20_000 : 100_000;
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/waiting-runs.ts', String(n)], { encoding: 'utf8' });
  const row = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
  section(`${n.toLocaleString('en')} runs waiting on a timer (SQLite, own process)`, markdownTable(Object.keys(row), [Object.values(row).map(String)]));
}

if (only.includes('schedules')) {
  // Issue 17, each store in its own process (its RSS is the schedules' alone): N schedules firing every minute, then --stored in the store.
  const n = quick ? 2_000 : 10_000;
  const rows: string[][] = [];
  let header: string[] = [];
  for (const storeKind of ['sqlite', 'pg']) {
    if (storeKind === 'pg' && !(await postgresReachable())) continue;
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/schedules.ts', '--store', storeKind, '--schedules', String(n), '--minutes', quick ? '1' : '2', '--stored', quick ? '20000' : '100000'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const row = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    header = Object.keys(row);
    rows.push(Object.values(row).map(String));
  }
  section(`${n.toLocaleString('en')} schedules firing every minute (own process per store)`, markdownTable(header, rows));
}

if (only.includes('waiters')) {
  const others = quick ? [10, 20_000] : [10, 100_000];
  const { table } = await benchEventWaiters({ stores: pgUp ? ['sqlite', 'pg'] : ['sqlite'], others, publishes: quick ? 50 : 200, budgetMs: 60_000 });
  section(`Publishing an event that resumes one run, with ${others.map((n) => n.toLocaleString('en')).join(' and ')} other runs waiting (half on timers, half on other events)`, table);
}

if (only.includes('streaming')) {
  section('Streamed outputs: 10,000 appends to a streamable collection, write → snapshot (memory store)', await benchStreamingPaces(10_000));
}

if (only.includes('list')) {
  section(`listRuns over ${quick ? '100,000' : '1,000,000'} runs`, benchListRuns({ quick, stores: pgUp ? ['sqlite', 'pg'] : ['sqlite'] }));
}

if (only.includes('permissions')) {
  section('Permission checks: run starts per second without checks vs with a 1,000-principal table', await benchPermissions({ quick }));
}

if (only.includes('dsl')) {
  section('The flow language: compile speed, and report_generator compiled vs JSON (memory store)', await benchDslCompile({ quick }));
}

/** True when autocannon (the HTTP load generator, a bench/package.json dependency) is installed, installing it when it is not. */
function autocannonAvailable(): boolean {
  const marker = 'bench/node_modules/autocannon/package.json';
  if (existsSync(marker)) return true;
  console.error('autocannon is missing: npm ci --prefix bench …');
  spawnSync('npm', ['ci', '--prefix', 'bench', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (existsSync(marker)) return true;
  console.log('> autocannon could not be installed (`npm ci --prefix bench` failed): the HTTP request rates are skipped.\n');
  return false;
}

if (only.includes('statements')) section('SQLite: single statements behind the store\'s choices (µs each)', await benchSqliteStatements({ quick }));
if (only.includes('micro')) section('Engine: small choices on a run\'s hot path (µs each)', benchEngineMicro({ quick }));

if (only.includes('http')) {
  if (autocannonAvailable()) section('HTTP: start-run and get-run requests/s vs a bare Hono/Node handler (SQLite store, 64 connections)', await benchHttpRequests({ quick }));
  // --requests-only: the request rates alone, for A/B rounds against another commit.
  if (!opt.has('requests-only')) {
    section('HTTP: event latency from emitItem to an SSE client (same process, SQLite store)', await benchSseLatency({ quick }));
    const pgUrl = (await postgresReachable()) ? adminUrl() : null;
    section('HTTP: event latency from emitItem in another process to an SSE client (SQLite, PostgreSQL)', await benchSseLatencyAcrossProcesses({ quick, pgUrl }));
  }
}

if (only.includes('live')) {
  section('Watching a run live from another process: transient items and in-step log entries, writer → SSE client (SQLite, PostgreSQL)', await benchLive({ quick, reps, postgres: pgUp }));
}

/**
 * Installs bench/package.json's dependencies (npm ci --prefix bench) when one of `packages` is
 * missing; better-sqlite3 compiles against the local Node headers (npm_config_nodedir=/usr) when
 * they are there. A peer still missing afterwards is reported as skipped by its measurement.
 */
function ensureBenchDependencies(packages: string[]): void {
  if (packages.every((p) => existsSync(`bench/node_modules/${p}/package.json`))) return;
  console.error('bench/node_modules lacks peers: npm ci --prefix bench …');
  const nodedir = existsSync('/usr/include/node/node.h') ? { npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' } : {};
  spawnSync('npm', ['ci', '--prefix', 'bench', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...nodedir } });
}

const peerPackages = ['@dbos-inc/dbos-sdk', '@mastra/core', '@mastra/libsql', '@langchain/langgraph', '@langchain/langgraph-checkpoint-sqlite', '@restatedev/restate-sdk', '@restatedev/restate-server'];
const peerReps = opt.has('reps') ? reps : quick ? 1 : 3;
const peerEngines = opt.has('engines') ? opt.get('engines', '').split(',').map((e) => e.trim()) : undefined;
if (only.includes('peers')) {
  ensureBenchDependencies(peerPackages);
  section('Peers: flowrun beside plain functions, Mastra, LangGraph, DBOS and Restate on three workload shapes', benchPeers({ quick, reps: peerReps, postgres: pgUp, ...(peerEngines ? { engines: peerEngines } : {}) }));
}

if (only.includes('growth')) {
  ensureBenchDependencies(peerPackages);
  section('Cost growth: µs and bytes per step as a run gets longer or carries more (flowrun stores, DBOS, Mastra)', benchGrowth({ quick, reps: peerReps, postgres: pgUp, ...(peerEngines ? { engines: peerEngines } : {}) }));
}

if (only.includes('hostile')) section('Hostile flows against `flowrun serve`: a user\'s runs and /health under attack, memory and store growth per attack (SQLite)', await benchHostile({ quick }));

console.log(`Total ${((Date.now() - started) / 1000).toFixed(0)} s; load average at end: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/results.md', `# flowrun bench — ${new Date().toISOString()} — ${machine}${quick ? ' — quick' : ''}\n\n${sections.join('\n')}`);
