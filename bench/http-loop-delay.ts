/**
 * Issue 13 item 6: how late a loaded POST /runs server's event loop runs, and its POST latency.
 * Each round starts bench/http-server.ts `flowrun` of this checkout and of an older one (`--before
 * DIR`, built and linked as bench/http.ts's A/B asks), the order alternating, with
 * loop-delay-preload.mjs watching its event loop (through NODE_OPTIONS); autocannon sends POST /runs from 64 connections
 * for 2 s of warm-up and `--seconds` measured. One row per round and side: POST/s, POST p50 / p99,
 * and the loop's delay p50 / p99 / max over the measured load.
 *
 *   node --import tsx bench/http-loop-delay.ts --before /tmp/base --rounds 2 [--seconds 5]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTarget, stop } from './http.js';
import { abOrder, fmt, markdownTable, readOptions } from './measure.js';

const opt = readOptions(process.argv.slice(2));
const before = opt.get('before', '');
if (!before) throw new Error('usage: http-loop-delay.ts --before DIR [--rounds 2] [--seconds 5]');
const rounds = opt.num('rounds', 2);
const seconds = opt.num('seconds', 5);
const preload = fileURLToPath(new URL('./loop-delay-preload.mjs', import.meta.url));

interface Delay {
  p50: number;
  p99: number;
  max: number;
}

async function measure(root: string): Promise<{ rps: number; p50: number; p99: number; delay: Delay }> {
  const delayFile = join(mkdtempSync(join(tmpdir(), 'flowrun-loop-delay-')), 'delay.json');
  const server = await startTarget<{ url: string; token: string; flowId: string }>(['flowrun'], root, { NODE_OPTIONS: `--import=${preload}`, FLOWRUN_LOOP_DELAY_FILE: delayFile });
  const { info } = server;
  const { default: autocannon } = await import('autocannon');
  const load = { url: `${info.url}/runs`, connections: 64, method: 'POST' as const, headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ flowId: info.flowId, input: { n: 1 } }) };
  await autocannon({ ...load, duration: 2 });
  const result = await autocannon({ ...load, duration: seconds });
  await stop(server.child);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, delay: JSON.parse(readFileSync(delayFile, 'utf8')) as Delay };
}

const rows: string[][] = [];
for (let round = 1; round <= rounds; round++) {
  for (const [side, root] of abOrder<[string, string]>(round, ['before', before], ['after', '.'])) {
    const m = await measure(root);
    rows.push([String(round), side, fmt(m.rps), `${m.p50} / ${m.p99}`, `${m.delay.p50} / ${m.delay.p99} / ${m.delay.max}`]);
  }
}
console.log(markdownTable(['round', 'side', 'POST/s', 'POST p50 / p99 ms', 'event loop delay p50 / p99 / max ms'], rows));
console.log(`\nbefore = ${before}; 64 connections, ${seconds} s measured after 2 s of warm-up; the server is the built package (dist/) of each side.`);
