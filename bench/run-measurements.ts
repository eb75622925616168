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

/**
 * Runs every configuration `reps` times, interleaved; prints one line per run; throws on the
 * first failed process (a failure is a bug in the bench or the engine, not a data point).
 */
export function runMeasurements(label: string, configs: MeasurementConfig[], reps: number): MeasurementResult[] {
  mkdirSync('bench/out', { recursive: true });
  const results: MeasurementResult[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    // Alternate the order within a repetition so no configuration always runs first.
    const ordered = rep % 2 === 1 ? configs : pairSwapped(configs);
    for (const config of ordered) {
      const started = Date.now();
      const load = loadavg().map((x) => Math.round(x * 100) / 100);
      const child = spawnSync(process.execPath, ['--import', 'tsx', config.script, ...config.args], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        timeout: 20 * 60_000,
      });
      const parsed = lastJsonLine<Record<string, unknown>>(child.stdout ?? '');
      if (child.status !== 0 || !parsed) {
        throw new Error(`measurement failed (rep ${rep}): ${config.script} ${config.args.join(' ')}\n${child.stdout}\n${child.stderr}`);
      }
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
  const lat = r.lat_ms as { p50: number; p99: number } | undefined;
  if (lat) return `${r.parents_per_s} parents/s, p50 ${lat.p50} ms, p99 ${lat.p99} ms${r.children_done_s != null ? `, children done ${r.children_done_s} s` : ''}`;
  if (r.steps_per_s !== undefined) return `${r.steps_per_s} steps/s${r.store_transitions_per_s !== undefined ? `, ${r.store_transitions_per_s} transitions/s` : ''}`;
  return JSON.stringify(r).slice(0, 120);
}
