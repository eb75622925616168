import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type Logger } from '../../index.js';
import { createManualClock } from '../../testing/index.js';

const hangs: FlowDefinition = {
  id: 'callee/hangs',
  actions: { main: { startAt: 'h', steps: { h: { stepType: 'MODULE', moduleIdentifier: 'hang' } } } },
};
const hangModule = {
  hang: (_input: Record<string, unknown>, ctx: { signal: AbortSignal }) =>
    new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
};

describe('asynchronous calls', () => {
  it('continues at once, gives the callee its own timeout, and never receives its error', async () => {
    const clock = createManualClock();
    const engine = createEngine({ stores: createMemoryStores(), clock, poll: false, modules: hangModule });
    await engine.deployFlow(hangs, { publish: true });
    const caller: FlowDefinition = {
      id: 'caller/async',
      actions: {
        main: {
          startAt: 'fire',
          steps: {
            fire: { stepType: 'RUN_FLOW', flowDefinitionId: 'callee/hangs', async: true, timeoutMs: 3_000, defaultNextStepInstanceId: 'after' },
            after: { stepType: 'COMPUTE', expression: '{started: steps.fire.startedFlowExecutionId}' },
          },
        },
      },
    };
    const result = await engine.runAction({ flow: caller, timeoutMs: 60_000 });
    expect(result.status).toBe('SUCCEEDED');
    const calleeId = (result.output as { started: string }).started;
    expect((await engine.getRun(calleeId)).status).toBe('ACTIVE');
    await clock.advance(3_000);
    const callee = await engine.waitForRun(calleeId);
    expect(callee.status).toBe('FAILED');
    expect(callee.runError?.code).toBe('TIMEOUT');
    expect((await engine.getRun(result.requestId)).status).toBe('SUCCEEDED');
    const ledger = await engine.getRunLedger(result.requestId);
    expect(ledger).toEqual([expect.objectContaining({ kind: 'launch', to: expect.objectContaining({ runId: calleeId, async: true }) })]);
  });

  it('does not cancel launched runs when the starter is canceled', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: hangModule });
    await engine.deployFlow(hangs, { publish: true });
    const starter: FlowDefinition = {
      id: 'starter',
      actions: {
        main: {
          startAt: 'launch',
          steps: {
            launch: { stepType: 'START_FLOW_EXECUTION', literals: { flowDefinitionId: 'callee/hangs' }, defaultNextStepInstanceId: 'wait' },
            wait: { stepType: 'MODULE', moduleIdentifier: 'hang' },
          },
        },
      },
    };
    const { requestId } = await engine.startRun({ flow: starter });
    let launched: string | undefined;
    for (let i = 0; i < 50 && !launched; i++) {
      launched = (await engine.listRuns({ parentRunId: requestId })).runs[0]?.runId;
      if (!launched) await new Promise((r) => setImmediate(r));
    }
    expect(launched).toBeDefined();
    await engine.cancelRun(requestId);
    expect((await engine.getRun(requestId)).status).toBe('CANCELED');
    expect((await engine.getRun(launched!)).status).toBe('ACTIVE');
    await engine.cancelRun(launched!);
  });
});

