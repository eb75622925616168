/**
 * Call-and-return overhead (issue 2): a parent that runs 1 step, calls a 3-step child flow and
 * waits, then runs 1 more step, on the memory store — sequentially and 64 at a time — against the
 * same shape written as plain async functions in the same process (the floor).
 */
import { createEngine, createMemoryStores, type FlowDefinition } from '../src/index.js';

export const child: FlowDefinition = {
  id: 'bench/child',
  actions: {
    main: {
      params: { x: { type: 'number', required: true } },
      startAt: 'a',
      steps: {
        a: { stepType: 'COMPUTE', expression: 'input.x + 1', defaultNextStepInstanceId: 'b' },
        b: { stepType: 'COMPUTE', expression: 'steps.a * 2', defaultNextStepInstanceId: 'c' },
        c: { stepType: 'COMPUTE', expression: '{value: steps.b}' },
      },
    },
  },
};

export const parent: FlowDefinition = {
  id: 'bench/parent',
  actions: {
    main: {
      params: { n: { type: 'number', required: true } },
      startAt: 'first',
      steps: {
        first: { stepType: 'COMPUTE', expression: 'input.n', defaultNextStepInstanceId: 'call' },
        call: { stepType: 'RUN_FLOW', flowDefinitionId: 'bench/child', inputMappings: { x: '$.steps.first' }, defaultNextStepInstanceId: 'last' },
        last: { stepType: 'COMPUTE', expression: 'steps.call.value' },
      },
    },
  },
};

async function plainChild(x: number): Promise<{ value: number }> {
  const a = await Promise.resolve(x + 1);
  const b = await Promise.resolve(a * 2);
  return Promise.resolve({ value: b });
}

async function plainParent(n: number): Promise<number> {
  const first = await Promise.resolve(n);
  const call = await plainChild(first);
  return Promise.resolve(call.value);
}

/** Runs `total` jobs with at most `concurrency` in flight; returns elapsed ms. */
async function drive(total: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await job(next++);
    }),
  );
  return performance.now() - started;
}

export interface CallReturnResult {
  concurrency: number;
  runs: number;
  flowrunRunsPerSec: number;
  flowrunUsPerRun: number;
  plainRunsPerSec: number;
  plainUsPerRun: number;
  ratio: number;
}

/** Measures both at concurrency 1 and 64. */
export async function benchCallReturn(runs = 5_000): Promise<CallReturnResult[]> {
  const results: CallReturnResult[] = [];
  for (const concurrency of [1, 64]) {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: {} });
    await engine.deployFlow(child, { publish: true });
    await engine.deployFlow(parent, { publish: true });
    const check = await engine.runAction({ flow: 'bench/parent', input: { n: 1 } });
    if (check.output !== 4) throw new Error(`bench flow is wrong: ${JSON.stringify(check)}`);
    await drive(500, concurrency, (i) => engine.runAction({ flow: 'bench/parent', input: { n: i } })); // warm-up
    const flowMs = await drive(runs, concurrency, (i) => engine.runAction({ flow: 'bench/parent', input: { n: i } }));
    await engine.close();
    await drive(runs, concurrency, (i) => plainParent(i)); // warm-up
    const plainMs = await drive(runs * 10, concurrency, (i) => plainParent(i));
    const plainUs = (plainMs * 1000) / (runs * 10);
    const flowUs = (flowMs * 1000) / runs;
    results.push({
      concurrency,
      runs,
      flowrunRunsPerSec: Math.round(runs / (flowMs / 1000)),
      flowrunUsPerRun: round(flowUs),
      plainRunsPerSec: Math.round((runs * 10) / (plainMs / 1000)),
      plainUsPerRun: round(plainUs),
      ratio: round(flowUs / plainUs),
    });
  }
  return results;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
