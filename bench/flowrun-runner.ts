/**
 * One measurement of flowrun, in a fresh process, on a fresh store; prints ONE JSON line.
 * The counterpart of dbos-runner.ts: same workloads, same closed loop, same figures.
 *
 *   node --import tsx bench/flowrun-runner.ts --store pg --workload parent-sync --n 2000 --conc 64
 *   node --import tsx bench/flowrun-runner.ts --store sqlite --workload steps --reps 20
 *   node --import tsx bench/flowrun-runner.ts --store sqlite --workload steps-concurrent --n 640 --conc 64
 *
 * Options: --store pg|sqlite|memory (memory: what the engine costs without a durable store); --workload parent-sync|parent-async|steps|steps-concurrent;
 * --n parents (or runs for steps-concurrent); --conc loops; --warmup parents; --reps (steps);
 * --steps-per-run 100; --step-kind module|compute; --count-queries (PostgreSQL statements, not for timing);
 * --count-promises (`promises_per_unit`: promises made per step, or per parent, in the measured
 * phase; not for timing — its hook turns on Node's promise hooks);
 * --limit-seconds 1.5 (SQLite steps-concurrent: the single-commit limit is measured for this long
 * right before and right after the workload, on the same disk — bench/commit-limit.ts);
 * --cpu-prof FILE (a V8 CPU profile of the measured phase only, warm-up and commit limit left out:
 * inspect it with Chrome DevTools or `node bench/profile-summary.mjs FILE`); --pg-db NAME (the
 * PostgreSQL database to re-create, default flowrun_bench_flowrun: two runners at once need two);
 * --trace off|none|sdk|sample10 (default none: @opentelemetry/api loaded, no SDK registered; off:
 * `createEngine({tracing: false})`; sdk: an OpenTelemetry NodeTracerProvider as README's tracing
 * set-up makes it (the default sampler, ParentBased(AlwaysOn): every trace), its spans going through
 * a BatchSpanProcessor to an exporter that drops them; sample10: the same
 * with ParentBased(TraceIdRatioBased(0.1)); hooks: tracing off but an AsyncLocalStorage entered once, so
 * Node's promise hooks run for every promise — the floor of a context-propagating tracer on Node 20;
 * spans: tracing off, the sdk set-up, and the SDK's span per step made around each module's call —
 * the floor of "a span per step" with this SDK, whoever makes it —
 * bench/tracing-cost.ts compares them).
 * parent-sync and steps-concurrent also report the event loop's delay while measuring
 * (`event_loop_delay_ms`, perf_hooks.monitorEventLoopDelay: how long a timer or a request waited
 * behind synchronous work) and, on SQLite, the longest a group commit held the loop
 * (`longest_transaction_ms`, BEGIN to COMMIT returned; `longest_commit_ms`, the COMMIT statement
 * alone — its fsync and any checkpoint; both absent on code that does not count them), and the share
 * of commits whose fsync ran off the event loop (`off_loop_sync_share`, commit-sync-policy.ts).
 *
 * PostgreSQL: re-creates database `flowrun_bench_flowrun` (see pg-admin.ts) and uses schema
 * `flowrun` in it. SQLite: a new file under bench/out/, deleted afterwards, default durability
 * (WAL, synchronous=FULL).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHook } from 'node:async_hooks';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { createEngine, createFilesystemStores, createMemoryStores, createPostgresStores, type Engine, type Module, type RunRecord, type Store } from '../src/index.js';
import { measureCommitLimit } from './commit-limit.js';
import { benchFlows, benchModules, checkParentAsync, checkParentSync, type StepKind } from './bench-flows.js';
import { closedLoop, latencySummary, machineBusySeconds, parentRunFigures, r3, stepRunFigures, readOptions, sleep } from './measure.js';
import { PgAdmin, statsDelta, type ServerStats } from './pg-admin.js';

const opt = readOptions(process.argv.slice(2));
const storeKind = opt.get('store', 'pg');
const workload = opt.get('workload', 'parent-sync');
const N = opt.num('n', 2000);
const CONC = opt.num('conc', 1);
const WARMUP = opt.num('warmup', 100);
const REPS = opt.num('reps', 20);
const STEPS = opt.num('steps-per-run', 100);
const stepKind = opt.get('step-kind', 'module') as StepKind;
const LIMIT_SECONDS = opt.num('limit-seconds', 1.5);
const PROFILE_FILE = opt.get('cpu-prof', '');

// ---- optional promise counter of the measured phase (--count-promises) --------------------------
// Not for timing: the init hook turns on Node's promise hooks, as an SDK's context manager does.
let promisesMade = 0;
let countingPromises = false;
if (opt.has('count-promises')) {
  createHook({
    init(_id, type) {
      if (countingPromises && type === 'PROMISE') promisesMade += 1;
    },
  }).enable();
}

// ---- optional CPU profile of the measured phase ------------------------------------------------
let profiler: Session | null = null;
async function startProfile(): Promise<void> {
  countingPromises = true;
  if (!PROFILE_FILE) return;
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  await profiler.post('Profiler.start');
}
async function stopProfile(): Promise<void> {
  countingPromises = false;
  if (!profiler) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(PROFILE_FILE, JSON.stringify(profile));
  profiler.disconnect();
  profiler = null;
}

// ---- optional statement counter: wraps the `pg` that src/ loads (the root package's) ----------
const statements = new Map<string, number>();
const statementMs = new Map<string, number>();
let counting = false;
if (opt.has('count-queries')) {
  const requireFromSrc = createRequire(new URL('../src/index.ts', import.meta.url));
  const pgOfSrc = requireFromSrc('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const original = pgOfSrc.Client.prototype.query;
  pgOfSrc.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    if (counting) {
      const config = args[0] as string | { text?: string };
      const text = (typeof config === 'string' ? config : (config?.text ?? '')).replace(/\s+/g, ' ').trim();
      const key = text.slice(0, 90);
      statements.set(key, (statements.get(key) ?? 0) + 1);
      // Client-side time from sending to the reply (server time + round trip + waiting in the
      // connection's queue): at conc 1 it says where a run's wall time goes.
      const started = performance.now();
      const result = original.apply(this, args);
      if (result instanceof Promise) {
        void result.then(
          () => statementMs.set(key, (statementMs.get(key) ?? 0) + performance.now() - started),
          () => undefined,
        );
      }
      return result;
    }
    return original.apply(this, args);
  };
}

// ---- the store ---------------------------------------------------------------------------------
let admin: PgAdmin | null = null;
let sqliteDir: string | null = null;
let stores: Store;
if (storeKind === 'pg') {
  admin = await PgAdmin.freshDatabase(opt.get('pg-db', 'flowrun_bench_flowrun'));
  stores = createPostgresStores({ connectionString: admin.url, schema: 'flowrun' });
} else if (storeKind === 'sqlite') {
  sqliteDir = join('bench', 'out', `sqlite-${process.pid}`);
  rmSync(sqliteDir, { recursive: true, force: true });
  mkdirSync(sqliteDir, { recursive: true });
  stores = createFilesystemStores({ rootDir: sqliteDir });
} else if (storeKind === 'memory') {
  stores = createMemoryStores();
} else {
  throw new Error(`unknown --store ${storeKind}`);
}

/** Store-side counters: PostgreSQL's server stats, or the stores' own group-commit counters. */
interface Counters {
  server: ServerStats | null;
  commits: number;
  operations: number;
  longestTransactionMs: number | null;
  longestCommitMs: number | null;
  offLoopSyncs: number | null;
}
async function counters(): Promise<Counters> {
  const s = (stores as unknown as { stats?: { commits: number; operations?: number; transitions?: number; longestTransactionMs?: number; longestCommitMs?: number; offLoopSyncs?: number } }).stats;
  return { server: admin ? await admin.stats() : null, commits: s?.commits ?? 0, operations: s?.operations ?? s?.transitions ?? 0, longestTransactionMs: s?.longestTransactionMs ?? null, longestCommitMs: s?.longestCommitMs ?? null, offLoopSyncs: s?.offLoopSyncs ?? null };
}