describe('frames, outputs and endings', () => {
  it('returns the declared returned outputs instead of the last step output', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { settings: { currency: 'EUR' } } });
    const flow: FlowDefinition = {
      id: 'outputs',
      actions: {
        main: {
          outputs: { total: { type: 'number', returned: true }, note: { type: 'text' } },
          startAt: 'a',
          steps: {
            a: { stepType: 'SET', target: '$.outputs.total', expression: '40 + 2', defaultNextStepInstanceId: 'b' },
            b: { stepType: 'SET', target: '$.outputs.note', expression: '"in " + settings.currency', defaultNextStepInstanceId: 'c' },
            c: { stepType: 'COMPUTE', expression: '"ignored"' },
          },
        },
      },
    };
    const result = await engine.runAction({ flow });
    expect(result.output).toEqual({ total: 42 });
    const run = await engine.getRun(result.requestId);
    expect(run.state.outputs).toEqual({ total: 42, note: 'in EUR' });
    const outputEvents = (await engine.getRunEvents(result.requestId)).filter((e) => e.kind === 'output');
    expect(outputEvents.map((e) => (e.kind === 'output' ? [e.name, e.value] : null))).toEqual([
      ['total', 42],
      ['note', 'in EUR'],
    ]);
  });

  it('drops the old frame step outputs on goto and returns from a subflow at SUCCEED', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    const flow: FlowDefinition = {
      id: 'frames',
      actions: {
        main: {
          startAt: 'first',
          steps: {
            first: { stepType: 'COMPUTE', expression: '"kept"', defaultNextStepInstanceId: 'call' },
            call: { stepType: 'RUN_FLOW', subflow: 'sub', defaultNextStepInstanceId: 'last' },
            last: { stepType: 'COMPUTE', expression: '{first: steps.first, call: steps.call}' },
          },
        },
      },
      subflows: {
        sub: { startAt: 's1', steps: { s1: { stepType: 'COMPUTE', expression: '"gone"', defaultNextStepInstanceId: 'jump' }, jump: { stepType: 'GOTO', subflow: 'tail' } } },
        tail: {
          startAt: 't1',
          steps: {
            t1: { stepType: 'COMPUTE', expression: '{sawOld: steps["s" + 1] is undefined}', defaultNextStepInstanceId: 'stop' },
            stop: { stepType: 'SUCCEED', defaultNextStepInstanceId: 'never' },
            never: { stepType: 'FAIL', code: 'SHOULD_NOT_RUN' },
          },
        },
      },
    };
    const result = await engine.runAction({ flow });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ first: 'kept', call: { sawOld: true } });
  });

  it('fails with the FAIL step code, and a catch on the caller of the subflow handles it', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    const flow: FlowDefinition = {
      id: 'failing',
      actions: {
        main: {
          startAt: 'call',
          steps: {
            call: { stepType: 'RUN_FLOW', subflow: 'check', catch: [{ errorEquals: ['*'], next: 'recover' }] },
            recover: { stepType: 'COMPUTE', expression: '{recovered: steps.call.error.code, why: steps.call.error.description}' },
          },
        },
      },
      subflows: { check: { startAt: 'no', steps: { no: { stepType: 'FAIL', code: 'OUT_OF_STOCK', description: 'sku tea is out of stock' } } } },
    };
    const result = await engine.runAction({ flow });
    expect(result.output).toEqual({ recovered: 'OUT_OF_STOCK', why: 'sku tea is out of stock' });
    const codes = (await engine.getRunLogs(result.requestId)).entries.map((e) => e.code);
    expect(codes).toContain('StepFailed');
    expect(codes).toContain('StepCaught');
  });

  it('times a step out with TIMEOUT, which retry and catch see like any code', async () => {
    const clock = createManualClock();
    let attempts = 0;
    const engine = createEngine({
      stores: createMemoryStores(),
      clock,
      poll: false,
      modules: {
        slow: (_input, ctx) => {
          attempts++;
          return hangModule.hang(_input, ctx);
        },
      },
    });
    const flow: FlowDefinition = {
      id: 'step-timeout',
      actions: {
        main: {
          startAt: 'slow',
          steps: {
            slow: { stepType: 'MODULE', moduleIdentifier: 'slow', timeoutMs: 100, retry: { maxAttempts: 2, errorEquals: ['TIMEOUT'] }, catch: [{ errorEquals: ['TIMEOUT'], next: 'fallback' }] },
            fallback: { stepType: 'COMPUTE', expression: '"fallback after " + steps.slow.error.code' },
          },
        },
      },
    };
    const running = engine.runAction({ flow });
    await clock.advance(100);
    await clock.advance(100);
    const result = await running;
    expect(attempts).toBe(2);
    expect(result.output).toBe('fallback after TIMEOUT');
  });

  it('persists items a long-running module emits before the module finishes', async () => {
    const clock = createManualClock();
    let finish: () => void = () => undefined;
    const engine = createEngine({
      stores: createMemoryStores(),
      clock,
      poll: false,
      modules: {
        long: (_input, ctx) => {
          ctx.emitItem({ type: 'message', content: 'working…' });
          return new Promise<string>((resolve) => (finish = () => resolve('done')));
        },
      },
    });
    const running = engine.runAction({ flow: { id: 'long', actions: { main: { startAt: 'l', steps: { l: { stepType: 'MODULE', moduleIdentifier: 'long' } } } } } });
    await clock.advance(10);
    const [run] = (await engine.listRuns()).runs;
    expect(run?.status).toBe('ACTIVE');
    expect(await engine.store.getRunItems(run!.runId)).toEqual([expect.objectContaining({ type: 'message', content: 'working…', status: 'in_progress' })]);
    finish();
    expect((await running).status).toBe('SUCCEEDED');
  });

  it('logs and ignores a live listener that throws', async () => {
    const warnings: unknown[] = [];
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: (obj) => void warnings.push(obj), error: () => undefined };
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { logger } });
    const { requestId } = { requestId: 'listener-run' };
    engine.onRunEvent(requestId, () => {
      throw new Error('listener bug');
    });
    const result = await engine.runAction({ flow: { id: 'x', actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '1' } } } } }, requestId });
    expect(result.status).toBe('SUCCEEDED');
    expect(warnings.length).toBeGreaterThan(0);
  });
});
