/**
 * Issue 13, cost growth: does a step cost more when the run is longer or carries more? µs per
 * step for runs of 10, 100 and 1,000 steps (1 KiB input) and for inputs of 1 KiB, 100 KiB and
 * 1 MiB (100 steps), on flowrun's memory, SQLite and PostgreSQL stores with DBOS and Mastra beside
 * them; the bytes written per step; and the two ratios the issue's goals use — 1 MiB ÷ 1 KiB and
 * 1,000 ÷ 10 steps, per engine. Each measurement is a fresh process (growth-runner.ts), engines
 * interleaved, repetitions reversed on even rounds; each cell the median.
 */
import { fmt, fmtRatio, markdownTable, median } from './measure.js';
import { checkEngineNames, PEER_ENGINES, peerVersions } from './peer-engines.js';
import { runMeasurements, type MeasurementConfig, type MeasurementResult } from './run-measurements.js';

type Row = MeasurementResult & {
  engine: string;
  steps: number;
  input_kib: number;
  durability?: string;
  us_per_step?: number;
  node_cpu_us_per_step?: number;
  process_write_kib_per_step?: number;
  server_wal_kib_per_step?: number | null;
  skipped?: string;
  error?: string;
};

/** Options of {@link benchGrowth}. */
export interface GrowthOptions {
  quick: boolean;
  reps: number;
  /** False when the benchmark PostgreSQL does not answer: its engines are skipped. */
  postgres: boolean;
  /**
   * Engines to measure (default: flowrun's three stores, DBOS, Mastra with its memory store, and
   * — not in quick mode, where its 1 MiB cell alone takes two minutes — Mastra + LibSQL).
   */
  engines?: string[];
}

const GROWTH_ENGINES = ['flowrun-memory', 'flowrun-memory-frozen', 'flowrun-sqlite-full', 'flowrun-pg', 'dbos', 'mastra-memory', 'mastra-libsql'];
const CELLS = [
  { steps: 10, kib: 1 },
  { steps: 100, kib: 1 },
  { steps: 1000, kib: 1 },
  { steps: 100, kib: 100 },
  { steps: 100, kib: 1024 },
];
const cellName = (c: { steps: number; kib: number }): string => `${c.steps.toLocaleString('en')} steps, ${c.kib >= 1024 ? `${c.kib / 1024} MiB` : `${c.kib} KiB`}`;