/** The event loop's delay while `measure` runs (ms), from a 1 ms-resolution histogram. */
async function withLoopDelay<T>(measure: () => Promise<T>): Promise<{ result: T; delay: { p50: number; p99: number; max: number } }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  try {
    const result = await measure();
    return { result, delay: { p50: r3(histogram.percentile(50) / 1e6), p99: r3(histogram.percentile(99) / 1e6), max: r3(histogram.max / 1e6) } };
  } finally {
    histogram.disable();
  }
}

// ---- tracing (--trace) ---------------------------------------------------------------------------
const TRACE = opt.get('trace', 'none');
/** The modules the engine runs (`--trace spans` wraps them: the floor below). */
let modules: Record<string, Module> = benchModules;
if (TRACE === 'sdk' || TRACE === 'sample10' || TRACE === 'spans') {
  const sdk = await import('@opentelemetry/sdk-trace-node');
  const dropAll: import('@opentelemetry/sdk-trace-node').SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined };
  // sdk: the SDK's default sampler (what README's set-up gets), spelled out so OTEL_TRACES_SAMPLER cannot change it.
  const sampler = new sdk.ParentBasedSampler({ root: TRACE === 'sample10' ? new sdk.TraceIdRatioBasedSampler(0.1) : new sdk.AlwaysOnSampler() });
  new sdk.NodeTracerProvider({ sampler, spanProcessors: [new sdk.BatchSpanProcessor(dropAll)] }).register();
  if (TRACE === 'spans') {
    // The floor of "a span per step visit" with this SDK set-up, flowrun's tracing off: the SDK's
    // span per module step (its name and attributes, a child of one recorded span) around the
    // module's call, its BatchSpanProcessor and the promise hooks its context manager turns on; no
    // context entered per step, no run, execution or commit spans. `sdk` minus `spans` is flowrun's share.
    const api = await import('@opentelemetry/api');
    const tracer = api.trace.getTracer('flowrun-floor');
    const parent = api.trace.setSpan(api.ROOT_CONTEXT, tracer.startSpan('execute'));
    api.context.with(parent, () => undefined); // as any traced step does: the promise hooks go on
    const kind = api.SpanKind.INTERNAL;
    modules = Object.fromEntries(
      Object.entries(benchModules).map(([name, fn]) => [
        name,
        (input: Record<string, unknown>, ctx: Parameters<Module>[1]) => {
          const attributes = { 'flowrun.step.id': `s${String(input.s)}`, 'flowrun.step.type': 'MODULE', 'flowrun.step.attempt': 1 };
          const span = tracer.startSpan(`step s${String(input.s)}`, { kind, attributes }, parent);
          try {
            return fn(input, ctx);
          } finally {
            span.end();
          }
        },
      ]),
    );
  }
} else if (TRACE === 'hooks') {
  // No tracer; one AsyncLocalStorage entered once. On Node 20 that turns on the promise hooks for
  // every promise of the process from then on: the floor any tracer whose context lives in
  // AsyncLocalStorage pays (the SDK's default context manager, once anything enters a context).
  const { AsyncLocalStorage } = await import('node:async_hooks');
  new AsyncLocalStorage<boolean>().enterWith(true);
} else if (TRACE !== 'none' && TRACE !== 'off') {
  throw new Error(`unknown --trace ${TRACE}`);
}

