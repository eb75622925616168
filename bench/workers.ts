/**
 * Parents/s on PostgreSQL with 1, 2 and 3 worker processes at the same total concurrency: the
 * production layout of the README (*Roles*) — runs recorded by a process that executes none (an API
 * process), executed by separate workers — measured as the time a backlog of N `bench/parent-sync`
 * runs (a parent and the child it calls and waits for: 2 runs, 4 steps) takes to drain.
 *
 *   node --import tsx bench/workers.ts --workers 1,2,3 --n 2000 --conc 64 --rounds 4
 *
 * Options: --workers (worker counts to compare, each round runs them all in turn: interleaved
 * rounds on a shared machine), --n parents per measurement, --conc total runs executed at once
 * (split evenly over the workers), --rounds, --pg-db NAME (re-created for every measurement, default
 * flowrun_bench_workers: never share it with another runner). Prints one JSON line per measurement,
 * then a Markdown table: parents/s, and CPU per parent (the workers' own, and the PostgreSQL
 * backends', from /proc) — median (min–max) over the rounds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { createEngine, createPostgresStores } from '../src/index.js';
import { benchFlows } from './bench-flows.js';
import { closedLoop, machineBusySeconds, markdownTable, median, r3, readOptions, sleep, spread } from './measure.js';
import { PgAdmin, statsDelta } from './pg-admin.js';

const opt = readOptions(process.argv.slice(2));
const WORKERS = opt.get('workers', '1,2,3').split(',').map(Number);
const N = opt.num('n', 2000);
const CONC = opt.num('conc', 64);
const ROUNDS = opt.num('rounds', 4);
const DB = opt.get('pg-db', 'flowrun_bench_workers');
const root = resolve(import.meta.dirname, '..');

interface Measurement {
  workers: number;
  n: number;
  conc: number;
  wall_s: number;
  parents_per_s: number;
  worker_cpu_us_per_parent: number;
  pg_backend_cpu_us_per_parent: number;
  machine_busy_cores: number | null;
}

/** Spawns a worker with `concurrency` slots; resolves once it has opened the store. */
async function spawnWorker(url: string, concurrency: number): Promise<{ child: ChildProcess; lines: AsyncIterator<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/workers-child.ts'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_BENCH_URL: url, FLOWRUN_BENCH_CONCURRENCY: String(concurrency) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'ready') throw new Error(`worker said ${String(first.value)}`);
  return { child, lines };
}

async function measure(workers: number): Promise<Measurement> {
  const admin = await PgAdmin.freshDatabase(DB);
  const stores = createPostgresStores({ connectionString: admin.url, schema: 'flowrun' });
  // The recording side executes nothing (maxConcurrentRuns 0): an API process.
  const api = createEngine({ stores, maxConcurrentRuns: 0, poll: false });
  for (const flow of benchFlows('module')) await api.deployFlow(flow, { publish: true });
  await closedLoop(N, 32, async (i) => void (await api.startRun({ flow: 'bench/parent-sync', input: { i } })));
  const shares = Array.from({ length: workers }, (_, k) => Math.floor(CONC / workers) + (k < CONC % workers ? 1 : 0));
  const procs = await Promise.all(shares.map((c) => spawnWorker(admin.url, c)));
  await sleep(1000);
  const s0 = await admin.stats();
  const m0 = machineBusySeconds();
  const t0 = performance.now();
  for (const p of procs) p.child.stdin!.write('go\n');
  for (;;) {
    await sleep(50);
    if ((await stores.countRuns({ flowId: 'bench/parent-sync', status: 'SUCCEEDED' })) === N) break;
  }
  const wallMs = performance.now() - t0;
  const m1 = machineBusySeconds();
  const s1 = await admin.stats();
  for (const p of procs) p.child.stdin!.write('stop\n');
  const cpus = await Promise.all(procs.map(async (p) => (JSON.parse((await p.lines.next()).value as string) as { cpu_us: number }).cpu_us));
  await Promise.all(procs.map((p) => new Promise((exited) => (p.child.stdin!.end(), p.child.exitCode !== null ? exited(null) : p.child.once('exit', exited)))));
  const failed = await stores.countRuns({ status: 'FAILED' });
  await api.close();
  await stores.close();
  await admin.close();
  if (failed > 0) throw new Error(`${failed} runs FAILED`);
  const d = statsDelta(s0, s1);
  return {
    workers,
    n: N,
    conc: CONC,
    wall_s: r3(wallMs / 1000),
    parents_per_s: r3(N / (wallMs / 1000)),
    worker_cpu_us_per_parent: r3(cpus.reduce((a, b) => a + b, 0) / N),
    pg_backend_cpu_us_per_parent: r3(d.backend_cpu_us / N),
    machine_busy_cores: m0 === null || m1 === null ? null : r3((m1 - m0) / (wallMs / 1000)),
  };
}

const all: Measurement[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const w of WORKERS) {
    const m = await measure(w);
    all.push(m);
    process.stdout.write(`${JSON.stringify({ round, ...m })}\n`);
  }
}
process.stdout.write(
  `\n${markdownTable(
    ['workers', `parents/s: median (min–max), ${ROUNDS} rounds`, 'worker CPU µs/parent', 'PostgreSQL backends CPU µs/parent', 'machine busy cores (median)'],
    WORKERS.map((w) => {
      const ms = all.filter((m) => m.workers === w);
      return [String(w), spread(ms.map((m) => m.parents_per_s)), spread(ms.map((m) => m.worker_cpu_us_per_parent)), spread(ms.map((m) => m.pg_backend_cpu_us_per_parent)), String(median(ms.map((m) => m.machine_busy_cores)))];
    }),
  )}\n`,
);
