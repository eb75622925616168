/**
 * A/B rounds of the victim scenario of bench/hostile.ts (a user's 3-step runs idle and under issue
 * 12's items 1, 2 and 7), alternating two checkouts, for a shared machine where one run says little:
 *
 *   node --import tsx bench/hostile-ab.ts --a /tmp/old --b . [--rounds 4] [--a-node-options "…"] [--b-node-options "…"] [--budget NAME=VALUE …]
 *
 * `--a-node-options` / `--b-node-options` go to that side's NODE_OPTIONS, which its `flowrun serve`
 * inherits: `--a . --b . --b-node-options --max-semi-space-size=64` measures a V8 setting alone.
 *
 * Each checkout runs its own `bench/hostile.ts --quick --victim-only --json` (so its own `src/`
 * serves); copy this checkout's bench/hostile.ts and bench/loop-gap-probe.mjs into an older export
 * first (the bench files, not the code measured). Prints every round and min / median / max per
 * figure; the loop gap and the runs completed under attack move less with the machine's noise than
 * the idle p99 does.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadavg } from 'node:os';
import { fmt, markdownTable } from './measure.js';
import type { VictimFigures } from './hostile.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const dirs = { A: resolve(option('--a') ?? '.'), B: resolve(option('--b') ?? '.') };
const rounds = Number(option('--rounds') ?? 4);
const ours = ['--a', '--b', '--rounds', '--a-node-options', '--b-node-options'];
const serveArgs = argv.filter((a, i) => !ours.includes(a) && !ours.includes(argv[i - 1] ?? ''));
const nodeOptions = { A: option('--a-node-options'), B: option('--b-node-options') };
const envOf = (side: 'A' | 'B'): NodeJS.ProcessEnv => {
  const extra = nodeOptions[side];
  return extra ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${extra}`.trim() } : process.env;
};

const results: Record<'A' | 'B', VictimFigures[]> = { A: [], B: [] };
const rows: string[][] = [];
for (let round = 1; round <= rounds; round++) {
  // Alternate which goes first, so neither always follows the other's aftermath.
  for (const side of round % 2 === 1 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
    const load = loadavg()[0]!.toFixed(2);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/hostile.ts', '--quick', '--victim-only', '--json', ...serveArgs], { cwd: dirs[side], env: envOf(side), encoding: 'utf8', maxBuffer: 16 << 20 });
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    if (run.status !== 0 || !last.startsWith('{')) throw new Error(`${side} round ${round} failed:\n${run.stdout}\n${run.stderr}`);
    const f = JSON.parse(last) as VictimFigures;
    results[side].push(f);
    rows.push([String(round), side, load, `${fmt(f.idleP50)} / ${fmt(f.idleP99)}`, `${f.loadRuns}, ${fmt(f.loadP50)} / ${fmt(f.loadP99)}`, `${fmt(f.ratio)}×`, `${fmt(f.healthIdleP99)} → ${fmt(f.healthLoadP99)}`, `${fmt(f.idleGapMs)} → ${fmt(f.loadGapMs)}`]);
    console.error(rows.at(-1)!.join(' | '));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const spread = (xs: number[]): string => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
const figures: [string, (f: VictimFigures) => number][] = [
  ['idle p50 ms', (f) => f.idleP50],
  ['idle p99 ms', (f) => f.idleP99],
  ['under attack p50 ms', (f) => f.loadP50],
  ['under attack p99 ms', (f) => f.loadP99],
  ['p99 under attack ÷ idle', (f) => f.ratio],
  ['runs completed under attack (5 s)', (f) => f.loadRuns],
  ['largest loop gap under attack ms', (f) => f.loadGapMs],
  ['largest loop gap idle ms', (f) => f.idleGapMs],
  ['/health p99 under attack ms', (f) => f.healthLoadP99],
  ['GC pauses under attack, sum ms (older bench files: NaN)', (f) => f.gcLoadMs ?? NaN],
  ['longest GC pause under attack ms', (f) => f.gcLoadMaxMs ?? NaN],
  ['server loop CPU while a victim run pends, p99 idle ms', (f) => f.cpuIdleP99 ?? NaN],
  ['server loop CPU while a victim run pends, p99 under attack ms', (f) => f.cpuLoadP99 ?? NaN],
];
const sideNote = (side: 'A' | 'B'): string => (nodeOptions[side] ? ` (NODE_OPTIONS ${nodeOptions[side]})` : '');
console.log(`A = ${dirs.A}${sideNote('A')}, B = ${dirs.B}${sideNote('B')}, ${rounds} rounds each, alternated${serveArgs.length ? `, serve ${serveArgs.join(' ')}` : ''}`);
console.log('');
console.log(markdownTable(['round', 'code', 'load avg', 'idle p50 / p99 ms', 'under attack: runs, p50 / p99 ms', 'p99 ÷ idle', '/health p99 idle → attack ms', 'largest loop gap idle → attack ms'], rows));
console.log('');
console.log(markdownTable(['figure', 'A median (min–max)', 'B median (min–max)'], figures.map(([name, get]) => [name, spread(results.A.map(get)), spread(results.B.map(get))])));