const engine: Engine = createEngine({ stores, modules, ...(TRACE === 'off' || TRACE === 'hooks' || TRACE === 'spans' ? { tracing: false as const } : {}) });
for (const flow of benchFlows(stepKind, STEPS)) await engine.deployFlow(flow, { publish: true });

async function runParent(flow: string, i: number): Promise<unknown> {
  const result = await engine.runAction({ flow, input: { i } });
  if (result.status !== 'SUCCEEDED') throw new Error(`run ${result.requestId} ended ${result.status}: ${result.error?.message}`);
  return result.output;
}

/** Every run of `flowId` with `status`, through listRuns pages (after the measured phase only). */
async function countRuns(flowId: string, status: RunRecord['status']): Promise<number> {
  let total = 0;
  let marker: string | undefined;
  for (;;) {
    const page = await engine.listRuns({ flowId, status, limit: 1000, ...(marker ? { marker } : {}) });
    total += page.runs.length;
    if (!page.marker) return total;
    marker = page.marker;
  }
}

/** Waits until no bench/child run is ACTIVE; returns the latest child endTime. */
async function waitChildren(timeoutMs = 600_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const active = await engine.listRuns({ flowId: 'bench/child', status: 'ACTIVE', limit: 1 });
    if (active.runs.length === 0) break;
    if (Date.now() - started > timeoutMs) throw new Error('timeout waiting for children');
    await sleep(10);
  }
  const last = await engine.listRuns({ flowId: 'bench/child', orderBy: 'endTime', orderDir: 'desc', limit: 1 });
  return last.runs[0]?.endTime ?? Number.NaN;
}

const out: Record<string, unknown> = { engine: 'flowrun', store: storeKind, workload, step_kind: stepKind, trace: TRACE, node: process.version };
if (admin) Object.assign(out, await admin.describe().then((d) => ({ pg_version: d.version, pg_settings: d.settings })));

