/**
 * Issue 3, part 2: flowrun on SQLite with default durability (WAL, synchronous=FULL): parent
 * runs/s and latency at conc 1 and 64, and durable step transitions per second. Returns markdown.
 */
import { fmt, markdownTable, median, spread } from './measure.js';
import { runMeasurements, type MeasurementConfig, type MeasurementResult } from './run-measurements.js';

type Row = MeasurementResult & {
  workload: string;
  parents_per_s?: number;
  lat_ms?: { p50: number; p95: number; p99: number };
  run_lat_ms?: { p50: number; p95: number; p99: number };
  children_done_s?: number | null;
  node_cpu_us_per_parent?: number;
  store_commits_per_parent?: number;
  store_transitions_per_parent?: number;
  steps_per_s?: number;
  us_per_step_incl_run?: number;
  us_per_step_marginal?: number;
  store_commits_per_step?: number;
  store_transitions_per_step?: number;
  store_transitions_per_s?: number;
  store_commits_per_s?: number;
  transitions_per_commit?: number;
  transitions_per_step?: number;
  runs_per_s?: number;
  node_cpu_us_per_step?: number;
  machine_busy_cores?: number;
  peak_rss_mb?: number;
  commit_limit_per_s?: number;
  steps_per_s_over_commit_limit?: number;
};

