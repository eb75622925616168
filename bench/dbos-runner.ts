/**
 * One measurement of DBOS Transact (the peer of issue 3), in a fresh process, on a fresh
 * database; prints ONE JSON line with the same fields as flowrun-runner.ts.
 *
 *   node --import tsx bench/dbos-runner.ts --workload parent-sync --n 2000 --conc 64
 *   node --import tsx bench/dbos-runner.ts --workload steps --reps 20
 *
 * Uses only DBOS's public v5 API (setConfig, registerWorkflow, runStep, startWorkflow,
 * getResult, launch, shutdown), from `bench/node_modules` (`npm ci --prefix bench`). The SDK is
 * imported by a computed name so that type checking the repository never needs it installed.
 * Re-creates database `flowrun_bench_dbos` (see pg-admin.ts) as DBOS's system database.
 */
import { readFileSync } from 'node:fs';
import { closedLoop, machineBusySeconds, parentRunFigures, r3, stepRunFigures, readOptions, sleep } from './measure.js';
import { PgAdmin, statsDelta } from './pg-admin.js';

/** The part of DBOS's API this driver calls. */
interface Dbos {
  setConfig(config: { name: string; systemDatabaseUrl: string; logLevel?: string }): void;
  registerWorkflow<A extends unknown[], R>(fn: (...args: A) => Promise<R>, options: { name: string }): (...args: A) => Promise<R>;
  runStep<R>(fn: () => Promise<R>, options: { name: string }): Promise<R>;
  startWorkflow<A extends unknown[], R>(workflow: (...args: A) => Promise<R>): (...args: A) => Promise<{ workflowID: string; getResult(): Promise<R> }>;
  launch(): Promise<void>;
  shutdown(): Promise<void>;
}

const SDK: string = '@dbos-inc/dbos-sdk';
const opt = readOptions(process.argv.slice(2));
const workload = opt.get('workload', 'parent-sync');
const N = opt.num('n', 2000);
const CONC = opt.num('conc', 1);
const WARMUP = opt.num('warmup', 100);
const REPS = opt.num('reps', 20);
const STEPS = opt.num('steps-per-run', 100);

const admin = await PgAdmin.freshDatabase('flowrun_bench_dbos');
const { DBOS } = (await import(SDK)) as { DBOS: Dbos };
const sdkVersion = (JSON.parse(readFileSync(new URL('./node_modules/@dbos-inc/dbos-sdk/package.json', import.meta.url), 'utf8')) as { version: string }).version;
DBOS.setConfig({ name: 'flowrun-bench', systemDatabaseUrl: admin.url, logLevel: 'warn' });

// The workflows: the same shapes as bench-flows.ts (3-step child; parent = step, call, step).
const child = DBOS.registerWorkflow(
  async (i: number) => {
    const a = await DBOS.runStep(async () => ({ s: 1, i }), { name: 'c1' });
    const b = await DBOS.runStep(async () => ({ s: 2, i }), { name: 'c2' });
    const c = await DBOS.runStep(async () => ({ s: 3, i }), { name: 'c3' });
    return { ...c, sum: a.s + b.s + c.s };
  },
  { name: 'child' },
);
const parentSync = DBOS.registerWorkflow(
  async (i: number) => {
    await DBOS.runStep(async () => ({ s: 1, i }), { name: 'p1' });
    const handle = await DBOS.startWorkflow(child)(i);
    const result = await handle.getResult(); // call-and-return
    return DBOS.runStep(async () => ({ s: 2, i, child: result }), { name: 'p2' });
  },
  { name: 'parentSync' },
);
const parentAsync = DBOS.registerWorkflow(
  async (i: number) => {
    const handle = await DBOS.startWorkflow(child)(i); // fire-and-forget
    return handle.workflowID;
  },
  { name: 'parentAsync' },
);
const manySteps = DBOS.registerWorkflow(
  async (k: number) => {
    let last = { s: -1, k };
    for (let j = 0; j < STEPS; j++) last = await DBOS.runStep(async () => ({ s: j, k }), { name: 's' });
    return last;
  },
  { name: 'manySteps' },
);
const oneStep = DBOS.registerWorkflow(async (k: number) => DBOS.runStep(async () => ({ s: 0, k }), { name: 's' }), { name: 'oneStep' });

await DBOS.launch();

