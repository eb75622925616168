/**
 * Measuring tools shared by the issue-3 scenarios: the closed-loop driver both engines are
 * driven by, percentiles, CPU accounting, command-line options, medians and markdown tables.
 * Nothing here knows about flowrun or DBOS.
 */
import { readFileSync } from 'node:fs';

/** Latency percentile by nearest rank over an ascending array (the peer's definition). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** p50/p95/p99/max/mean of latencies in ms, rounded to µs. */
export function latencySummary(latencies: Float64Array): { p50: number; p95: number; p99: number; max: number; mean: number } {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    p50: r3(percentile(sorted, 50)),
    p95: r3(percentile(sorted, 95)),
    p99: r3(percentile(sorted, 99)),
    max: r3(sorted[sorted.length - 1] ?? Number.NaN),
    mean: r3(sum / sorted.length),
  };
}

/**
 * Closed loop, like the DBOS peer: `concurrency` loops each start a job, await its result, and
 * start the next, until `count` jobs ran. Returns each job's latency (ms, start to result).
 */
export async function closedLoop(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<Float64Array> {
  const latencies = new Float64Array(count);
  let next = 0;
  const loop = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const started = performance.now();
      await job(i);
      latencies[i] = performance.now() - started;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, loop));
  return latencies;
}

/** Whole-machine busy CPU seconds from /proc/stat (all cores); null off Linux. */
export function machineBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (total - idle) / 100; // USER_HZ
  } catch {
    return null;
  }
}

/** Rounds to 3 decimals. */
export function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `--name value` and `--flag` options of a scenario process. */
export function readOptions(argv: string[]): { get(name: string, fallback: string): string; num(name: string, fallback: number): number; has(name: string): boolean } {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length && !argv[i + 1]!.startsWith('--') ? argv[i + 1] : undefined;
  };
  return {
    get: (name, fallback) => value(name) ?? fallback,
    num: (name, fallback) => {
      const v = value(name);
      return v === undefined ? fallback : Number(v);
    },
    has: (name) => argv.includes(`--${name}`),
  };
}

/** The median of the finite values (NaN when there is none). */
export function median(values: (number | null | undefined)[]): number {
  const xs = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

/** A number for a table: thousands separated above 1000, 3 significant-ish digits below. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A ratio for a table: "3.21×", "0.0042×" (two significant digits below 0.1). */
export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return `${x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}×`;
}

/** "median (min–max)" of repeated measurements. */
export function spread(values: (number | null | undefined)[]): string {
  const xs = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (xs.length === 0) return '–';
  if (xs.length === 1) return fmt(xs[0]);
  return `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
}

/** A markdown table from a header and rows of cells. */
export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The last JSON line a scenario process printed on stdout. */
export function lastJsonLine<T>(stdout: string): T | null {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  return line ? (JSON.parse(line) as T) : null;
}

/** The figures both engines report for a closed-loop parent workload (same names, same units). */
export function parentRunFigures(m: {
  n: number;
  conc: number;
  warmup: number;
  parentsMs: number;
  latencies: Float64Array;
  childrenMs: number | null;
  nodeCpuS: number;
  /** Whole-machine busy seconds over the measured phase, when /proc/stat was readable. */
  machineBusy: number | null;
  detectMs: number;
}): Record<string, unknown> {
  return {
    n: m.n,
    conc: m.conc,
    warmup: m.warmup,
    wall_s: r3(m.parentsMs / 1000),
    parents_per_s: r3(m.n / (m.parentsMs / 1000)),
    lat_ms: latencySummary(m.latencies),
    children_done_s: m.childrenMs === null ? null : r3(Math.max(m.childrenMs, 0) / 1000),
    children_per_s: m.childrenMs === null ? null : r3(m.n / (Math.max(m.childrenMs, m.parentsMs) / 1000)),
    node_cpu_us_per_parent: r3((m.nodeCpuS * 1e6) / m.n),
    machine_busy_cores: m.machineBusy === null ? null : r3(m.machineBusy / (m.detectMs / 1000)),
    other_cpu_us_per_parent: m.machineBusy === null ? null : r3(((m.machineBusy - m.nodeCpuS) * 1e6) / m.n),
  };
}

/** The figures both engines report for runs of many sequential steps (same names, same units). */
export function stepRunFigures(m: {
  reps: number;
  steps: number;
  totalMs: number;
  /** Latencies (ms) of one-step runs and of full runs. */
  oneLat: number[];
  runLat: number[];
  nodeCpuUs: number;
  /** Whole-machine busy seconds over the measured phase, when /proc/stat was readable. */
  machineBusy: number | null;
}): Record<string, unknown> {
  const totalSteps = m.reps * m.steps;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    reps: m.reps,
    steps_per_run: m.steps,
    wall_s: r3(m.totalMs / 1000),
    steps_per_s: r3(totalSteps / (m.totalMs / 1000)),
    us_per_step_incl_run: r3((m.totalMs * 1000) / totalSteps),
    one_step_run_ms_mean: r3(mean(m.oneLat)),
    us_per_step_marginal: r3(((mean(m.runLat) - mean(m.oneLat)) * 1000) / (m.steps - 1)),
    run_ms: { mean: r3(mean(m.runLat)), min: r3(Math.min(...m.runLat)), max: r3(Math.max(...m.runLat)) },
    node_cpu_us_per_step: r3(m.nodeCpuUs / totalSteps),
    other_cpu_us_per_step: m.machineBusy === null ? null : r3((m.machineBusy * 1e6 - m.nodeCpuUs) / totalSteps),
  };
}

/** The two sides of an A/B in the order of round `round` (from 1): as given in odd rounds, swapped in even ones, so neither always runs first. */
export function abOrder<S>(round: number, first: S, second: S): [S, S] {
  return round % 2 === 1 ? [first, second] : [second, first];
}
