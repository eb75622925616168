/**
 * Permission checks (issue 4): run starts per second of a one-step flow whose roles name its
 * starters, started with no permission check (a trusted caller: no `userId`) against the same
 * starts by users who may start it only through a group, in a table of 1,000 principals (900
 * users, 80 groups, 20 service accounts; every user in 3 groups; act-as grants to groups), and
 * the same again with `runAs` a service account (two principal lookups per start). The flow, the
 * store and the engine are the same in all three: the difference is the check alone.
 *
 * Each start is `engine.runAction` (start, execute, wait), 64 at a time. The variants alternate
 * in many short rounds on one engine per store, so drift and other load on the machine hit them
 * all alike; each figure is the median over the rounds. Two figures per variant: wall-clock runs
 * per second, and this process's CPU time per run (user + system) — the steadier of the two on a
 * shared machine, since the work is all in this process. Goal: under 5 % slower with the table.
 *
 *   node --import tsx bench/permissions.ts [--runs 1000] [--rounds 15] [--stores memory,sqlite,sqlite-full,postgres]
 *
 * `postgres` uses a fresh schema on FLOWRUN_BENCH_PG_URL / FLOWRUN_TEST_PG_URL (see pg-admin.ts), dropped after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createEngine, createMemoryStores, createSqliteStore, PostgresStore, type Engine, type FlowDefinition, type Store } from '../src/index.js';
import { adminUrl } from './pg-admin.js';
import { closedLoop, markdownTable, median, readOptions } from './measure.js';

const steps: FlowDefinition['actions'][string] = { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression: '{ok: true}' } } };
const guardedFlow: FlowDefinition = {
  id: 'bench/guarded',
  roles: { administrators: ['group-0'], starters: ['group-17', 'group-42', 'group-77', 'svc-7'], viewers: ['group-5'] },
  actions: { main: steps },
};

/** 1,000 principals: users u-0…u-899 (u-i in groups i%80, (i+1)%80, (i+2)%80), groups group-0…79, svc-0…19. */
async function seedPrincipals(engine: Engine): Promise<void> {
  const p = engine.principals;
  for (let g = 0; g < 80; g++) await p.createGroup({ id: `group-${g}` });
  for (let s = 0; s < 20; s++) await p.createServiceAccount({ id: `svc-${s}` });
  for (let u = 0; u < 900; u++) {
    await p.createUser({ id: `u-${u}` });
    for (let k = 0; k < 3; k++) await p.addMember(`group-${(u + k) % 80}`, `u-${u}`);
  }
  for (let s = 0; s < 20; s++) await p.grantActAs({ serviceAccountId: `svc-${s}`, principalId: `group-${(s * 4) % 80}` });
}

type Variant = 'none' | 'table' | 'table+runAs';

/** Users that start bench/guarded only through group-17: u-i is in group-17 when i % 80 is 15, 16 or 17 (33 of them). */
const groupStarters = Array.from({ length: 900 }, (_, u) => u).filter((u) => [15, 16, 17].includes(u % 80)).map((u) => `u-${u}`);
/** Users that act as svc-7 (a starter) only through group-28: i % 80 is 26, 27 or 28 (33 of them). */
const svcActors = Array.from({ length: 900 }, (_, u) => u).filter((u) => [26, 27, 28].includes(u % 80)).map((u) => `u-${u}`);

/** One start of each variant; consecutive starts rotate through 33 different users. */
function starter(engine: Engine, variant: Variant): (i: number) => Promise<void> {
  const check = (result: { status: string; error?: unknown }): void => {
    if (result.status !== 'SUCCEEDED') throw new Error(`bench run failed: ${JSON.stringify(result.error)}`);
  };
  if (variant === 'none') return async () => check(await engine.runAction({ flow: 'bench/guarded' }));
  if (variant === 'table') return async (i) => check(await engine.runAction({ flow: 'bench/guarded', userId: groupStarters[i % groupStarters.length]! }));
  return async (i) => check(await engine.runAction({ flow: 'bench/guarded', userId: svcActors[i % svcActors.length]!, runAs: 'svc-7' }));
}

/** Result row of one store. */
export interface PermissionBenchRow {
  store: string;
  runs: number;
  rounds: number;
  noChecksRunsPerSec: number;
  withTableRunsPerSec: number;
  runAsRunsPerSec: number;
  noChecksCpuUsPerRun: number;
  withTableCpuUsPerRun: number;
  runAsCpuUsPerRun: number;
  /** CPU per run with the table vs without, in % (positive: slower). */
  withTableSlowerPct: number;
  runAsSlowerPct: number;
}

