/**
 * The writer process of bench/http.ts's cross-process SSE latency: runs one emitter run with
 * runAction over the store named by the spec, with the caller's requestId, and exits when it
 * ended. Each item carries its emission time on the machine-wide clock
 * (`performance.timeOrigin + performance.now()`), which the reading process compares with its own.
 *
 *   node --import tsx bench/http-writer.ts STORE_SPEC REQUEST_ID COUNT GAP_MS START_DELAY_MS
 */
import { performance } from 'node:perf_hooks';
import { openStoreSpec } from '../src/cli/store-spec.js';
import { createEngine, type Module } from '../src/index.js';

const [spec, requestId, count, gapMs, delayMs] = process.argv.slice(2) as [string, string, string, string, string];
const stores = openStoreSpec(spec);
const emit: Module = async (_input, ctx) => {
  // The reader connects meanwhile, so every item is measured live, not replayed.
  await new Promise((r) => setTimeout(r, Number(delayMs)));
  for (let i = 0; i < Number(count); i++) {
    const at = performance.timeOrigin + performance.now();
    ctx.emitItem({ type: 'tick', content: { i, at } });
    ctx.emitItem({ type: 'typing', content: { i, at }, transient: true });
    await new Promise((r) => setTimeout(r, Number(gapMs)));
  }
  return { count: Number(count) };
};
const engine = createEngine({ stores, modules: { 'bench/emit': emit } });
const result = await engine.runAction({
  flow: { id: 'bench/remote-emitter', actions: { main: { startAt: 'emit', steps: { emit: { stepType: 'MODULE', moduleIdentifier: 'bench/emit' } } } } },
  requestId,
  userId: 'bench',
  source: 'manual',
});
await engine.close();
await stores.close();
process.stdout.write(`${result.status}\n`);
