/**
 * Recovery never re-runs a run into the budget it exceeded: a run whose stored state is already
 * over `maxStateBytes` (or that used up its steps) is failed with LIMIT_EXCEEDED when it is
 * claimed, before any step runs. On a SQLite file, with the process that held the run gone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, createFilesystemStores, type FlowDefinition, type Module } from '../../src/index.js';
import { createManualClock } from '../../src/testing/index.js';

/** Writes a 50 KB var, then calls `hang` (which never returns by itself), then `after`. */
const bigThenHang: FlowDefinition = {
  id: 'recovery/big',
  vars: { big: { type: 'text', default: '' } },
  actions: {
    main: {
      startAt: 'fill',
      steps: {
        fill: { stepType: 'SET', target: '$.vars.big', expression: '"x".repeat(50000)', defaultNextStepInstanceId: 'hang' },
        hang: { stepType: 'MODULE', moduleIdentifier: 'hang', defaultNextStepInstanceId: 'after' },
        after: { stepType: 'MODULE', moduleIdentifier: 'after' },
      },
    },
  },
};

/**
 * A first process that committed `fill` and then "died" inside `hang`, and a next process over
 * the same file with `budgets`, started once the first one's lease ran out.
 */
async function crashInsideHangThenResume(budgets: Record<string, number>) {
  const rootDir = mkdtempSync(join(tmpdir(), 'flowrun-budget-recovery-'));
  const calls: string[] = [];
  let release: () => void = () => undefined;
  const hanging = new Promise<void>((resolve) => (release = resolve));
  const modules: Record<string, Module> = {
    hang: async () => {
      calls.push('hang');
      await hanging;
      return null;
    },
    after: () => (calls.push('after'), null),
  };
  const clockA = createManualClock();
  const storesA = createFilesystemStores({ rootDir });
  const first = createEngine({ stores: storesA, clock: clockA, poll: false, modules, leaseMs: 1_000 });
  const { requestId } = await first.startRun({ flow: bigThenHang, input: {} });
  for (let i = 0; i < 200 && !calls.includes('hang'); i++) await new Promise((resolve) => setImmediate(resolve));
  const callsBefore = [...calls];

  const clockB = createManualClock(clockA.now() + 60_000);
  const storesB = createFilesystemStores({ rootDir });
  const next = createEngine({ stores: storesB, clock: clockB, modules, leaseMs: 1_000, runtimeConfig: { budgets } });
  await clockB.advance(0);
  const close = async (): Promise<void> => {
    release();
    await next.close();
    await first.close();
    await storesB.close();
    await storesA.close();
  };
  return { requestId, calls, callsBefore, next, close };
}

describe('recovery within budgets (SQLite file)', () => {
  it('fails a claimed run whose stored state is over maxStateBytes with LIMIT_EXCEEDED, without executing a step', async () => {
    // The first process: default budgets; it commits the 50 KB state, then "dies" inside `hang`.
    // The next process, configured with a smaller state budget, claims the run once its lease ran out.
    const { requestId, calls, callsBefore, next, close } = await crashInsideHangThenResume({ maxStateBytes: 20_000 });
    expect(callsBefore).toEqual(['hang']);
    const ended = await next.waitForRun(requestId);
    expect(ended).toMatchObject({ status: 'FAILED', runError: { code: 'LIMIT_EXCEEDED', details: { limit: 'maxStateBytes', max: 20_000 } } });
    expect((ended.runError?.details as { value: number }).value).toBeGreaterThan(20_000);
    // Neither `hang` again nor `after`: no step ran.
    expect(calls).toEqual(['hang']);
    await close();
  });

  it('fails a claimed run that already used its steps, without executing one more', async () => {
    // `fill` was counted and committed before `hang` was called; the next process allows one step.
    const { requestId, calls, next, close } = await crashInsideHangThenResume({ maxStepsPerRun: 1 });
    expect(await next.waitForRun(requestId)).toMatchObject({ status: 'FAILED', runError: { code: 'LIMIT_EXCEEDED', details: { limit: 'maxStepsPerRun', max: 1 } } });
    expect(calls).toEqual(['hang']);
    await close();
  });
});
