/**
 * Issue 3, part 4: listRuns over 1,000,000 runs on SQLite and PostgreSQL (list-runs-runner.ts,
 * one fresh process and store each). Returns markdown.
 */
import { fmt, markdownTable } from './measure.js';
import { runMeasurements } from './run-measurements.js';

type Lat = { p50: number; p95: number; p99: number; max: number };
type Pass = { filtered_pages: number; filtered_ms: Lat; unfiltered_pages: number; unfiltered_ms: Lat; first_page_ms: Lat };
type Row = { store: string; runs: number; load: string; load_s: number; load_runs_per_s: number; as_loaded: Pass; after_analyze?: Pass };

/** Runs the listing measurements on the given stores; returns the markdown section body. */
export function benchListRuns(options: { quick: boolean; stores: ('sqlite' | 'pg')[] }): string {
  const runs = options.quick ? 100_000 : 1_000_000;
  const rows = runMeasurements(
    'list-runs',
    options.stores.map((store) => ({ key: store, script: 'bench/list-runs-runner.ts', args: ['--store', store, '--runs', String(runs)] })),
    1,
  ) as unknown as Row[];
  const table: string[][] = [];
  for (const r of rows) {
    const passes: [string, Pass][] = [[r.store === 'pg' ? 'as loaded (no statistics yet)' : 'as loaded', r.as_loaded]];
    if (r.after_analyze) passes.push(['after ANALYZE', r.after_analyze]);
    for (const [name, p] of passes) {
      table.push([
        r.store === 'pg' ? 'PostgreSQL' : 'SQLite',
        name,
        `${p.filtered_pages} pages`,
        fmt(p.filtered_ms.p50),
        fmt(p.filtered_ms.p95),
        fmt(p.filtered_ms.p99),
        fmt(p.filtered_ms.max),
        fmt(p.first_page_ms.p50),
        fmt(p.first_page_ms.p99),
        fmt(p.unfiltered_ms.p50),
        fmt(p.unfiltered_ms.p99),
      ]);
    }
  }
  const loads = rows.map((r) => `${r.store === 'pg' ? 'PostgreSQL' : 'SQLite'}: ${fmt(r.load_s)} s (${fmt(r.load_runs_per_s)} runs/s, ${r.load === 'sql' ? '1,000-row INSERTs from bench code with the store\'s row encoding' : 'the store\'s createRun, 4,096 calls in flight'})`);
  return [
    `${runs.toLocaleString('en')} runs (10 flows × 4 statuses), loaded — ${loads.join('; ')}. Pages of 50, newest first, following the marker; ` +
      `filtered = flowId + status, 3 filters × 200 pages; first page = a fresh query (no marker) for one of the 3 filters, 50 times; unfiltered = 200 pages with no filter. ms per page, measured around \`store.listRuns\` in the process.`,
    '',
    markdownTable(['store', 'statistics', 'filtered', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'first page p50', 'first page p99', 'unfiltered p50', 'unfiltered p99'], table),
    '',
    `Goal < 20 ms per page: ${rows
      .map((r) => {
        const worst = Math.max(r.as_loaded.filtered_ms.p99, r.after_analyze?.filtered_ms.p99 ?? 0, r.as_loaded.unfiltered_ms.p99, r.as_loaded.first_page_ms.p99);
        const settled = (r.after_analyze ?? r.as_loaded).filtered_ms.p99;
        return `${r.store === 'pg' ? 'PostgreSQL' : 'SQLite'} ${settled < 20 ? 'met' : 'NOT met'} (filtered p99 ${fmt(settled)} ms${r.after_analyze ? ' after ANALYZE' : ''}; worst p99 of any pass ${fmt(worst)} ms)`;
      })
      .join('; ')}.`,
  ].join('\n');
}