/** Children that ended, failed, and the latest end time (DBOS's completed_at, same host clock). */
async function childProgress(): Promise<{ ok: number; bad: number; last: number }> {
  const { rows } = await admin.query<{ ok: number; bad: number; last: string | null }>(
    `SELECT count(*) FILTER (WHERE status = 'SUCCESS')::int AS ok,
            count(*) FILTER (WHERE status IN ('ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED'))::int AS bad,
            max(completed_at)::bigint AS last
       FROM dbos.workflow_status WHERE name = 'child'`,
  );
  return { ok: rows[0]!.ok, bad: rows[0]!.bad, last: Number(rows[0]!.last) };
}
async function waitChildren(expected: number, timeoutMs = 600_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const p = await childProgress();
    if (p.bad > 0) throw new Error(`${p.bad} child workflows failed`);
    if (p.ok >= expected) return p.last;
    if (Date.now() - started > timeoutMs) throw new Error(`timeout waiting for children: ${p.ok}/${expected}`);
    await sleep(10);
  }
}

const described = await admin.describe();
const out: Record<string, unknown> = { engine: 'dbos', dbos_version: sdkVersion, workload, node: process.version, pg_version: described.version, pg_settings: described.settings };

if (workload === 'parent-sync' || workload === 'parent-async') {
  const isSync = workload === 'parent-sync';
  const job = isSync
    ? async (i: number) => {
        const r = (await (await DBOS.startWorkflow(parentSync)(i)).getResult()) as { s: number; i: number; child: { s: number; i: number; sum: number } };
        if (r.s !== 2 || r.i !== i || r.child.i !== i || r.child.sum !== 6) throw new Error(`bad result ${JSON.stringify(r)}`);
      }
    : async (i: number) => {
        const id = await (await DBOS.startWorkflow(parentAsync)(i)).getResult();
        if (typeof id !== 'string' || id === '') throw new Error(`bad child id ${String(id)}`);
      };
  await closedLoop(WARMUP, CONC, (k) => job(1_000_000 + k));
  await waitChildren(WARMUP);
  await sleep(1500); // let the backends flush their statistics
  const s0 = await admin.stats();
  const startEpoch = Date.now();
  const cpu0 = process.cpuUsage();
  const m0 = machineBusySeconds();
  const t0 = performance.now();
  const latencies = await closedLoop(N, CONC, job);
  const parentsMs = performance.now() - t0;
  let childrenMs: number | null = null;
  let detectMs = parentsMs;
  if (!isSync) {
    childrenMs = (await waitChildren(WARMUP + N)) - startEpoch;
    detectMs = performance.now() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  const m1 = machineBusySeconds();
  await sleep(1500);
  const s1 = await admin.stats();
  const { rows: ended } = await admin.query<{ name: string; status: string; c: number }>(`SELECT name, status, count(*)::int AS c FROM dbos.workflow_status GROUP BY 1, 2`);
  for (const row of ended) {
    if (row.status !== 'SUCCESS' || row.c !== N + WARMUP) throw new Error(`bad end state: ${JSON.stringify(ended)}`);
  }
  const nodeCpuS = (cpu.user + cpu.system) / 1e6;
  const d = statsDelta(s0, s1);
  Object.assign(out, {
    ...parentRunFigures({ n: N, conc: CONC, warmup: WARMUP, parentsMs, latencies, childrenMs, nodeCpuS, machineBusy: m0 !== null && m1 !== null ? m1 - m0 : null, detectMs }),
    server_per_parent: Object.fromEntries(Object.entries(d).map(([k, v]) => [k, r3(v / N)])),
  });
} else if (workload === 'steps') {
  for (let k = 0; k < 3; k++) await manySteps(-1 - k);
  for (let k = 0; k < 20; k++) await oneStep(-1 - k);
  await sleep(1500);
  const oneLat: number[] = [];
  for (let k = 0; k < REPS; k++) {
    const a = performance.now();
    await oneStep(k);
    oneLat.push(performance.now() - a);
  }
  await sleep(500);
  const s0 = await admin.stats();
  const cpu0 = process.cpuUsage();
  const m0 = machineBusySeconds();
  const t0 = performance.now();
  const runLat: number[] = [];
  for (let k = 0; k < REPS; k++) {
    const a = performance.now();
    const r = await manySteps(k);
    if (r.s !== STEPS - 1) throw new Error(`bad steps result ${JSON.stringify(r)}`);
    runLat.push(performance.now() - a);
  }
  const totalMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const m1 = machineBusySeconds();
  await sleep(1500);
  const s1 = await admin.stats();
  const totalSteps = REPS * STEPS;
  const nodeCpuUs = cpu.user + cpu.system;
  const d = statsDelta(s0, s1);
  Object.assign(out, {
    ...stepRunFigures({ reps: REPS, steps: STEPS, totalMs, oneLat, runLat, nodeCpuUs, machineBusy: m0 !== null && m1 !== null ? m1 - m0 : null }),
    server_per_step: Object.fromEntries(Object.entries(d).map(([k, v]) => [k, r3(v / totalSteps)])),
  });
} else {
  throw new Error(`unknown --workload ${workload}`);
}

out.peak_rss_mb = r3(process.resourceUsage().maxRSS / 1024);
await DBOS.shutdown();
await admin.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
