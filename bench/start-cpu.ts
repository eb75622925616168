/**
 * CPU per durable start without HTTP, A/B against an older checkout: `engine.startRun` of
 * bench/http.ts's one-step flow from 64 in-process callers on the SQLite store, each side in its
 * own process (`bench/http-server.ts inproc`, the built package of each checkout), the sides
 * interleaved and their order reversed every other round. CPU is the whole process's (every
 * thread) per start; it moves less with the machine's other load than starts/s do.
 *
 *   node --import tsx bench/start-cpu.ts --before DIR [--rounds 4] [--secs 4]
 *
 * DIR: an older checkout with this bench/ copied in, node_modules and bench/node_modules linked,
 * and its dist/ built (`npx tsc -p tsconfig.build.json`), as for bench/http.ts --before.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { abOrder, lastJsonLine, markdownTable, median, readOptions, spread } from './measure.js';

interface Measured {
  rps: number;
  cpuUsPerStart: number;
}

function measure(root: string, seconds: number): Measured {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/http-server.ts', 'inproc', String(seconds)], { cwd: root, encoding: 'utf8' });
  const result = lastJsonLine<Measured>(child.stdout);
  if (child.status !== 0 || !result) throw new Error(`bench/http-server.ts inproc in ${root} failed: ${child.stderr}`);
  return result;
}

const opt = readOptions(process.argv.slice(2));
const before = opt.get('before', '');
if (!before) throw new Error('usage: bench/start-cpu.ts --before DIR [--rounds 4] [--secs 4]');
const rounds = opt.num('rounds', 4);
const seconds = opt.num('secs', 4);
const sides = { before: [] as Measured[], after: [] as Measured[] };
const loads: number[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const side of abOrder(round, 'before' as const, 'after' as const)) {
    loads.push(loadavg()[0]!);
    const m = measure(side === 'before' ? before : '.', seconds);
    sides[side].push(m);
    console.error(`round ${round} ${side}: ${m.cpuUsPerStart} µs CPU a start, ${Math.round(m.rps)} starts/s`);
  }
}
const row = (side: 'before' | 'after'): string[] => {
  return [side, spread(sides[side].map((m) => m.cpuUsPerStart)), spread(sides[side].map((m) => m.rps))];
};
const ratio = median(sides.after.map((m) => m.cpuUsPerStart)) / median(sides.before.map((m) => m.cpuUsPerStart));
console.log(
  markdownTable(['side', 'CPU µs a start, median (min–max)', 'starts/s, median (min–max)'], [row('before'), row('after')]) +
    `\n\nafter ÷ before, CPU a start: ${ratio.toFixed(3)}; before = ${before}; ${rounds} rounds of ${seconds} s after a 1 s warm-up, 64 callers; load average (1 min) ${spread(loads)}.`,
);
