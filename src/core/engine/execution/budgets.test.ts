import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type Module } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';
import { jsonSize } from '../../json-size.js';
import { DOUBLING_FLOW as doublingFlow } from '../../../../test/support/hostile-flows.js';

/** Issue 12, item 7: a goto loop that writes an action output at every iteration. */
function outputLoop(iterations: number): FlowDefinition {
  return {
    id: 'm/outputs',
    actions: { main: { outputs: { n: { type: 'number', default: 0 } }, startAt: 'go', steps: { go: { stepType: 'GOTO', subflow: 'tick' } } } },
    subflows: {
      tick: {
        startAt: 'inc',
        steps: {
          inc: { stepType: 'SET', target: '$.outputs.n', expression: 'outputs.n + 1', defaultNextStepInstanceId: 'check' },
          check: { stepType: 'DECIDE', transitions: [{ condition: `outputs.n < ${iterations}`, nextStepInstanceId: 'again' }] },
          again: { stepType: 'GOTO', subflow: 'tick' },
        },
      },
    },
  };
}

/** A goto loop that never ends. */
const forever: FlowDefinition = {
  id: 'm/forever',
  actions: { main: { startAt: 'go', steps: { go: { stepType: 'GOTO', subflow: 'spin' } } } },
  subflows: { spin: { startAt: 'again', steps: { again: { stepType: 'GOTO', subflow: 'spin' } } } },
};

describe('the value budget (maxValueBytes)', () => {
  it('fails a value that doubles itself with LIMIT_EXCEEDED at the step that writes it, writes nothing, and keeps the process small', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, poll: false });
    const heapBefore = process.memoryUsage().heapUsed;
    const result = await engine.runAction({ flow: doublingFlow, input: { k: 28 } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'LIMIT_EXCEEDED', stepId: 's', details: { limit: 'maxValueBytes', max: 1024 * 1024 } });
    expect((result.error?.details as { value: number }).value).toBeGreaterThan(1024 * 1024);
    const run = await engine.getRun(result.requestId);
    // The last doubling that fit is there; the one over the budget was never written.
    expect(jsonSize(run.state.vars.d)).toBeLessThanOrEqual(1024 * 1024);
    expect(jsonSize(run.state.vars.d)).toBeGreaterThan(512 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
    await engine.close();
  });

  it('lets a catch clause handle LIMIT_EXCEEDED like any step error, and never retries it', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { budgets: { maxValueBytes: 1000 } } });
    const flow: FlowDefinition = {
      id: 'm/caught',
      actions: {
        main: {
          startAt: 'big',
          steps: {
            big: { stepType: 'COMPUTE', expression: '"x".repeat(2000)', retry: { maxAttempts: 5 }, catch: [{ errorEquals: ['LIMIT_EXCEEDED'], next: 'small' }] },
            small: { stepType: 'COMPUTE', expression: '{caught: steps.big.error.code, limit: steps.big.error.details.limit}' },
          },
        },
      },
    };
    const result = await engine.runAction({ flow, input: {} });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { caught: 'LIMIT_EXCEEDED', limit: 'maxValueBytes' } });
    const logs = await engine.getRunLogs(result.requestId, { limit: 100 });
    expect(logs.entries.filter((e) => e.code === 'StepRetrying')).toEqual([]);
  });

  it('holds a module result, its ctx.write and its output mappings to the budget, and leaves outputs as they were', async () => {
    const modules: Record<string, Module> = {
      big: () => ({ blob: 'y'.repeat(5000) }),
      writes: (_input, ctx) => {
        ctx.write('note', 'kept?');
        try {
          ctx.write('note', 'z'.repeat(5000));
        } catch {
          // swallowed: the step fails anyway
        }
        return { ok: true };
      },
      small: () => ({ part: 'p'.repeat(600) }),
    };
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { modules, budgets: { maxValueBytes: 1000 } } });
    const run = (steps: FlowDefinition['actions'][string]['steps'], startAt: string) =>
      engine.runAction({ flow: { id: `m/${startAt}`, actions: { main: { outputs: { note: { type: 'text', default: 'start' } }, startAt, steps } } }, input: {} });

    const big = await run({ m: { stepType: 'MODULE', moduleIdentifier: 'big' } }, 'm');
    expect(big.error).toMatchObject({ code: 'LIMIT_EXCEEDED', stepId: 'm', details: { limit: 'maxValueBytes' } });

    const writes = await run({ m: { stepType: 'MODULE', moduleIdentifier: 'writes' } }, 'm');
    expect(writes.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxValueBytes' } });
    expect((await engine.getRun(writes.requestId)).state.outputs).toEqual({ note: 'start' });

    const mapped = await run({ m: { stepType: 'MODULE', moduleIdentifier: 'small', outputMappings: { '$.outputs.note': 'output.part + output.part' } } }, 'm');
    expect(mapped.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxValueBytes' } });
    expect((await engine.getRun(mapped.requestId)).state.outputs).toEqual({ note: 'start' });
  });

  it('holds the output a child run returns to its caller to the budget', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { budgets: { maxValueBytes: 1000, maxStateBytes: 1_000_000 } } });
    await engine.deployFlow(
      { id: 'm/child', actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '["' + 'c'.repeat(600) + '", "' + 'c'.repeat(600) + '"][0]', defaultNextStepInstanceId: 'b' }, b: { stepType: 'SUCCEED', expression: '{a: steps.a, b: steps.a}' } } } } },
      { publish: true },
    );
    const result = await engine.runAction({ flow: { id: 'm/parent', actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'm/child' } } } } }, input: {} });
    // The child's own SUCCEED value is an expression result over the budget: the child fails, and so does the call.
    expect(result.error).toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });
});