/** Runs the SQLite measurements; returns the markdown section body. */
export function benchSqlite(options: { quick: boolean; reps: number; stepKind: string }): string {
  const n = options.quick ? 500 : 2000;
  const warmup = options.quick ? 50 : 100;
  const concurrentRuns = options.quick ? 192 : 640;
  const base = ['--store', 'sqlite', '--step-kind', options.stepKind];
  const configs: MeasurementConfig[] = [];
  for (const workload of ['parent-sync', 'parent-async']) {
    for (const conc of [1, 64]) {
      configs.push({ key: `${workload}|${conc}`, script: 'bench/flowrun-runner.ts', args: [...base, '--workload', workload, '--n', String(n), '--conc', String(conc), '--warmup', String(warmup)] });
    }
  }
  configs.push({ key: 'steps|1', script: 'bench/flowrun-runner.ts', args: [...base, '--workload', 'steps', '--reps', '20', '--steps-per-run', '100'] });
  configs.push({
    key: 'steps-concurrent|64',
    script: 'bench/flowrun-runner.ts',
    args: [...base, '--workload', 'steps-concurrent', '--n', String(concurrentRuns), '--conc', '64', '--steps-per-run', '100'],
  });
  const other = options.stepKind === 'module' ? 'compute' : 'module';
  configs.push({
    key: 'steps-concurrent-other|64',
    script: 'bench/flowrun-runner.ts',
    args: ['--store', 'sqlite', '--step-kind', other, '--workload', 'steps-concurrent', '--n', String(concurrentRuns), '--conc', '64', '--steps-per-run', '100'],
  });
  const rows = runMeasurements('sqlite', configs, options.reps) as Row[];
  const of = (key: string): Row[] => rows.filter((r) => r.key === key);
  const med = (rs: Row[], pick: (r: Row) => number | null | undefined): number => median(rs.map(pick));
  const lines: string[] = [];
  lines.push(`N = ${n} parents per measurement (after ${warmup} warm-up parents), ${options.reps} repetition(s) interleaved, median (min–max); steps: ${options.stepKind}; one fresh database file per measurement.`);
  lines.push('');
  const parentRows: string[][] = [];
  for (const workload of ['parent-sync', 'parent-async']) {
    for (const conc of [1, 64]) {
      const rs = of(`${workload}|${conc}`);
      parentRows.push([
        workload,
        String(conc),
        spread(rs.map((r) => r.parents_per_s)),
        fmt(med(rs, (r) => r.lat_ms?.p50)),
        fmt(med(rs, (r) => r.lat_ms?.p95)),
        spread(rs.map((r) => r.lat_ms?.p99)),
        workload === 'parent-async' ? fmt(med(rs, (r) => r.children_done_s)) : '–',
        fmt(med(rs, (r) => r.store_transitions_per_parent)),
        fmt(med(rs, (r) => r.store_commits_per_parent)),
        fmt(med(rs, (r) => r.node_cpu_us_per_parent)),
        fmt(med(rs, (r) => r.peak_rss_mb)),
      ]);
    }
  }
  lines.push(
    markdownTable(
      ['workload', 'conc', 'parents/s', 'p50 ms', 'p95 ms', 'p99 ms', 'children done s', 'store writes / parent', 'commits (fsyncs) / parent', 'Node CPU µs / parent', 'peak RSS MB'],
      parentRows,
    ),
  );
  lines.push('');
  const seq = of('steps|1');
  const con = of('steps-concurrent|64');
  const con2 = of('steps-concurrent-other|64');
  const concurrentRow = (label: string, rs: Row[]): string[] => [
    label,
    spread(rs.map((r) => r.steps_per_s)),
    spread(rs.map((r) => r.store_transitions_per_s)),
    fmt(med(rs, (r) => r.store_commits_per_s)),
    fmt(med(rs, (r) => r.transitions_per_commit)),
    fmt(med(rs, (r) => r.transitions_per_step)),
    fmt(med(rs, (r) => 1e6 / (r.steps_per_s ?? Number.NaN))),
    fmt(med(rs, (r) => r.node_cpu_us_per_step)),
    fmt(med(rs, (r) => r.machine_busy_cores)),
    fmt(med(rs, (r) => r.commit_limit_per_s)),
    spread(rs.map((r) => r.steps_per_s_over_commit_limit)),
  ];
  lines.push(
    markdownTable(
      ['steps workload', 'steps/s', 'store writes/s', 'commits/s', 'writes / commit', 'writes / step', 'µs / step', 'Node CPU µs / step', 'busy cores', 'single-commit limit /s', 'steps/s ÷ limit'],
      [
        [
          '1 run × 100 steps, 20 times in a row (conc 1)',
          spread(seq.map((r) => r.steps_per_s)),
          fmt(med(seq, (r) => (r.steps_per_s ?? 0) * (r.store_transitions_per_step ?? 0))),
          fmt(med(seq, (r) => (r.steps_per_s ?? 0) * (r.store_commits_per_step ?? 0))),
          fmt(med(seq, (r) => (r.store_transitions_per_step ?? 0) / (r.store_commits_per_step ?? 1))),
          fmt(med(seq, (r) => r.store_transitions_per_step)),
          fmt(med(seq, (r) => r.us_per_step_incl_run)),
          fmt(med(seq, (r) => r.node_cpu_us_per_step)),
          '–',
          '–',
          '–',
        ],
        concurrentRow(`${concurrentRuns} runs × 100 ${options.stepKind} steps, 64 at a time`, con),
        concurrentRow(`${concurrentRuns} runs × 100 ${other} steps, 64 at a time`, con2),
      ],
    ),
  );
  lines.push('');
  lines.push(
    `*single-commit limit*: one-row transactions/s in a loop, WAL and synchronous=FULL, in the measurement's own directory right before and right after its workload (bench/commit-limit.ts; the mean of the two). ` +
      `Goal (issue 13), ${options.stepKind} steps at 64 runs: steps/s ≥ 1.5 × that limit — ${spread(con.map((r) => r.steps_per_s_over_commit_limit))} × here.`,
  );
  lines.push('');
  for (const [kind, rs] of [
    [options.stepKind, con],
    [other, con2],
  ] as const) {
    const tps = med(rs, (r) => r.store_transitions_per_s);
    const sps = med(rs, (r) => r.steps_per_s);
    lines.push(
      `Goal ≥ 10,000 durable step transitions/s, ${kind} steps: ${fmt(tps)} store writes/s (SqliteStore \`stats.operations\`: every committed write, step or not) — ${tps >= 10_000 ? 'met' : 'NOT met'} counted that way; ` +
        `${fmt(sps)} steps completed/s — ${sps >= 10_000 ? 'met' : 'NOT met'} counted as steps.`,
    );
    lines.push('');
  }
  return lines.join('\n');
}
