/**
 * Watching a run live from another process (issue 14 §1, seed 002): latency from a writer — a
 * job process running one run with runAction — to an SSE client of a server in this process
 * over the same store, for transient items and for log entries written during a step
 * (`ctx.log`), over a SQLite file (transient items through the side channel beside it, logs
 * through commits noticed by `PRAGMA data_version` polling) and PostgreSQL (LISTEN/NOTIFY). The
 * stream is opened before the run is recorded (the watch waits for it); the writer starts
 * emitting once the stream delivered its first event, so every item is emitted while the client
 * is connected: `lost` must be 0. Goal: p99 < 100 ms.
 *
 *   node --import tsx bench/live.ts [--quick] [--reps N]     (or: npm run bench -- --only live)
 *
 * COUNT items per run (10,000; quick 2,000), one every GAP_MS (1 ms); PostgreSQL in the database
 * flowrun_bench_live (re-created) of FLOWRUN_BENCH_PG_URL / FLOWRUN_TEST_PG_URL's server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createParser } from 'eventsource-parser';
import { createEngine } from '../src/index.js';
import { serve } from '../src/server/index.js';
import { openStoreSpec } from '../src/cli/store-spec.js';
import { latencySummary, markdownTable, readOptions } from './measure.js';
import { PgAdmin } from './pg-admin.js';

const GAP_MS = 1;

interface Round {
  received: number;
  p50: number;
  p99: number;
  max: number;
}

/** One run: the writer emits `count` items of `kind`; resolves with what the SSE client saw. */
async function measureOnce(spec: string, kind: 'transient' | 'log', count: number): Promise<Round> {
  const stores = openStoreSpec(spec);
  const engine = createEngine({ stores, poll: false });
  const server = await serve({ engine, authenticate: () => ({ userId: 'bench' }) });
  const control = mkdtempSync(join(tmpdir(), 'flowrun-bench-live-'));
  const requestId = crypto.randomUUID();
  try {
    // Opened first: the run is not recorded yet, the watch waits for it (maxWatchWaitMs, 5 s).
    const streaming = fetch(`${server.url}/runs/${requestId}/stream`);
    const writer = spawn(process.execPath, ['--import', 'tsx', 'bench/live-writer.ts', spec, requestId, String(count), String(GAP_MS), control, kind], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise((r) => writer.once('exit', r));
    const response = await streaming;
    if (response.status !== 200) throw new Error(`the stream answered ${response.status}: ${await response.text()}`);
    const latencies: number[] = [];
    let started = false;
    const parser = createParser({
      onEvent: (message) => {
        const now = performance.timeOrigin + performance.now();
        if (!started) {
          started = true;
          writeFileSync(join(control, 'go'), ''); // attached: the writer may begin
        }
        const event = JSON.parse(message.data) as { kind: string; change?: string; transient?: boolean; item?: { content: { at: number } }; entry?: { code: string; details: { at: number } } };
        if (kind === 'transient' && event.kind === 'item' && event.transient && event.change === 'added') latencies.push(now - event.item!.content.at);
        if (kind === 'log' && event.kind === 'log' && event.entry!.code === 'Tick') latencies.push(now - event.entry!.details.at);
      },
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) parser.feed(next.value);
    await exited;
    const s = latencySummary(Float64Array.from(latencies));
    return { received: latencies.length, p50: s.p50, p99: s.p99, max: s.max };
  } finally {
    await server.close();
    await engine.close();
    await stores.close();
  }
}

/** Transient items and in-step log entries, SQLite and PostgreSQL, `reps` rounds each (interleaved). */
export async function benchLive(options: { quick: boolean; reps: number; postgres: boolean }): Promise<string> {
  const count = options.quick ? 2_000 : 10_000;
  const targets: { name: string; spec: () => Promise<string> }[] = [{ name: 'SQLite file', spec: async () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-bench-live-db-')), 'flowrun.db')}` }];
  if (options.postgres) {
    targets.push({
      name: 'PostgreSQL',
      spec: async () => {
        const admin = await PgAdmin.freshDatabase('flowrun_bench_live');
        await admin.close();
        return admin.url;
      },
    });
  }
  const results = new Map<string, Round[]>();
  for (let rep = 0; rep < options.reps; rep++) {
    for (const target of targets) {
      for (const kind of ['transient', 'log'] as const) {
        const key = `${target.name}\n${kind}`;
        const round = await measureOnce(await target.spec(), kind, count);
        results.set(key, [...(results.get(key) ?? []), round]);
      }
    }
  }
  const spread = (values: number[]): string => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 1 ? String(sorted[0]) : `${sorted[0]} / ${sorted[Math.floor(sorted.length / 2)]} / ${sorted.at(-1)}`;
  };
  const rows = [...results].map(([key, rounds]) => {
    const [store, kind] = key.split('\n') as [string, string];
    return [store, kind === 'log' ? 'log entries (ctx.log during a step)' : 'transient items', String(count), rounds.map((r) => count - r.received).join(', '), spread(rounds.map((r) => r.p50)), spread(rounds.map((r) => r.p99)), spread(rounds.map((r) => r.max))];
  });
  return (
    markdownTable(['store', 'what', 'sent per run', 'lost per round', 'p50 ms', 'p99 ms', 'max ms'], rows) +
    `\n\n${count} per run, one every ${GAP_MS} ms, written by a runAction job in another process; an SSE client of a server in this process reads them (opened before the run was recorded). ${options.reps} round(s), interleaved; with several rounds a cell is min / median / max. Goal: p99 < 100 ms, 0 lost.`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opt = readOptions(process.argv.slice(2));
  const quick = opt.has('quick');
  console.log(await benchLive({ quick, reps: opt.num('reps', quick ? 1 : 2), postgres: true }));
}
