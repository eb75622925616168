/**
 * The 1,000,000-iteration goto loop (issue 2): wall time and resident memory from start to end.
 * Runs in its own process (`node --import tsx bench/goto-loop.ts N`) so RSS belongs to it alone.
 */
import { createEngine, createMemoryStores, type FlowDefinition } from '../src/index.js';

export const gotoLoop = (iterations: number): FlowDefinition => ({
  id: 'bench/goto-loop',
  vars: { i: { type: 'number', default: 0 } },
  actions: { main: { startAt: 'go', steps: { go: { stepType: 'GOTO', subflow: 'tick' } } } },
  subflows: {
    tick: {
      startAt: 'inc',
      steps: {
        inc: { stepType: 'SET', target: '$.vars.i', expression: 'vars.i + 1', defaultNextStepInstanceId: 'check' },
        check: { stepType: 'DECIDE', transitions: [{ condition: `vars.i < ${iterations}`, nextStepInstanceId: 'again' }], defaultNextStepInstanceId: 'done' },
        again: { stepType: 'GOTO', subflow: 'tick' },
        done: { stepType: 'COMPUTE', expression: '{iterations: vars.i}' },
      },
    },
  },
});

export interface GotoLoopResult {
  iterations: number;
  wallMs: number;
  stepsPerSec: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  rssGrowthMb: number;
  logEntries: number;
}

/** Runs the loop and samples RSS every 100 ms. */
export async function benchGotoLoop(iterations: number): Promise<GotoLoopResult> {
  const engine = createEngine({ stores: createMemoryStores(), poll: false });
  await engine.runAction({ flow: gotoLoop(1_000) }); // warm-up: JIT and caches
  globalThis.gc?.();
  const mb = (): number => Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
  const rssStartMb = mb();
  let rssPeakMb = rssStartMb;
  const sampler = setInterval(() => (rssPeakMb = Math.max(rssPeakMb, mb())), 100);
  const started = performance.now();
  const result = await engine.runAction({ flow: gotoLoop(iterations) });
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  if ((result.output as { iterations: number }).iterations !== iterations) throw new Error(`loop ended early: ${JSON.stringify(result.output)}`);
  globalThis.gc?.();
  const rssEndMb = mb();
  rssPeakMb = Math.max(rssPeakMb, rssEndMb);
  const logs = await engine.getRunLogs(result.requestId, { limit: 1 });
  await engine.close();
  return {
    iterations,
    wallMs: Math.round(wallMs),
    stepsPerSec: Math.round((iterations * 4) / (wallMs / 1000)),
    rssStartMb,
    rssPeakMb,
    rssEndMb,
    rssGrowthMb: Math.round((rssEndMb - rssStartMb) * 10) / 10,
    logEntries: logs.total,
  };
}

if (process.argv[1]?.endsWith('goto-loop.ts')) {
  const n = Number(process.argv[2] ?? 1_000_000);
  benchGotoLoop(n).then((r) => console.log(JSON.stringify(r)));
}