if (workload === 'parent-sync' || workload === 'parent-async') {
  const isSync = workload === 'parent-sync';
  const flow = isSync ? 'bench/parent-sync' : 'bench/parent-async';
  const job = isSync
    ? async (i: number) => checkParentSync(await runParent(flow, i), i)
    : async (i: number) => void checkParentAsync(await runParent(flow, i));
  await closedLoop(WARMUP, CONC, (k) => job(1_000_000 + k));
  if (!isSync) await waitChildren();
  await sleep(1500); // let PostgreSQL backends flush their statistics
  const c0 = await counters();
  counting = true;
  await startProfile();
  const startEpoch = Date.now();
  const cpu0 = process.cpuUsage();
  const m0 = machineBusySeconds();
  const t0 = performance.now();
  const { result: latencies, delay } = await withLoopDelay(() => closedLoop(N, CONC, job));
  const parentsMs = performance.now() - t0;
  let childrenMs: number | null = null;
  let detectMs = parentsMs;
  if (!isSync) {
    childrenMs = (await waitChildren()) - startEpoch;
    detectMs = performance.now() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  const m1 = machineBusySeconds();
  await stopProfile();
  counting = false;
  await sleep(1500);
  const c1 = await counters();
  const childrenOk = await countRuns('bench/child', 'SUCCEEDED');
  const parentsOk = await countRuns(flow, 'SUCCEEDED');
  const failed = (await engine.listRuns({ status: 'FAILED', limit: 10 })).runs.length;
  if (childrenOk !== N + WARMUP || parentsOk !== N + WARMUP || failed > 0) throw new Error(`bad end state: ${parentsOk} parents, ${childrenOk} children, ${failed} failed`);
  const nodeCpuS = (cpu.user + cpu.system) / 1e6;
  Object.assign(out, {
    ...parentRunFigures({ n: N, conc: CONC, warmup: WARMUP, parentsMs, latencies, childrenMs, nodeCpuS, machineBusy: m0 !== null && m1 !== null ? m1 - m0 : null, detectMs }),
    store_commits_per_parent: r3((c1.commits - c0.commits) / N),
    store_transitions_per_parent: r3((c1.operations - c0.operations) / N),
    event_loop_delay_ms: delay,
    ...(c1.longestTransactionMs === null ? {} : { longest_transaction_ms: r3(c1.longestTransactionMs), longest_commit_ms: r3(c1.longestCommitMs ?? Number.NaN) }),
    ...(c1.offLoopSyncs === null || c0.offLoopSyncs === null ? {} : { off_loop_sync_share: r3((c1.offLoopSyncs - c0.offLoopSyncs) / Math.max(1, c1.commits - c0.commits)) }),
  });
  if (c0.server && c1.server) {
    const d = statsDelta(c0.server, c1.server);
    out.server_per_parent = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, r3(v / N)]));
  }
} else if (workload === 'steps') {
  // One run at a time: REPS runs of a 1-step flow (the fixed cost of a run), then REPS of STEPS steps.
  const many = `bench/steps-${STEPS}`;
  for (let k = 0; k < 3; k++) await runParent(many, -1 - k);
  for (let k = 0; k < 20; k++) await runParent('bench/steps-1', -1 - k);
  await sleep(1500);
  const oneLat: number[] = [];
  for (let k = 0; k < REPS; k++) {
    const a = performance.now();
    await runParent('bench/steps-1', k);
    oneLat.push(performance.now() - a);
  }
  await sleep(500);
  const c0 = await counters();
  counting = true;
  await startProfile();
  const cpu0 = process.cpuUsage();
  const m0 = machineBusySeconds();
  const t0 = performance.now();
  const runLat: number[] = [];
  for (let k = 0; k < REPS; k++) {
    const a = performance.now();
    const output = (await runParent(many, k)) as { s?: number };
    if (output?.s !== STEPS - 1) throw new Error(`bad steps result ${JSON.stringify(output)}`);
    runLat.push(performance.now() - a);
  }
  const totalMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const m1 = machineBusySeconds();
  await stopProfile();
  counting = false;
  await sleep(1500);
  const c1 = await counters();
  const totalSteps = REPS * STEPS;
  const nodeCpuUs = cpu.user + cpu.system;
  Object.assign(out, {
    ...stepRunFigures({ reps: REPS, steps: STEPS, totalMs, oneLat, runLat, nodeCpuUs, machineBusy: m0 !== null && m1 !== null ? m1 - m0 : null }),
    store_commits_per_step: r3((c1.commits - c0.commits) / totalSteps),
    store_transitions_per_step: r3((c1.operations - c0.operations) / totalSteps),
  });
  if (c0.server && c1.server) {
    const d = statsDelta(c0.server, c1.server);
    out.server_per_step = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, r3(v / totalSteps)]));
  }
} else if (workload === 'steps-concurrent') {
  // Throughput of durable steps: N runs of STEPS steps each, CONC at a time (closed loop).
  const many = `bench/steps-${STEPS}`;
  await closedLoop(Math.min(CONC, 64), CONC, (k) => runParent(many, -1 - k).then(() => undefined));
  await sleep(1500);
  // The single-commit limit on the same disk, just before and just after: the machine may be shared.
  const limitBefore = sqliteDir ? measureCommitLimit({ dir: sqliteDir, seconds: LIMIT_SECONDS }) : null;
  const c0 = await counters();
  await startProfile();
  const cpu0 = process.cpuUsage();
  const m0 = machineBusySeconds();
  const t0 = performance.now();
  const { result: latencies, delay } = await withLoopDelay(() =>
    closedLoop(N, CONC, async (k) => {
      const output = (await runParent(many, k)) as { s?: number };
      if (output?.s !== STEPS - 1) throw new Error(`bad steps result ${JSON.stringify(output)}`);
    }),
  );
  const totalMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const m1 = machineBusySeconds();
  await stopProfile();
  const c1 = await counters();
  const limitAfter = sqliteDir ? measureCommitLimit({ dir: sqliteDir, seconds: LIMIT_SECONDS }) : null;
  if (limitBefore && limitAfter) {
    const limit = (limitBefore.commitsPerSecond + limitAfter.commitsPerSecond) / 2;
    Object.assign(out, {
      commit_limit_per_s: r3(limit),
      commit_limit_before_after: [limitBefore.commitsPerSecond, limitAfter.commitsPerSecond],
      steps_per_s_over_commit_limit: r3(N * STEPS / (totalMs / 1000) / limit),
    });
  }
  const totalSteps = N * STEPS;
  const transitions = c1.operations - c0.operations;
  const commits = c1.commits - c0.commits;
  Object.assign(out, {
    n: N,
    conc: CONC,
    steps_per_run: STEPS,
    wall_s: r3(totalMs / 1000),
    runs_per_s: r3(N / (totalMs / 1000)),
    steps_per_s: r3(totalSteps / (totalMs / 1000)),
    store_transitions_per_s: r3(transitions / (totalMs / 1000)),
    store_commits_per_s: r3(commits / (totalMs / 1000)),
    transitions_per_commit: r3(transitions / commits),
    transitions_per_step: r3(transitions / totalSteps),
    run_lat_ms: latencySummary(latencies),
    node_cpu_us_per_step: r3((cpu.user + cpu.system) / totalSteps),
    event_loop_delay_ms: delay,
    ...(c1.longestTransactionMs === null ? {} : { longest_transaction_ms: r3(c1.longestTransactionMs), longest_commit_ms: r3(c1.longestCommitMs ?? Number.NaN) }),
    ...(c1.offLoopSyncs === null || c0.offLoopSyncs === null ? {} : { off_loop_sync_share: r3((c1.offLoopSyncs - c0.offLoopSyncs) / Math.max(1, c1.commits - c0.commits)) }),
    machine_busy_cores: m0 !== null && m1 !== null ? r3((m1 - m0) / (totalMs / 1000)) : null,
  });
} else {
  throw new Error(`unknown --workload ${workload}`);
}

if (opt.has('count-promises')) out.promises_per_unit = r3(promisesMade / (workload === 'steps' ? REPS * STEPS : workload === 'steps-concurrent' ? N * STEPS : N));
if (statements.size > 0) {
  const per = workload === 'steps' ? REPS * STEPS : N;
  const total = [...statements.values()].reduce((a, b) => a + b, 0);
  out.statements_per_unit = r3(total / per);
  out.statements = Object.fromEntries([...statements.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, r3(v / per)]));
  out.statement_ms = Object.fromEntries([...statementMs.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, r3(v / per)]));
}

const usage = process.resourceUsage();
out.peak_rss_mb = r3(usage.maxRSS / 1024);
await engine.close();
await stores.close();
await admin?.close();
if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(out)}\n`);
