/**
 * Issue 13 item 1, a new 1 MiB input object every run on the memory store, split honestly: what
 * the engine's copy costs, what the caller's own garbage costs, and where the copy sits against a
 * plain copy of the same object. Every measurement is a growth-runner.ts process (100 steps,
 * flowrun's memory store, Node CPU per run with the caller's building left out), the modes
 * interleaved, the order reversed every other round.
 *
 *   node --import tsx bench/growth-fresh.ts [--before DIR] [--rounds 4] [--secs 3] [--floors] [--ab-only] [--measure-floors] [--steps 10,100,1000] [--engine flowrun-memory] [--only '1 KiB,1 MiB fresh']
 *
 * Modes (growth-runner.ts options):
 * - `1 KiB`: a new 1 KiB input every run — the reference the goal divides by.
 * - `1 MiB same`: the same 1 MiB object every run (the seal gives its earlier copy back).
 * - `1 MiB fresh`: a new 1 MiB object every run (the case of this bench).
 * - `1 KiB + caller holds 1 MiB`: as `1 KiB`, while the caller builds a new 1 MiB object every run
 *   and holds it until the run ends without handing it in: the collector's work for the caller's own
 *   garbage, which any engine taking that long would see. Its excess over `1 KiB` is charged to
 *   the caller, not to flowrun.
 * - `1 MiB fresh, caller froze it`: the caller deep-freezes each new object (not counted); the
 *   engine measures and keeps it without copying.
 * - `1 MiB fresh, seal apart`: as `1 MiB fresh`, the seal's walk timed on its own (the caller calls
 *   sealJson, the engine shares what it returns).
 * - with `--floors`, `floor: X`: `caller froze it` plus a copy by X (structuredClone, a JSON round
 *   trip, a plain recursive copy) kept for good: a run whose copy cost only what X costs.
 * - with `--measure-floors`, `floor: measure by X` (X: jsonSize, stringify): `1 KiB + caller holds
 *   1 MiB` plus one measure of the caller's new 1 MiB object per run by X (core/json-size.ts's
 *   jsonSize, or JSON.stringify), nothing kept — the least an engine that checks a new input's size
 *   against its budget pays with today's measures. Kept in `--ab-only` (this side only), with
 *   `1 KiB + caller holds 1 MiB`.
 * `--steps` runs every mode at each of these run lengths (default 100); `--engine` names another
 * flowrun store of peer-engines.ts (`flowrun-sqlite-full`, `flowrun-pg`: set FLOWRUN_BENCH_PEERS_DB
 * to a database of your own, and mind that both sides then share it one after the other).
 * With `--before DIR` (an older checkout with this bench/ copied in) the first three modes run on
 * both, interleaved (`--ab-only`: those three alone, for more rounds in the time). Prints markdown: per mode the median (min–max) CPU ms per run; the ratios;
 * the split of `1 MiB fresh` over `1 KiB`.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fmt, lastJsonLine, markdownTable, median, readOptions } from './measure.js';

const opt = readOptions(process.argv.slice(2));
const rounds = opt.num('rounds', 4);
const secs = opt.num('secs', 3);
const before = opt.get('before', '');
const floors = opt.has('floors');
const abOnly = opt.has('ab-only');
const measureFloors = opt.has('measure-floors');
const engineName = opt.get('engine', 'flowrun-memory');
/** `--only '1 KiB'`: these modes alone (names as printed, comma-separated), for more rounds of one figure. */
const only = opt.get('only', '').split(',').filter(Boolean);
const stepCounts = opt.get('steps', '100').split(',').map(Number);
if (stepCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--steps is a list of run lengths, e.g. 10,100,1000');

interface Mode {
  name: string;
  args: string[];
  /** Run on the `--before` checkout too. */
  both: boolean;
  /** Kept with `--ab-only`. */
  always?: boolean;
}
const MODES: Mode[] = [
  { name: '1 KiB', args: ['--input-kib', '1', '--input-change', 'fresh'], both: true },
  { name: '1 MiB same', args: ['--input-kib', '1024'], both: true },
  { name: '1 MiB fresh', args: ['--input-kib', '1024', '--input-change', 'fresh'], both: true },
  { name: '1 KiB + caller holds 1 MiB', args: ['--input-kib', '1', '--input-change', 'fresh', '--hold-kib', '1024'], both: false, always: measureFloors },
  { name: '1 MiB fresh, caller froze it', args: ['--input-kib', '1024', '--input-change', 'fresh-frozen'], both: false },
  { name: '1 MiB fresh, seal apart', args: ['--input-kib', '1024', '--input-change', 'fresh', '--seal-split'], both: false },
  ...(floors ? ['structuredClone', 'json-round-trip', 'hand-copy'].map((floor) => ({ name: `floor: ${floor}`, args: ['--input-kib', '1024', '--input-change', 'fresh-frozen', '--floor', floor], both: false })) : []),
  ...(measureFloors
    ? ['jsonSize', 'stringify'].map((x): Mode => ({ name: `floor: measure by ${x}`, args: ['--input-kib', '1', '--input-change', 'fresh', '--hold-kib', '1024', '--measure', x], both: false, always: true }))
    : []),
].filter((m) => (!abOnly || m.both || m.always) && (only.length === 0 || only.includes(m.name)));

interface Result {
  node_cpu_ms_per_run: number;
  seal_cpu_ms_per_run?: number;
  gc_ms_per_run: { minor: number; major: number; other: number };
}
const sides: [string, string][] = [['after', resolve('.')], ...(before ? ([['before', resolve(before)]] as [string, string][]) : [])];
const results = new Map<string, Result[]>();
const loads: number[] = [];
for (let round = 1; round <= rounds; round++) {
  const jobs = stepCounts.flatMap((steps) => sides.flatMap(([side, dir]) => MODES.filter((m) => side === 'after' || m.both).map((m) => ({ side, dir, steps, mode: m }))));
  for (const job of round % 2 === 1 ? jobs : jobs.reverse()) {
    loads.push(loadavg()[0]!);
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/growth-runner.ts', '--engine', engineName, '--steps', String(job.steps), '--secs', String(secs), ...job.mode.args], { cwd: job.dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    const line = lastJsonLine<Result>(child.stdout ?? '');
    if (child.status !== 0 || !line) throw new Error(`${job.side} ${job.steps} steps ${job.mode.name}: ${child.stderr}`);
    const key = `${job.side}|${job.steps}|${job.mode.name}`;
    results.set(key, [...(results.get(key) ?? []), line]);
    process.stderr.write(`round ${round} ${key}: ${line.node_cpu_ms_per_run} ms/run\n`);
  }
}

const range = (xs: number[]): string => (xs.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '–');
/** Per round, `f` of that round's figures; median (min–max) over the rounds. */
const perRound = (f: (round: number) => number): string => range(Array.from({ length: rounds }, (_, r) => f(r)).filter(Number.isFinite));
const lines: string[] = [];
lines.push(`${rounds} rounds of ≥ ${secs} s each, ${engineName}, a fresh process per measurement, order reversed every other round; Node CPU per run (user + system, every thread), the caller's building of its input left out.`);
for (const steps of stepCounts) {
  const cpu = (side: string, mode: string): number[] => (results.get(`${side}|${steps}|${mode}`) ?? []).map((r) => r.node_cpu_ms_per_run);
  const at = (side: string, mode: string, round: number): number => cpu(side, mode)[round] ?? Number.NaN;
  lines.push('', `### ${steps}-step runs`, '');
  lines.push(
    markdownTable(
      ['mode', ...sides.map(([side]) => `${side}: CPU ms / run`), 'GC pauses ms / run, minor + major (after)'],
      MODES.map((m) => [
        m.name,
        ...sides.map(([side]) => (side === 'after' || m.both ? range(cpu(side, m.name)) : '')),
        range((results.get(`after|${steps}|${m.name}`) ?? []).map((r) => r.gc_ms_per_run.minor + r.gc_ms_per_run.major)),
      ]),
    ),
  );
  lines.push('', 'Ratios per round, median (min–max):', '');
  const floorNames = MODES.filter((m) => m.name.startsWith('floor: measure')).map((m) => m.name);
  const ratioRows = sides.map(([side]) => [
    side,
    perRound((r) => at(side, '1 MiB fresh', r) / at(side, '1 KiB', r)),
    perRound((r) => at(side, '1 MiB same', r) / at(side, '1 KiB', r)),
    side === 'after' ? perRound((r) => (at(side, '1 MiB fresh', r) - (at(side, '1 KiB + caller holds 1 MiB', r) - at(side, '1 KiB', r))) / at(side, '1 KiB', r)) : '',
    // The floors run on this side only: the other side's 1 KiB run is divided by the same round's floor of this side.
    ...floorNames.map((f) => perRound((r) => at('after', f, r) / at(side, '1 KiB', r))),
    ...floorNames.map((f) => perRound((r) => at(side, '1 MiB fresh', r) / at('after', f, r))),
  ]);
  lines.push(
    markdownTable(
      ['code', '1 MiB fresh ÷ 1 KiB', '1 MiB same ÷ 1 KiB', "1 MiB fresh ÷ 1 KiB, the caller's garbage left out", ...floorNames.map((f) => `${f} ÷ 1 KiB`), ...floorNames.map((f) => `1 MiB fresh ÷ ${f}`)],
      ratioRows,
    ),
  );
  if (!abOnly) lines.push('', `Where \`1 MiB fresh\`'s extra CPU over \`1 KiB\` goes (after; ms per run, per round):`, '');
  if (!abOnly)
    lines.push(
      markdownTable(
        ['part', 'ms / run'],
        [
          ["the caller's own garbage (holds − 1 KiB)", perRound((r) => at('after', '1 KiB + caller holds 1 MiB', r) - at('after', '1 KiB', r))],
          ["the seal's walk, copy + measure, its CPU alone (seal apart)", range((results.get(`after|${steps}|1 MiB fresh, seal apart`) ?? []).map((r) => r.seal_cpu_ms_per_run ?? Number.NaN))],
          ['a kept, measured, uncopied input (froze it − holds)', perRound((r) => at('after', '1 MiB fresh, caller froze it', r) - at('after', '1 KiB + caller holds 1 MiB', r))],
          ['the copy, with the collector’s work for it (fresh − froze it)', perRound((r) => at('after', '1 MiB fresh', r) - at('after', '1 MiB fresh, caller froze it', r))],
          ...(floors ? ['structuredClone', 'json-round-trip', 'hand-copy'].map((f) => [`a ${f} copy instead, kept (floor − froze it)`, perRound((r) => at('after', `floor: ${f}`, r) - at('after', '1 MiB fresh, caller froze it', r))]) : []),
          ...MODES.filter((m) => m.name.startsWith('floor: measure')).map((m) => [`one ${m.name.slice('floor: measure by '.length)} of the new object (${m.name} − holds)`, perRound((r) => at('after', m.name, r) - at('after', '1 KiB + caller holds 1 MiB', r))]),
        ],
      ),
    );
}
lines.push('', `Load average (1 min) before each measurement: median ${fmt(median(loads))}, min ${fmt(Math.min(...loads))}, max ${fmt(Math.max(...loads))}.`);
process.stdout.write(`${lines.join('\n')}\n`);