async function benchStore(name: string, store: Store, runs: number, rounds: number): Promise<PermissionBenchRow> {
  const engine = createEngine({ stores: store, poll: false });
  await engine.deployFlow(guardedFlow, { publish: true });
  await seedPrincipals(engine);
  if ((await store.principals.listPrincipals({ limit: 1000 })).length !== 1000) throw new Error('the principal table is not 1,000 rows');
  const variants: Variant[] = ['none', 'table', 'table+runAs'];
  const rates: Record<Variant, number[]> = { none: [], table: [], 'table+runAs': [] };
  const cpuUs: Record<Variant, number[]> = { none: [], table: [], 'table+runAs': [] };
  for (const variant of variants) await closedLoop(Math.min(500, runs), 64, starter(engine, variant)); // warm-up
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round: no variant always runs first (or right after a GC-heavy one).
    for (const variant of variants.map((_, i) => variants[(i + round) % variants.length]!)) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      await closedLoop(runs, 64, starter(engine, variant));
      const used = process.cpuUsage(cpu);
      rates[variant].push(runs / ((performance.now() - started) / 1000));
      cpuUs[variant].push((used.user + used.system) / runs);
    }
  }
  await engine.close();
  await store.close();
  const cpu = { none: median(cpuUs.none), table: median(cpuUs.table), runAs: median(cpuUs['table+runAs']) };
  const slower = (us: number): number => Math.round((us / cpu.none - 1) * 1000) / 10;
  return {
    store: name,
    runs,
    rounds,
    noChecksRunsPerSec: Math.round(median(rates.none)),
    withTableRunsPerSec: Math.round(median(rates.table)),
    runAsRunsPerSec: Math.round(median(rates['table+runAs'])),
    noChecksCpuUsPerRun: Math.round(cpu.none * 10) / 10,
    withTableCpuUsPerRun: Math.round(cpu.table * 10) / 10,
    runAsCpuUsPerRun: Math.round(cpu.runAs * 10) / 10,
    withTableSlowerPct: slower(cpu.table),
    runAsSlowerPct: slower(cpu.runAs),
  };
}

/** Runs the scenario on the given stores; returns a markdown table. */
export async function benchPermissions(options: { quick?: boolean; runs?: number; rounds?: number; stores?: string[] } = {}): Promise<string> {
  const runs = options.runs ?? (options.quick ? 500 : 1_000);
  const rounds = options.rounds ?? (options.quick ? 5 : 15);
  const rows: PermissionBenchRow[] = [];
  for (const name of options.stores ?? ['memory', 'sqlite']) {
    if (name === 'memory') rows.push(await benchStore('memory', createMemoryStores(), runs, rounds));
    else if (name === 'sqlite' || name === 'sqlite-full') {
      const dir = mkdtempSync(join(tmpdir(), 'flowrun-bench-permissions-'));
      // synchronous=NORMAL: without an fsync per commit the store is fast, so the check's share shows most.
      const synchronous = name === 'sqlite' ? 'NORMAL' : 'FULL';
      try {
        rows.push(await benchStore(`sqlite (${synchronous})`, createSqliteStore({ path: join(dir, 'bench.db'), synchronous }), runs, rounds));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else if (name === 'postgres') {
      const schema = `flowrun_bench_permissions_${process.pid}`;
      try {
        rows.push(await benchStore('postgres', new PostgresStore({ connectionString: adminUrl(), schema }), runs, rounds));
      } finally {
        const admin = new pg.Client({ connectionString: adminUrl() });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
      }
    } else throw new Error(`unknown store "${name}"; choose memory, sqlite, sqlite-full or postgres`);
  }
  return markdownTable(Object.keys(rows[0]!), rows.map((r) => Object.values(r).map(String)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opt = readOptions(process.argv.slice(2));
  console.log(
    await benchPermissions({
      quick: opt.has('quick'),
      runs: opt.num('runs', opt.has('quick') ? 500 : 1_000),
      rounds: opt.num('rounds', opt.has('quick') ? 5 : 15),
      stores: opt.get('stores', 'memory,sqlite').split(','),
    }),
  );
}
