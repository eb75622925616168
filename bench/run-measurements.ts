/**
 * Runs measurement processes (flowrun-runner.ts, dbos-runner.ts, …) one at a time, each in a
 * fresh Node process, repetitions interleaved (rep 1 of every configuration, then rep 2, …) so
 * a slow drift of the machine spreads over all configurations instead of biasing one. Every
 * result line is appended to bench/out/<label>.jsonl with the machine's load average.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { lastJsonLine } from './measure.js';

/** One configuration: a runner script and its arguments. */
export interface MeasurementConfig {
  /** Groups repetitions of the same configuration in the summary. */
  key: string;
  script: string;
  args: string[];
}

/** A result line, with the configuration and repetition it came from. */
export type MeasurementResult = Record<string, unknown> & { key: string; rep: number; load_before: number[] };

/** How {@link runMeasurements} runs the processes. */
export interface MeasurementOptions {
  /** Node options before `--import tsx` (e.g. `--expose-gc`). */
  nodeArgs?: string[];
  /**
   * Record a failed process as `{error}` (its last stderr lines) and go on, instead of throwing:
   * for peers, whose failure is a fact to report, not a bug of the bench. A process that prints
   * `{"skipped": reason}` is not run again in later repetitions.
   */
  tolerateFailures?: boolean;
  /** Reverse the whole order on even repetitions (many engines) instead of swapping neighbours (engine pairs). */
  reverseEvenReps?: boolean;
}

/**
 * Runs every configuration `reps` times, interleaved; prints one line per run; throws on the
 * first failed process (a failure is a bug in the bench or the engine, not a data point) unless
 * `options.tolerateFailures`.
 */
export function runMeasurements(label: string, configs: MeasurementConfig[], reps: number, options: MeasurementOptions = {}): MeasurementResult[] {
  mkdirSync('bench/out', { recursive: true });
  const results: MeasurementResult[] = [];
  const skipped = new Set<string>();
  for (let rep = 1; rep <= reps; rep++) {
    // Alternate the order within a repetition so no configuration always runs first.
    const ordered = rep % 2 === 1 ? configs : options.reverseEvenReps ? [...configs].reverse() : pairSwapped(configs);
    for (const config of ordered) {
      if (skipped.has(config.key)) continue;
      const started = Date.now();
      const load = loadavg().map((x) => Math.round(x * 100) / 100);
      const child = spawnSync(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', config.script, ...config.args], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        timeout: 20 * 60_000,
      });
      let parsed: Record<string, unknown> | null = null;
      try {
        parsed = lastJsonLine<Record<string, unknown>>(child.stdout ?? '');
      } catch {
        // a truncated line: reported as a failure below
      }
      if (child.status !== 0 || !parsed) {
        const message = `measurement failed (rep ${rep}): ${config.script} ${config.args.join(' ')}\n${child.stdout}\n${child.stderr}`;
        if (!options.tolerateFailures) throw new Error(message);
        const lastLines = `${child.stderr ?? ''}`.trim().split('\n').filter((l) => l.trim() !== '' && !/^\s+at /.test(l)).slice(-3).join(' / ');
        parsed = { error: child.error ? child.error.message : `exit ${child.status ?? child.signal}: ${lastLines}`.slice(0, 400) };
      }
      if (typeof parsed.skipped === 'string') skipped.add(config.key);
      const result: MeasurementResult = { ...parsed, key: config.key, rep, load_before: load, label, run_started: new Date(started).toISOString() };
      appendFileSync(`bench/out/${label}.jsonl`, `${JSON.stringify(result)}\n`);
      results.push(result);
      console.error(`  [${label}] rep ${rep} ${config.key}: ${brief(result)} (${((Date.now() - started) / 1000).toFixed(1)} s, load ${load[0]})`);
    }
  }
  return results;
}

/** Swaps neighbours (a,b,c,d → b,a,d,c): with configurations listed in engine pairs, the other engine goes first. */
function pairSwapped<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
  return out;
}

function brief(r: Record<string, unknown>): string {
  if (r.skipped !== undefined) return `skipped: ${String(r.skipped)}`;
  if (r.error !== undefined) return `FAILED: ${String(r.error)}`;
  const lat = r.lat_ms as { p50: number; p99: number } | undefined;
  if (lat) return `${r.parents_per_s} parents/s, p50 ${lat.p50} ms, p99 ${lat.p99} ms${r.children_done_s != null ? `, children done ${r.children_done_s} s` : ''}`;
  if (r.us_per_step !== undefined) return `${r.runs_per_s !== undefined ? `${r.runs_per_s} runs/s, ` : ''}${r.us_per_step} µs/step`;
  if (r.steps_per_s !== undefined) return `${r.steps_per_s} steps/s${r.store_transitions_per_s !== undefined ? `, ${r.store_transitions_per_s} transitions/s` : ''}`;
  return JSON.stringify(r).slice(0, 120);
}
