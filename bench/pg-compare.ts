/**
 * Issue 3, part 1: flowrun on PostgreSQL against DBOS Transact 5.3.0 on the same server, in the
 * same run, interleaved, each measurement in a fresh process on a fresh database. Returns the
 * markdown of the comparison (medians over the repetitions, and the ratio).
 */
import { fmt, markdownTable, median, spread } from './measure.js';
import { runMeasurements, type MeasurementConfig, type MeasurementResult } from './run-measurements.js';

/** Options of {@link benchPgCompare}. */
export interface PgCompareOptions {
  quick: boolean;
  reps: number;
  /** False when DBOS could not be installed: flowrun alone is measured. */
  withDbos: boolean;
  stepKind: string;
}

type Row = MeasurementResult & {
  engine: string;
  workload: string;
  conc?: number;
  parents_per_s?: number;
  lat_ms?: { p50: number; p95: number; p99: number };
  children_done_s?: number | null;
  node_cpu_us_per_parent?: number;
  other_cpu_us_per_parent?: number;
  server_per_parent?: Record<string, number>;
  server_per_step?: Record<string, number>;
  steps_per_s?: number;
  us_per_step_incl_run?: number;
  us_per_step_marginal?: number;
  one_step_run_ms_mean?: number;
  node_cpu_us_per_step?: number;
  other_cpu_us_per_step?: number;
  peak_rss_mb?: number;
};

/** Runs the comparison; returns its markdown section body. */
export function benchPgCompare(options: PgCompareOptions): string {
  const n = options.quick ? 500 : 2000;
  const warmup = options.quick ? 50 : 100;
  const engines = options.withDbos ? ['flowrun', 'dbos'] : ['flowrun'];
  const script = (engine: string): string => (engine === 'flowrun' ? 'bench/flowrun-runner.ts' : 'bench/dbos-runner.ts');
  const extra = (engine: string): string[] => (engine === 'flowrun' ? ['--store', 'pg', '--step-kind', options.stepKind] : []);
  const configs: MeasurementConfig[] = [];
  for (const workload of ['parent-sync', 'parent-async']) {
    for (const conc of [1, 64]) {
      for (const engine of engines) {
        configs.push({
          key: `${engine}|${workload}|${conc}`,
          script: script(engine),
          args: [...extra(engine), '--workload', workload, '--n', String(n), '--conc', String(conc), '--warmup', String(warmup)],
        });
      }
    }
  }
  for (const engine of engines) configs.push({ key: `${engine}|steps|1`, script: script(engine), args: [...extra(engine), '--workload', 'steps', '--reps', '20', '--steps-per-run', '100'] });
  const rows = runMeasurements('pg-compare', configs, options.reps) as Row[];
  return summarize(rows, { n, reps: options.reps, engines });
}