describe('the state budget (maxStateBytes)', () => {
  it('fails a run whose state outgrows the budget, each write being small', async () => {
    const flow: FlowDefinition = {
      id: 'm/grow',
      vars: { list: { type: 'any', default: [] } },
      actions: { main: { startAt: 'go', steps: { go: { stepType: 'GOTO', subflow: 'add' } } } },
      subflows: {
        add: {
          startAt: 'a',
          steps: {
            a: { stepType: 'SET', target: '$.vars.list', expression: 'vars.list.concat(["' + 'q'.repeat(200) + '"])', defaultNextStepInstanceId: 'b' },
            b: { stepType: 'GOTO', subflow: 'add' },
          },
        },
      },
    };
    const stores = createMemoryStores();
    const engine = createEngine({ stores, poll: false, runtimeConfig: { budgets: { maxValueBytes: 6_000, maxStateBytes: 10_000 } } });
    const result = await engine.runAction({ flow, input: {} });
    expect(result.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxStateBytes', max: 10_000 } });
    // What is stored exceeds the budget by at most the writes of the step that crossed it.
    const stored = await stores.getRun(result.requestId);
    expect(jsonSize(stored!.state)).toBeLessThan(10_000 + 3 * 6_000);
  });
});

describe('the steps budget (maxStepsPerRun)', () => {
  it('fails a run that never ends after maxStepsPerRun steps', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { budgets: { maxStepsPerRun: 500 } } });
    const result = await engine.runAction({ flow: forever, input: {} });
    expect(result.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxStepsPerRun', max: 500, value: 501 } });
    expect((await engine.getRun(result.requestId)).state.stepCount).toBe(500);
  });

  it('counts retries as steps', async () => {
    let calls = 0;
    const engine = createEngine({
      stores: createMemoryStores(),
      poll: false,
      runtimeConfig: { budgets: { maxStepsPerRun: 10 }, modules: { flaky: () => { calls += 1; throw new Error('down'); } } },
    });
    const flow: FlowDefinition = { id: 'm/retry', actions: { main: { startAt: 'm', steps: { m: { stepType: 'MODULE', moduleIdentifier: 'flaky', retry: { maxAttempts: 1000, backoffMs: 0 } } } } } };
    const result = await engine.runAction({ flow, input: {} });
    expect(result.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxStepsPerRun' } });
    expect(calls).toBe(10);
  });
});

describe('the duration budget (maxRunDurationMs)', () => {
  const napping: FlowDefinition = {
    id: 'm/nap',
    actions: { main: { startAt: 'nap', steps: { nap: { stepType: 'WAIT', durationMs: 60_000, defaultNextStepInstanceId: 'after' }, after: { stepType: 'COMPUTE', expression: '1' } } } },
  };

  it('gives every run a deadline no later than start + maxRunDurationMs and fails it there with LIMIT_EXCEEDED', async () => {
    const clock = createManualClock();
    const engine = createEngine({ stores: createMemoryStores(), clock, poll: false, runtimeConfig: { budgets: { maxRunDurationMs: 10_000 } } });
    const { requestId, run } = await engine.startRun({ flow: napping, input: {} });
    expect(run.deadline).toBe(run.startTime + 10_000);
    await engine.whenIdle();
    await clock.advance(10_000);
    const ended = await engine.waitForRun(requestId);
    expect(ended).toMatchObject({ status: 'FAILED', runError: { code: 'LIMIT_EXCEEDED', details: { limit: 'maxRunDurationMs', max: 10_000 } } });
  });

  it('keeps a shorter timeoutMs of the run itself, which still ends in TIMEOUT', async () => {
    const clock = createManualClock();
    const engine = createEngine({ stores: createMemoryStores(), clock, poll: false, runtimeConfig: { budgets: { maxRunDurationMs: 10_000 } } });
    const { requestId, run } = await engine.startRun({ flow: napping, input: {}, timeoutMs: 3_000 });
    expect(run.deadline).toBe(run.startTime + 3_000);
    await engine.whenIdle();
    await clock.advance(3_000);
    expect(await engine.waitForRun(requestId)).toMatchObject({ status: 'FAILED', runError: { code: 'TIMEOUT' } });
    const longer = await engine.startRun({ flow: napping, input: {}, timeoutMs: 50_000 });
    expect(longer.run.deadline).toBe(longer.run.startTime + 10_000);
  });
});

describe('output events and the history cap', () => {
  it('stores at most maxHistoryPerRun output events however long a run loops, while watchers still see every change and the state the latest value', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, poll: false, runtimeConfig: { maxHistoryPerRun: 100 } });
    const live: unknown[] = [];
    const stop = engine.onRunEvent('loop-1', (event) => {
      if (event.kind === 'output') live.push(event.value);
    });
    const result = await engine.runAction({ flow: outputLoop(2_000), requestId: 'loop-1', input: {} });
    stop();
    expect(result.status).toBe('SUCCEEDED');
    const stored = await stores.getRunEvents('loop-1', { limit: 100_000 });
    expect(stored.length).toBeLessThan(120);
    expect(stored.filter((e) => e.kind === 'output').length).toBeLessThanOrEqual(100);
    expect((await engine.getRun('loop-1')).state.outputs).toEqual({ n: 2_000 });
    expect(live).toHaveLength(2_000);
    expect(live.at(-1)).toBe(2_000);
  });
});
