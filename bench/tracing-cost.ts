/**
 * Issue 18 (traces): what tracing costs. SQLite module steps (64 runs of 100 MODULE steps at a
 * time, as bench/RESULTS.md's issue-13 figure: CPU µs per step, steps/s) and PostgreSQL parents/s (parent-sync, conc 64: a parent calling
 * a child, CPU µs per parent), each with the tracing modes of bench/flowrun-runner.ts `--trace`:
 * `off` (createEngine({tracing: false})), `none` (@opentelemetry/api loaded, no SDK registered:
 * the default), `sdk` (every trace recorded, spans dropped by the exporter) and `sample10` (10 % of
 * traces); `memory-steps` (not by default) is the engine's own CPU per module step over the memory
 * store, the figure a per-step cost moves most. Every measurement is a fresh process; rounds are
 * interleaved (bench/run-measurements.ts).
 *
 *   node --import tsx bench/tracing-cost.ts [--rounds 4] [--modes off,none,sdk,sample10]
 *     [--before DIR [--before-modes sdk]] [--workloads sqlite-steps,pg-parents,memory-steps] [--pg-db flowrun_bench_tracing] [--quick]
 *
 * `--before DIR`: also measure an older checkout (its own bench/flowrun-runner.ts and src/, e.g.
 * `git archive 5503ebe | tar -x -C DIR` with node_modules linked), the baseline of the costs
 * when given (else `off`); `--before-modes sdk,…` also measures the older checkout with those
 * `--trace` modes (rows `before:sdk`, …), to tell what a change did to a traced run.
 * `--modes` may include `hooks` (tracing off, Node's promise hooks on: their share of any
 * AsyncLocalStorage-based tracer) and `spans` (tracing off, the `sdk` set-up, and the SDK's span
 * per step made around each module's call: what a span per step costs with this SDK whoever makes
 * it; `sdk` minus `spans` is flowrun's own share; module steps only). Prints a markdown table per workload: median (min–max) over the rounds.
 */
import { resolve } from 'node:path';
import { fmt, markdownTable, median, readOptions, spread } from './measure.js';
import { runMeasurements, type MeasurementConfig, type MeasurementResult } from './run-measurements.js';

const opt = readOptions(process.argv.slice(2));
const rounds = opt.num('rounds', 4);
const quick = opt.has('quick');
const modes = opt.get('modes', 'off,none,sdk,sample10').split(',');
const workloads = opt.get('workloads', 'sqlite-steps,pg-parents').split(',');
const before = opt.get('before', '');
const beforeModes = before ? opt.get('before-modes', '').split(',').filter(Boolean) : [];
const pgDb = opt.get('pg-db', 'flowrun_bench_tracing');

const WORKLOADS: Record<string, { args: string[]; unit: string; rate: string; cpu: string }> = {
  'sqlite-steps': {
    // As bench/RESULTS.md's "SQLite module steps" (issue 13): 64 runs of 100 MODULE steps at once.
    args: ['--store', 'sqlite', '--workload', 'steps-concurrent', '--step-kind', 'module', '--steps-per-run', '100', '--n', quick ? '64' : '192', '--conc', '64'],
    unit: 'step',
    rate: 'steps_per_s',
    cpu: 'node_cpu_us_per_step',
  },
  // The engine's own CPU per step, no store in the way: the most sensitive to a per-step cost.
  'memory-steps': {
    args: ['--store', 'memory', '--workload', 'steps', '--step-kind', 'module', '--steps-per-run', '100', '--reps', quick ? '20' : '100'],
    unit: 'step',
    rate: 'steps_per_s',
    cpu: 'node_cpu_us_per_step',
  },
  'pg-parents': {
    args: ['--store', 'pg', '--workload', 'parent-sync', '--conc', '64', '--n', quick ? '500' : '2000', '--warmup', quick ? '50' : '100', '--pg-db', pgDb],
    unit: 'parent',
    rate: 'parents_per_s',
    cpu: 'node_cpu_us_per_parent',
  },
};

const sides = [...(before ? ['before', ...beforeModes.map((m) => `before:${m}`)] : []), ...modes];
const configs: MeasurementConfig[] = [];
for (const workload of workloads) {
  const w = WORKLOADS[workload];
  if (!w) throw new Error(`unknown workload ${workload}; known: ${Object.keys(WORKLOADS).join(', ')}`);
  for (const side of sides) {
    configs.push(
      side.startsWith('before')
        ? { key: `${workload}|${side}`, script: resolve(before, 'bench/flowrun-runner.ts'), args: side === 'before' ? w.args : [...w.args, '--trace', side.slice('before:'.length)] }
        : { key: `${workload}|${side}`, script: 'bench/flowrun-runner.ts', args: [...w.args, '--trace', side] },
    );
  }
}
const rows = runMeasurements('tracing-cost', configs, rounds);

const baseline = before ? 'before' : 'off';
const lines: string[] = [`${rounds} round(s), interleaved, each measurement a fresh process; cost relative to \`${baseline}\` (medians).`, ''];
for (const workload of workloads) {
  const w = WORKLOADS[workload]!;
  const of = (side: string): MeasurementResult[] => rows.filter((r) => r.key === `${workload}|${side}`);
  const pick = (side: string, field: string): number[] => of(side).map((r) => r[field] as number);
  const baseRate = median(pick(baseline, w.rate));
  const baseCpu = median(pick(baseline, w.cpu));
  const table = sides.map((side) => {
    const rate = median(pick(side, w.rate));
    const cpu = median(pick(side, w.cpu));
    return [side, spread(pick(side, w.rate)), spread(pick(side, w.cpu)), `${fmt((1 - rate / baseRate) * 100)} %`, `${fmt((cpu / baseCpu - 1) * 100)} %`];
  });
  lines.push(`**${workload}** (${w.args.join(' ')})`, '');
  lines.push(markdownTable(['trace', `${w.unit}s/s`, `CPU µs per ${w.unit}`, `${w.unit}s/s lost`, `CPU µs per ${w.unit} added`], table), '');
}
console.log(lines.join('\n'));