function summarize(rows: Row[], info: { n: number; reps: number; engines: string[] }): string {
  const of = (engine: string, workload: string, conc = 1): Row[] => rows.filter((r) => r.key === `${engine}|${workload}|${conc}`);
  const med = (rs: Row[], pick: (r: Row) => number | null | undefined): number => median(rs.map(pick));
  const first = rows[0] as Row & { pg_version?: string; pg_settings?: Record<string, string>; dbos_version?: string };
  const dbos = rows.find((r) => r.engine === 'dbos') as (Row & { dbos_version?: string }) | undefined;
  const lines: string[] = [];
  lines.push(
    `N = ${info.n} parents per measurement (after ${rows.find((r) => r.workload !== 'steps')?.warmup ?? '?'} warm-up parents), ${info.reps} repetition(s) interleaved, each cell the median; ` +
      `PostgreSQL ${first.pg_version ?? '?'} (fsync=${first.pg_settings?.fsync}, synchronous_commit=${first.pg_settings?.synchronous_commit}); ` +
      `${dbos ? `DBOS Transact ${dbos.dbos_version}` : 'DBOS not measured'}; flowrun steps: ${first.step_kind ?? rows.find((r) => r.engine === 'flowrun')?.step_kind}.`,
  );
  lines.push('');
  const header = ['workload', 'conc', 'flowrun parents/s', 'DBOS parents/s', 'flowrun ÷ DBOS', 'flowrun p50 ms', 'DBOS p50 ms', 'flowrun p95 ms', 'DBOS p95 ms', 'flowrun p99 ms', 'DBOS p99 ms', 'flowrun children done s', 'DBOS children done s'];
  const table: string[][] = [];
  for (const workload of ['parent-sync', 'parent-async']) {
    for (const conc of [1, 64]) {
      const f = of('flowrun', workload, conc);
      const d = of('dbos', workload, conc);
      const fr = med(f, (r) => r.parents_per_s);
      const dr = med(d, (r) => r.parents_per_s);
      table.push([
        workload,
        String(conc),
        spread(f.map((r) => r.parents_per_s)),
        spread(d.map((r) => r.parents_per_s)),
        d.length ? `${(fr / dr).toFixed(2)}×` : '–',
        fmt(med(f, (r) => r.lat_ms?.p50)),
        fmt(med(d, (r) => r.lat_ms?.p50)),
        fmt(med(f, (r) => r.lat_ms?.p95)),
        fmt(med(d, (r) => r.lat_ms?.p95)),
        spread(f.map((r) => r.lat_ms?.p99)),
        spread(d.map((r) => r.lat_ms?.p99)),
        workload === 'parent-async' ? fmt(med(f, (r) => r.children_done_s)) : '–',
        workload === 'parent-async' ? fmt(med(d, (r) => r.children_done_s)) : '–',
      ]);
    }
  }
  lines.push(markdownTable(header, table));
  lines.push('');
  lines.push('Where the cost goes (medians per parent; "other CPU" is the whole machine minus the benchmark process, i.e. mostly PostgreSQL — and anything else running):');
  lines.push('');
  const costRows: string[][] = [];
  for (const workload of ['parent-sync', 'parent-async']) {
    for (const conc of [1, 64]) {
      for (const engine of info.engines) {
        const rs = of(engine, workload, conc);
        costRows.push([
          workload,
          String(conc),
          engine,
          fmt(med(rs, (r) => r.node_cpu_us_per_parent)),
          fmt(med(rs, (r) => r.other_cpu_us_per_parent)),
          fmt(med(rs, (r) => r.server_per_parent?.xact_commit)),
          fmt(med(rs, (r) => r.server_per_parent?.wal_sync)),
          fmt(med(rs, (r) => r.server_per_parent?.wal_bytes)),
          fmt(med(rs, (r) => r.server_per_parent?.tup_inserted)),
          fmt(med(rs, (r) => r.server_per_parent?.tup_updated)),
          fmt(med(rs, (r) => r.peak_rss_mb)),
        ]);
      }
    }
  }
  lines.push(
    markdownTable(
      ['workload', 'conc', 'engine', 'Node CPU µs', 'other CPU µs', 'server commits', 'WAL fsyncs', 'WAL bytes', 'rows inserted', 'rows updated', 'peak RSS MB'],
      costRows,
    ),
  );
  lines.push('');
  lines.push('One run of 100 sequential steps, 20 times one after the other (conc 1):');
  lines.push('');
  const stepRows = info.engines.map((engine) => {
    const rs = of(engine, 'steps', 1);
    return [
      engine,
      spread(rs.map((r) => r.steps_per_s)),
      fmt(med(rs, (r) => r.us_per_step_incl_run)),
      fmt(med(rs, (r) => r.us_per_step_marginal)),
      fmt(med(rs, (r) => r.one_step_run_ms_mean)),
      fmt(med(rs, (r) => r.node_cpu_us_per_step)),
      fmt(med(rs, (r) => r.other_cpu_us_per_step)),
      fmt(med(rs, (r) => r.server_per_step?.xact_commit)),
      fmt(med(rs, (r) => r.server_per_step?.wal_sync)),
    ];
  });
  lines.push(
    markdownTable(['engine', 'steps/s', 'µs / step (incl. run start+end)', 'marginal µs / step', '1-step run ms', 'Node CPU µs / step', 'other CPU µs / step', 'server commits / step', 'WAL fsyncs / step'], stepRows),
  );
  lines.push('');
  if (info.engines.includes('dbos')) {
    const ratio64 = med(of('flowrun', 'parent-sync', 64), (r) => r.parents_per_s) / med(of('dbos', 'parent-sync', 64), (r) => r.parents_per_s);
    const ratio64a = med(of('flowrun', 'parent-async', 64), (r) => r.parents_per_s) / med(of('dbos', 'parent-async', 64), (r) => r.parents_per_s);
    const p99f = med(of('flowrun', 'parent-sync', 1), (r) => r.lat_ms?.p99);
    const p99d = med(of('dbos', 'parent-sync', 1), (r) => r.lat_ms?.p99);
    const p99fa = med(of('flowrun', 'parent-async', 1), (r) => r.lat_ms?.p99);
    const p99da = med(of('dbos', 'parent-async', 1), (r) => r.lat_ms?.p99);
    lines.push(`Goals: parent runs/s at conc 64 ≥ 3× DBOS — parent-sync ${ratio64.toFixed(2)}× (${ratio64 >= 3 ? 'met' : 'NOT met'}), parent-async ${ratio64a.toFixed(2)}× (${ratio64a >= 3 ? 'met' : 'NOT met'}); ` +
      `p99 at conc 1 ≤ DBOS — parent-sync ${fmt(p99f)} vs ${fmt(p99d)} ms (${p99f <= p99d ? 'met' : 'NOT met'}), parent-async ${fmt(p99fa)} vs ${fmt(p99da)} ms (${p99fa <= p99da ? 'met' : 'NOT met'}).`);
  }
  return lines.join('\n');
}
