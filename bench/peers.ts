/**
 * Issue 13, the peers: flowrun beside plain functions, Mastra, LangGraph (in process) and
 * beside DBOS, Restate, Mastra + LibSQL, LangGraph + SqliteSaver (durable) on three workload
 * shapes — a parent calling a 3-step child, 100 sequential steps, 1,000 parents 64 at a time.
 * Each measurement runs in a fresh process (peers-runner.ts), engines interleaved, repetitions
 * reversed on even rounds; each cell is the median. Every engine's durability is stated as the
 * engine reported it, and each peer is compared with the flowrun configuration of the same
 * durability (peer-engines.ts). An engine that cannot run here is listed as skipped, with why.
 */
import { loadavg } from 'node:os';
import { diskLimitsTable, measureDiskLimits } from './disk-limits.js';
import { fmt, fmtRatio, markdownTable, median, spread } from './measure.js';
import { checkEngineNames, PEER_ENGINES, matchedFlowrun, peerVersions } from './peer-engines.js';
import { runMeasurements, type MeasurementConfig, type MeasurementResult } from './run-measurements.js';

type Row = MeasurementResult & {
  engine: string;
  workload: string;
  durability?: string;
  runs_per_s?: number;
  us_per_step?: number;
  node_cpu_us_per_run?: number;
  p50_ms?: number;
  p99_ms?: number;
  peak_rss_mb?: number;
  skipped?: string;
  error?: string;
};

/** Options of {@link benchPeers}. */
export interface PeersOptions {
  quick: boolean;
  reps: number;
  /** False when the benchmark PostgreSQL does not answer: its engines are skipped. */
  postgres: boolean;
  /** Engines to measure (default: all of peer-engines.ts). */
  engines?: string[];
}

const WORKLOADS: Record<string, string> = {
  parent1: 'a parent (1 step, a 3-step child it waits for, 1 step), one after the other',
  steps100: 'one run of 100 sequential steps, one after the other',
  parent64: '1,000 parents, 64 in flight (closed loop)',
};

/** Runs the comparison; returns its markdown section body. */
export function benchPeers(options: PeersOptions): string {
  const secs = options.quick ? 1 : 3;
  const engines = options.engines ?? Object.keys(PEER_ENGINES);
  checkEngineNames(engines);
  const configs: MeasurementConfig[] = [];
  const rows: Row[] = [];
  for (const workload of Object.keys(WORKLOADS)) {
    for (const engine of engines) {
      if (PEER_ENGINES[engine]?.needsPostgres && !options.postgres) {
        rows.push({ key: `${engine}|${workload}`, rep: 0, load_before: [], engine, workload, skipped: 'PostgreSQL is not reachable' });
        continue;
      }
      configs.push({ key: `${engine}|${workload}`, script: 'bench/peers-runner.ts', args: ['--engine', engine, '--workload', workload, '--secs', String(secs)] });
    }
  }
  const loadStart = loadavg()[0]!;
  rows.push(...(runMeasurements('peers', configs, options.reps, { nodeArgs: ['--expose-gc'], tolerateFailures: true, reverseEvenReps: true }) as Row[]));
  const lines: string[] = [];
  lines.push(
    `${options.reps} repetition(s) of ≥ ${secs} s each after a warm-up, every measurement a fresh process, engines interleaved (order reversed on even repetitions); each cell the median (min–max). ` +
      `Each step is user code returning \`{s: s + 1, i}\`; a durable engine records its result before the next step. ` +
      `"compared with" is the flowrun configuration of the same durability; the ratio is its runs/s ÷ this engine's (> 1: flowrun faster). ` +
      `flowrun from this checkout's src/; ${peerVersions()}; Node ${process.version}.`,
  );
  for (const [workload, title] of Object.entries(WORKLOADS)) {
    lines.push('', `**${workload}**: ${title}`, '');
    lines.push(markdownTable(['engine', 'kind', 'durability', 'runs/s', 'µs / step', 'p50 ms', 'p99 ms', 'Node CPU µs / run', 'peak RSS MB', 'compared with', 'flowrun ÷ this'], tableRows(rows, engines, workload)));
  }
  lines.push('', 'The disk\'s limits in the same run (the benchmark\'s temp folder; bench/disk-limits.ts):', '');
  lines.push(diskLimitsTable(measureDiskLimits({ syncs: options.quick ? 500 : 3000, commitMs: options.quick ? 1000 : 2000 })));
  const loads = rows.flatMap((r) => (r.load_before.length ? [r.load_before[0]!] : []));
  lines.push('', `Load average (1 min) before each measurement: median ${fmt(median(loads))}, min ${fmt(Math.min(...loads, loadStart))}, max ${fmt(Math.max(...loads, loadStart))}.`);
  return lines.join('\n');
}

function tableRows(rows: Row[], engines: string[], workload: string): string[][] {
  const of = (engine: string): Row[] => rows.filter((r) => r.engine === engine && r.workload === workload);
  const ok = (engine: string): Row[] => of(engine).filter((r) => r.runs_per_s !== undefined);
  return engines.map((engine) => {
    const entry = PEER_ENGINES[engine]!;
    const rs = ok(engine);
    if (rs.length === 0) {
      const why = of(engine).find((r) => r.skipped !== undefined || r.error !== undefined);
      const text = why?.skipped !== undefined ? `skipped: ${why.skipped}` : `failed: ${why?.error ?? 'no result'}`;
      return [entry.label, entry.kind, text, '–', '–', '–', '–', '–', '–', '–', '–'];
    }
    const durability = rs[0]!.durability;
    const match = matchedFlowrun(engine, durability);
    const mine = median(rs.map((r) => r.runs_per_s));
    const theirs = match ? median(ok(match).map((r) => r.runs_per_s)) : Number.NaN;
    const failures = of(engine).filter((r) => r.error !== undefined).length;
    return [
      entry.label,
      entry.kind,
      (durability ?? '?') + (failures ? ` (${failures} failed: ${of(engine).find((r) => r.error)!.error})` : ''),
      spread(rs.map((r) => r.runs_per_s)),
      fmt(median(rs.map((r) => r.us_per_step))),
      fmt(median(rs.map((r) => r.p50_ms))),
      fmt(median(rs.map((r) => r.p99_ms))),
      fmt(median(rs.map((r) => r.node_cpu_us_per_run))),
      fmt(median(rs.map((r) => r.peak_rss_mb))),
      match ? PEER_ENGINES[match]!.label : '–',
      fmtRatio(theirs / mine),
    ];
  });
}
