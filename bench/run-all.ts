/**
 * `npm run bench`: runs every scenario and prints a markdown table per scenario, plus a JSON
 * copy in bench/out/. Figures go into bench/RESULTS.md by hand, with the command and the machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchCallReturn } from './call-return.js';
import type { GotoLoopResult } from './goto-loop.js';

const quick = process.argv.includes('--quick');

function table(rows: object[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!);
  return [
    `| ${keys.join(' | ')} |`,
    `| ${keys.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${keys.map((k) => String((r as Record<string, unknown>)[k])).join(' | ')} |`),
  ].join('\n');
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
console.log(`# flowrun bench — ${new Date().toISOString()} — ${machine}\n`);

const callReturn = await benchCallReturn(quick ? 1_000 : 5_000);
console.log('## Call-and-return overhead (memory store) vs plain async functions\n');
console.log(table(callReturn));

const iterations = quick ? 100_000 : 1_000_000;
const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/goto-loop.ts', String(iterations)], { encoding: 'utf8' });
const gotoLoop = JSON.parse(out.trim().split('\n').at(-1)!) as GotoLoopResult;
console.log(`\n## ${iterations.toLocaleString('en')}-iteration goto loop (memory store, own process)\n`);
console.log(table([gotoLoop]));

mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/results.json', JSON.stringify({ machine, at: new Date().toISOString(), callReturn, gotoLoop }, null, 2));
