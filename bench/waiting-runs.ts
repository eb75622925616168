/**
 * Memory of waiting runs (issue 3): 100,000 runs that each wait on a timer — their first step
 * failed and retries in an hour, so the run is recorded with its wake-up time and holds no
 * worker — on the SQLite store. Reports the process RSS before and after, in its own process:
 * `node --expose-gc --import tsx bench/waiting-runs.ts [N]`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, createSqliteStore, type FlowDefinition } from '../src/index.js';

const flow: FlowDefinition = {
  id: 'bench/waits',
  actions: {
    main: {
      startAt: 'later',
      steps: { later: { stepType: 'MODULE', moduleIdentifier: 'not-yet', retry: { maxAttempts: 2, backoffMs: 3_600_000 } } },
    },
  },
};

export interface WaitingRunsResult {
  runs: number;
  waiting: number;
  createSeconds: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapUsedMb: number;
}

/** Starts `n` runs that end up waiting on an hour-long timer and measures memory. */
export async function benchWaitingRuns(n: number): Promise<WaitingRunsResult> {
  const store = createSqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'flowrun-wait-')), 'flowrun.db') });
  const engine = createEngine({ stores: store, modules: { 'not-yet': () => Promise.reject(Object.assign(new Error('not yet'), { code: 'NOT_YET' })) } });
  await engine.deployFlow(flow, { publish: true });
  globalThis.gc?.();
  const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
  const rssBeforeMb = mb(process.memoryUsage().rss);
  const started = performance.now();
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => engine.startRun({ flow: 'bench/waits' })));
    await engine.whenIdle();
  }
  await engine.whenIdle();
  const createSeconds = Math.round((performance.now() - started) / 100) / 10;
  globalThis.gc?.();
  const memory = process.memoryUsage();
  let waiting = 0;
  let marker: string | undefined;
  do {
    const page = await store.listRuns({ status: 'ACTIVE', limit: 1000, ...(marker ? { marker } : {}) });
    waiting += page.runs.filter((r) => r.leaseOwner === null && (r.readyAt ?? 0) > Date.now()).length;
    marker = page.marker ?? undefined;
  } while (marker);
  await engine.close();
  await store.close();
  return { runs: n, waiting, createSeconds, rssBeforeMb, rssAfterMb: mb(memory.rss), heapUsedMb: mb(memory.heapUsed) };
}

if (process.argv[1]?.endsWith('waiting-runs.ts')) {
  const n = Number(process.argv[2] ?? 100_000);
  benchWaitingRuns(n).then((r) => console.log(JSON.stringify(r)));
}