/** Runs the measurement; returns its markdown section body. */
export function benchGrowth(options: GrowthOptions): string {
  const secs = options.quick ? 1 : 2;
  const minRuns = options.quick ? 1 : 2;
  const ENGINES = options.engines ?? GROWTH_ENGINES.filter((e) => !(options.quick && e === 'mastra-libsql'));
  checkEngineNames(ENGINES);
  const configs: MeasurementConfig[] = [];
  const rows: Row[] = [];
  for (const cell of CELLS) {
    for (const engine of ENGINES) {
      const key = `${engine}|${cell.steps}|${cell.kib}`;
      if (PEER_ENGINES[engine]?.needsPostgres && !options.postgres) {
        rows.push({ key, rep: 0, load_before: [], engine, steps: cell.steps, input_kib: cell.kib, skipped: 'PostgreSQL is not reachable' });
        continue;
      }
      configs.push({ key, script: 'bench/growth-runner.ts', args: ['--engine', engine, '--steps', String(cell.steps), '--input-kib', String(cell.kib), '--secs', String(secs), '--min-runs', String(minRuns)] });
    }
  }
  rows.push(...(runMeasurements('growth', configs, options.reps, { nodeArgs: ['--expose-gc', '--max-old-space-size=4096'], tolerateFailures: true, reverseEvenReps: true }) as Row[]));
  const cellRows = (engine: string, cell: { steps: number; kib: number }): Row[] => rows.filter((r) => r.engine === engine && r.steps === cell.steps && r.input_kib === cell.kib);
  const med = (engine: string, cell: { steps: number; kib: number }, pick: (r: Row) => number | null | undefined): number =>
    median(cellRows(engine, cell).filter((r) => r.us_per_step !== undefined).map(pick));
  const why = (engine: string): string | null => {
    const r = rows.find((x) => x.engine === engine && (x.skipped !== undefined || x.error !== undefined));
    return r ? (r.skipped !== undefined ? `skipped: ${r.skipped}` : `failed: ${r.error}`) : null;
  };
  const ratio = (a: number, b: number): string => fmtRatio(a / b);
  const [c10, c100, c1000, , cMiB] = CELLS as [(typeof CELLS)[0], (typeof CELLS)[0], (typeof CELLS)[0], (typeof CELLS)[0], (typeof CELLS)[0]];
  const lines: string[] = [];
  lines.push(
    `${options.reps} repetition(s) of ≥ ${secs} s (≥ ${minRuns} run${minRuns > 1 ? 's' : ''}) each after a warm-up, runs one after the other, every measurement a fresh process, engines interleaved; each cell the median. ` +
      'The input carries a payload of order lines that no step reads; each step is user code returning `{s: s + 1, i}`. ' +
      `flowrun from this checkout's src/; ${peerVersions()}.` +
      (options.quick && !options.engines ? ' Quick mode leaves Mastra + LibSQL out (383 ms a step at 1 MiB: two minutes for that cell alone).' : ''),
  );
  lines.push('', '**µs per step** (1,000 ÷ 10 and 1 MiB ÷ 1 KiB: the goals of issue 13 — ≤ 1.2× and ≤ 2× on every flowrun store)', '');
  lines.push(
    markdownTable(
      ['engine', 'durability', ...CELLS.map(cellName), '1,000 ÷ 10 steps', '1 MiB ÷ 1 KiB'],
      ENGINES.map((engine) => {
        const us = CELLS.map((c) => med(engine, c, (r) => r.us_per_step));
        const durability = rows.find((r) => r.engine === engine && r.durability)?.durability ?? why(engine) ?? '?';
        return [PEER_ENGINES[engine]!.label, durability, ...us.map((u) => fmt(u)), ratio(us[2]!, us[0]!), ratio(us[4]!, us[1]!)];
      }),
    ),
  );
  lines.push('', '**KiB written per step**: by the process (`/proc/self/io` write_bytes: the SQLite files) / by the PostgreSQL server (advance of `pg_current_wal_lsn()`, cluster-wide: other clients of that server count too)', '');
  lines.push(
    markdownTable(
      ['engine', ...CELLS.map(cellName), '1 MiB ÷ 1 KiB'],
      ENGINES.map((engine) => {
        const bytes = (c: (typeof CELLS)[0]): number => {
          const proc = med(engine, c, (r) => r.process_write_kib_per_step);
          const wal = med(engine, c, (r) => r.server_wal_kib_per_step);
          return (Number.isFinite(proc) ? proc : 0) + (Number.isFinite(wal) ? wal : 0);
        };
        const cells = CELLS.map((c) => {
          const wal = med(engine, c, (r) => r.server_wal_kib_per_step);
          return `${fmt(med(engine, c, (r) => r.process_write_kib_per_step))}${Number.isFinite(wal) ? ` / ${fmt(wal)}` : ''}`;
        });
        return [PEER_ENGINES[engine]!.label, ...cells, ratio(bytes(cMiB), bytes(c100))];
      }),
    ),
  );
  lines.push('', '**Node CPU µs per step**', '');
  lines.push(markdownTable(['engine', ...CELLS.map(cellName)], ENGINES.map((engine) => [PEER_ENGINES[engine]!.label, ...CELLS.map((c) => fmt(med(engine, c, (r) => r.node_cpu_us_per_step)))])));
  const goals = ENGINES.filter((e) => e.startsWith('flowrun')).map((engine) => {
    const steps = med(engine, c1000, (r) => r.us_per_step) / med(engine, c10, (r) => r.us_per_step);
    const size = med(engine, cMiB, (r) => r.us_per_step) / med(engine, c100, (r) => r.us_per_step);
    if (!Number.isFinite(steps) || !Number.isFinite(size)) return `${PEER_ENGINES[engine]!.label}: not measured`;
    return `${PEER_ENGINES[engine]!.label} — 1,000 ÷ 10 steps ${steps.toFixed(2)}× (${steps <= 1.2 ? 'met' : 'NOT met'}), 1 MiB ÷ 1 KiB ${size.toFixed(2)}× (${size <= 2 ? 'met' : 'NOT met'})`;
  });
  lines.push('', `Goals: ${goals.join('; ')}.`);
  const loads = rows.flatMap((r) => (r.load_before.length ? [r.load_before[0]!] : []));
  lines.push('', `Load average (1 min) before each measurement: median ${fmt(median(loads))}, min ${fmt(Math.min(...loads))}, max ${fmt(Math.max(...loads))}.`);
  return lines.join('\n');
}
