/**
 * The writer process of bench/live.ts: a job that starts one run with runAction over the store
 * named by the spec, with the caller's requestId, and exits when it ended. Its module waits for
 * the file `go` in CONTROL_DIR (the reader is attached by then), then emits COUNT transient items
 * (KIND `transient`) or writes COUNT log entries with ctx.log (KIND `log`), one every GAP_MS
 * (0: one per turn of the event loop), each carrying its emission time on the machine-wide clock.
 *
 *   node --import tsx bench/live-writer.ts STORE_SPEC REQUEST_ID COUNT GAP_MS CONTROL_DIR KIND
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStoreSpec } from '../src/cli/store-spec.js';
import { runAction, type Module } from '../src/index.js';

const [spec, requestId, count, gapMs, controlDir, kind] = process.argv.slice(2) as [string, string, string, string, string, 'transient' | 'log'];
const stores = openStoreSpec(spec);
const pause = (): Promise<void> => new Promise((r) => (Number(gapMs) > 0 ? setTimeout(r, Number(gapMs)) : setImmediate(r)));
const emit: Module = async (_input, ctx) => {
  while (!existsSync(join(controlDir, 'go'))) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < Number(count); i++) {
    const at = performance.timeOrigin + performance.now();
    if (kind === 'log') ctx.log('Tick', `tick ${i}`, { i, at });
    else ctx.emitItem({ type: 'tick', content: { i, at }, transient: true });
    await pause();
  }
  return { count: Number(count) };
};
const result = await runAction({
  flow: { id: 'bench/live', actions: { main: { startAt: 'emit', steps: { emit: { stepType: 'MODULE', moduleIdentifier: 'bench/live' } } } } },
  requestId,
  userId: 'bench',
  source: 'manual',
  stores,
  // The log entries of one run are kept up to maxHistoryPerRun (10,000 by default): room for all of them.
  runtimeConfig: { modules: { 'bench/live': emit }, maxHistoryPerRun: 1_000_000 },
});
await stores.close();
process.stdout.write(`${result.status}\n`);
