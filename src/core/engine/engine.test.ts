import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, runAction, type FlowDefinition, type ItemEvent, type Module } from '../../index.js';
import { createManualClock, createSequentialIds } from '../../testing/index.js';

const reportGenerator: FlowDefinition = {
  id: 'report_generator',
  actions: {
    main: {
      params: { report_type: { type: 'text', required: true }, data: { type: 'map', required: true } },
      startAt: 'choose_report',
      steps: {
        choose_report: {
          stepType: 'DECIDE',
          transitions: [
            { condition: 'input.report_type is "summary"', nextStepInstanceId: 'run_summary' },
            { condition: 'input.report_type is "detailed"', nextStepInstanceId: 'run_detailed' },
          ],
          defaultNextStepInstanceId: 'run_default',
        },
        run_summary: { stepType: 'RUN_FLOW', subflow: 'generate_summary' },
        run_detailed: { stepType: 'RUN_FLOW', subflow: 'generate_detailed' },
        run_default: { stepType: 'RUN_FLOW', subflow: 'generate_default' },
      },
    },
  },
  subflows: {
    generate_summary: { startAt: 'build', steps: { build: { stepType: 'COMPUTE', expression: '{report: "Summary: " + input.data.title, type: "summary"}' } } },
    generate_detailed: { startAt: 'build', steps: { build: { stepType: 'COMPUTE', expression: '{report: "Detailed: " + JSON.stringify(input.data), type: "detailed"}' } } },
    generate_default: { startAt: 'build', steps: { build: { stepType: 'COMPUTE', expression: '{report: "Default report for " + input.data.title, type: "default"}' } } },
  },
};

function pipeline(childFlowId = 'child/triple'): FlowDefinition {
  return {
    id: 'parent/pipeline',
    actions: {
      main: {
        params: { n: { type: 'number', default: 2 } },
        startAt: 'before',
        steps: {
          before: { stepType: 'COMPUTE', expression: '{n: input.n}', defaultNextStepInstanceId: 'call' },
          call: { stepType: 'RUN_FLOW', flowDefinitionId: childFlowId, inputMappings: { x: '$.steps.before.n' }, defaultNextStepInstanceId: 'after' },
          after: { stepType: 'COMPUTE', expression: '{result: steps.call.value, before: steps.before.n}' },
        },
      },
    },
  };
}

const triple: FlowDefinition = {
  id: 'child/triple',
  actions: {
    main: {
      params: { x: { type: 'number', required: true } },
      startAt: 'a',
      steps: {
        a: { stepType: 'COMPUTE', expression: 'input.x * 3', defaultNextStepInstanceId: 'b' },
        b: { stepType: 'COMPUTE', expression: 'steps.a + 0', defaultNextStepInstanceId: 'c' },
        c: { stepType: 'COMPUTE', expression: '{value: steps.b}' },
      },
    },
  },
};

describe('runAction', () => {
  it('runs the seed report_generator and returns the last step output of the dispatched subflow', async () => {
    const stores = createMemoryStores();
    const result = await runAction({ flow: reportGenerator, actionName: 'main', input: { report_type: 'summary', data: { title: 'Q3' } }, userId: 'user_42', sessionId: 'nightly', source: 'manual', stores });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.error).toBeUndefined();
    expect(result.output).toEqual({ report: 'Summary: Q3', type: 'summary' });
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const run = await createEngine({ stores, poll: false }).getRun(result.requestId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', createdBy: 'user_42', runOwner: 'user_42', source: 'manual', sessionId: 'nightly', flowId: 'report_generator', flowVersion: 1, actionName: 'main', parentRunId: null, depth: 0 });
    expect(run.endTime).not.toBeNull();
  });

  it('uses a caller-chosen requestId so the run can be watched before it ends', async () => {
    const stores = createMemoryStores();
    const requestId = crypto.randomUUID();
    const result = await runAction({ flow: reportGenerator, input: { report_type: 'other', data: { title: 'X' } }, stores, requestId });
    expect(result.requestId).toBe(requestId);
    expect(result.output).toEqual({ report: 'Default report for X', type: 'default' });
  });

  it('rejects input that breaks the param schemas before any step runs, and records nothing', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, poll: false });
    await expect(engine.runAction({ flow: reportGenerator, input: { data: { title: 'X' } } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('report_type') });
    await expect(engine.runAction({ flow: reportGenerator, input: { report_type: 7, data: {} } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('input.report_type') });
    await expect(engine.runAction({ flow: reportGenerator, input: { report_type: 'a', data: {} }, timeoutMs: -5, tags: [3 as unknown as string] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      issues: [expect.objectContaining({ path: 'timeoutMs' }), expect.objectContaining({ path: 'tags' })],
    });
    expect((await engine.listRuns()).runs).toHaveLength(0);
    expect(await engine.listFlows()).toEqual([]);
  });

  it('rejects unknown flows and actions with FLOW_NOT_FOUND / ACTION_NOT_FOUND and records nothing', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, poll: false });
    await expect(engine.runAction({ flow: 'nope/missing' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    await expect(engine.runAction({ flow: reportGenerator, actionName: 'absent', input: { report_type: 'summary', data: {} } })).rejects.toMatchObject({ code: 'ACTION_NOT_FOUND' });
    expect((await engine.listRuns()).runs).toHaveLength(0);
  });

  it('refuses a requestId that is already used', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, poll: false });
    await engine.runAction({ flow: reportGenerator, input: { report_type: 'summary', data: { title: 'a' } }, requestId: 'fixed-1' });
    await expect(engine.runAction({ flow: reportGenerator, input: { report_type: 'summary', data: { title: 'b' } }, requestId: 'fixed-1' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe('calls between flows', () => {
  it('calls another flow as a child run and continues after it with its output', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    await engine.deployFlow(triple, { publish: true });
    const result = await engine.runAction({ flow: pipeline(), input: { n: 5 } });
    expect(result.output).toEqual({ result: 15, before: 5 });
    const children = await engine.listRuns({ parentRunId: result.requestId });
    expect(children.runs).toHaveLength(1);
    expect(children.runs[0]).toMatchObject({ flowId: 'child/triple', status: 'SUCCEEDED', rootRunId: result.requestId, depth: 1, detached: false, output: { value: 15 } });
    const ledger = await engine.getRunLedger(result.requestId);
    expect(ledger.map((e) => e.kind)).toEqual(['call']);
    expect(ledger[0]).toMatchObject({ from: { flowId: 'parent/pipeline', stepId: 'call' }, to: { flowId: 'child/triple', runId: children.runs[0]!.runId } });
  });

  it('fails the calling step with the child error code, which a catch clause can handle', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    await engine.deployFlow({ id: 'child/fails', actions: { main: { startAt: 'f', steps: { f: { stepType: 'FAIL', code: 'OUT_OF_STOCK', description: 'no stock' } } } } }, { publish: true });
    const flow: FlowDefinition = {
      id: 'parent/catches',
      actions: {
        main: {
          startAt: 'call',
          steps: {
            call: { stepType: 'RUN_FLOW', flowDefinitionId: 'child/fails', catch: [{ errorEquals: ['OUT_OF_STOCK'], next: 'notify' }] },
            notify: { stepType: 'COMPUTE', expression: '{notified: steps.call.error.code}' },
          },
        },
      },
    };
    const result = await engine.runAction({ flow });
    expect(result.output).toEqual({ notified: 'OUT_OF_STOCK' });
    const uncaught = await engine.runAction({ flow: { ...flow, id: 'parent/uncaught', actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'child/fails' } } } } } });
    expect(uncaught.status).toBe('FAILED');
    expect(uncaught.error?.code).toBe('OUT_OF_STOCK');
  });

  it('stops recursion at the depth limit with FLOW_DEPTH_EXCEEDED', async () => {
    const recurse: FlowDefinition = {
      id: 'recurse',
      actions: { main: { startAt: 'again', steps: { again: { stepType: 'RUN_FLOW', subflow: 'down' } } } },
      subflows: { down: { startAt: 'again', steps: { again: { stepType: 'RUN_FLOW', subflow: 'down' } } } },
    };
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { maxDepth: 7 } });
    const result = await engine.runAction({ flow: recurse });
    expect(result.status).toBe('FAILED');
    expect(result.error?.code).toBe('FLOW_DEPTH_EXCEEDED');
    expect(result.error?.message).toContain('limit of 7');
    const cross: FlowDefinition = { id: 'self-caller', actions: { main: { startAt: 'me', steps: { me: { stepType: 'RUN_FLOW', flowDefinitionId: 'self-caller' } } } } };
    await engine.deployFlow(cross, { publish: true });
    const crossResult = await engine.runAction({ flow: 'self-caller' });
    expect(crossResult.error?.code).toBe('FLOW_DEPTH_EXCEEDED');
    const all = await engine.listRuns({ flowId: 'self-caller', limit: 100 });
    expect(all.runs).toHaveLength(8); // depths 0..7: the 8th call is refused
    expect(all.runs.every((r) => r.status === 'FAILED')).toBe(true);
  });

  it('runs a goto loop without growing the stack and keeps the last frame result', async () => {
    const loop: FlowDefinition = {
      id: 'loop',
      vars: { i: { type: 'number', default: 0 } },
      actions: { main: { startAt: 'go', steps: { go: { stepType: 'GOTO', subflow: 'tick' } } } },
      subflows: {
        tick: {
          startAt: 'inc',
          steps: {
            inc: { stepType: 'SET', target: '$.vars.i', expression: 'vars.i + 1', defaultNextStepInstanceId: 'check' },
            check: { stepType: 'DECIDE', transitions: [{ condition: 'vars.i < 500', nextStepInstanceId: 'again' }], defaultNextStepInstanceId: 'done' },
            again: { stepType: 'GOTO', subflow: 'tick' },
            done: { stepType: 'COMPUTE', expression: '{iterations: vars.i}' },
          },
        },
      },
    };
    const engine = createEngine({ stores: createMemoryStores(), poll: false, runtimeConfig: { maxHistoryPerRun: 100 } });
    const result = await engine.runAction({ flow: loop });
    expect(result.output).toEqual({ iterations: 500 });
    const logs = await engine.getRunLogs(result.requestId, { limit: 10_000 });
    // Step-level history is capped per run, so the store does not grow with iterations.
    expect(logs.total).toBeLessThan(110);
    expect(logs.entries.some((e) => e.code === 'HistoryTruncated')).toBe(true);
    expect(logs.entries.at(-1)?.code).toBe('FlowSucceeded');
  });
});

describe('startRun', () => {
  it('answers with the run as it was recorded at the start, not as the execution goes on changing it', async () => {
    const engine = createEngine({ stores: createMemoryStores(), ids: createSequentialIds(), modules: { 'test/times-three': (input) => ({ value: (input['x'] as number) * 3 }) } });
    const viaModule: FlowDefinition = {
      id: 'child/module-triple',
      actions: { main: { params: { x: { type: 'number', required: true } }, startAt: 'a', steps: { a: { stepType: 'MODULE', moduleIdentifier: 'test/times-three', inputMappings: { x: '$.input.x' } } } } },
    } as FlowDefinition;
    await engine.deployFlow(viaModule, { publish: true });
    const { requestId, run } = await engine.startRun({ flow: 'child/module-triple', input: { x: 2 }, userId: 'ada', label: 'first' });
    expect(run).toMatchObject({ runId: requestId, flowId: 'child/module-triple', status: 'ACTIVE', createdBy: 'ada', label: 'first', version: 0, endTime: null });
    expect(run).not.toHaveProperty('state');
    const ended = await engine.waitForRun(requestId);
    expect(ended).toMatchObject({ status: 'SUCCEEDED', output: { value: 6 } });
    expect(run.status).toBe('ACTIVE');
    await engine.close();
  });
});

describe('fire-and-forget starts', () => {
  const processOrder: FlowDefinition = {
    id: 'process-order-flow',
    actions: {
      main: {
        startAt: 'work',
        steps: { work: { stepType: 'MODULE', moduleIdentifier: 'orders/process' } },
      },
    },
  };
  const intake: FlowDefinition = {
    id: 'order-intake',
    vars: { triggered_order_flow_id: { type: 'text' } },
    actions: {
      main: {
        startAt: 'trigger_order_processing',
        steps: {
          trigger_order_processing: {
            stepInstanceId: 'trigger_order_processing',
            displayName: 'Trigger Order Processing Flow',
            stepType: 'START_FLOW_EXECUTION',
            moduleIdentifier: 'system/start-flow-execution',
            literals: { flowDefinitionId: 'process-order-flow', flowVersion: 'LATEST_PUBLISHED' },
            inputMappings: { 'initialContextData.orderDetails': '$.currentItem' },
            outputMappings: { '$.flow_variables.triggered_order_flow_id': '$.startedFlowExecutionId' },
            defaultNextStepInstanceId: 'next_step_in_parent',
          },
          next_step_in_parent: { stepType: 'COMPUTE', expression: '{child: vars.triggered_order_flow_id, step: steps.trigger_order_processing}' },
        },
      },
    },
  };

  it('starts the seed-004 flow, returns its id in the seed shape at once, and never waits for it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: unknown[] = [];
    const modules: Record<string, Module> = {
      'orders/process': async (input) => {
        seen.push(input);
        await gate;
        throw Object.assign(new Error('warehouse down'), { code: 'WAREHOUSE_DOWN' });
      },
    };
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules });
    await engine.deployFlow(processOrder, { publish: true });
    const result = await engine.runAction({ flow: intake, input: { orderId: 'o-1' } });
    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as { child: string; step: { sqsMessageId: string; startedFlowExecutionId: string; _meta: { status: string } } };
    expect(output.step).toEqual({ sqsMessageId: expect.any(String), startedFlowExecutionId: output.child, _meta: { status: 'SUCCESS' } });
    expect(output.step.sqsMessageId).not.toBe(output.child);
    const child = await engine.getRun(output.child);
    expect(child).toMatchObject({ status: 'ACTIVE', detached: true, parentRunId: result.requestId, rootRunId: output.child });
    // The child's failure stays its own.
    release();
    const ended = await engine.waitForRun(output.child, { timeoutMs: 5_000 });
    expect(ended.status).toBe('FAILED');
    expect(ended.runError?.code).toBe('WAREHOUSE_DOWN');
    expect((await engine.getRun(result.requestId)).status).toBe('SUCCEEDED');
    expect(seen).toHaveLength(1);
    expect(child.input).toEqual({ orderDetails: { orderId: 'o-1' } });
  });

  it('turns step-level log entries of the started run off with enableExecutionLogs: false', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: { 'orders/process': () => ({ ok: true }) } });
    await engine.deployFlow(processOrder, { publish: true });
    const quiet = structuredClone(intake);
    (quiet.actions.main!.steps.trigger_order_processing!.literals as Record<string, unknown>).enableExecutionLogs = false;
    const result = await engine.runAction({ flow: quiet, input: {} });
    const childId = (result.output as { child: string }).child;
    await engine.waitForRun(childId, { timeoutMs: 5_000 });
    const codes = (await engine.getRunLogs(childId)).entries.map((e) => e.code);
    expect(codes).toEqual(['FlowStarted', 'FlowSucceeded']);
    const parentCodes = (await engine.getRunLogs(result.requestId)).entries.map((e) => e.code);
    expect(parentCodes).toContain('StepSucceeded');
  });

  it('fails the start step with FLOW_NOT_FOUND when the flow has no published version', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    await engine.deployFlow(processOrder); // deployed, not published
    const result = await engine.runAction({ flow: intake, input: {} });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'FLOW_NOT_FOUND', message: expect.stringContaining('no published version') });
  });
});

describe('modules, retries and catch', () => {
  it('retries with backoff on a manual clock, keeping the idempotency key stable', async () => {
    const clock = createManualClock();
    const keys: string[] = [];
    const attempts: number[] = [];
    const engine = createEngine({
      stores: createMemoryStores(),
      clock,
      ids: createSequentialIds(),
      poll: false,
      modules: {
        flaky: (_input, ctx) => {
          keys.push(ctx.idempotencyKey);
          attempts.push(ctx.attempt);
          if (ctx.attempt < 3) throw Object.assign(new Error('try later'), { code: 'UNAVAILABLE' });
          return { charged: true };
        },
      },
    });
    const flow: FlowDefinition = {
      id: 'retrying',
      actions: { main: { startAt: 'charge', steps: { charge: { stepType: 'MODULE', moduleIdentifier: 'flaky', retry: { maxAttempts: 3, backoffMs: 1000, backoffRate: 2 } } } } },
    };
    const running = engine.runAction({ flow });
    await clock.advance(999);
    expect(attempts).toEqual([1]);
    await clock.advance(1);
    expect(attempts).toEqual([1, 2]);
    await clock.advance(1999);
    expect(attempts).toEqual([1, 2]);
    await clock.advance(1);
    const result = await running;
    expect(attempts).toEqual([1, 2, 3]);
    expect(new Set(keys).size).toBe(1);
    expect(result.output).toEqual({ charged: true });
    const codes = (await engine.getRunLogs(result.requestId)).entries.map((e) => e.code);
    expect(codes.filter((c) => c === 'StepRetrying')).toHaveLength(2);
  });

  it('fails a step whose module is not registered with MODULE_NOT_FOUND, without retrying', async () => {
    let calls = 0;
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: { other: () => calls++ } });
    const result = await engine.runAction({
      flow: { id: 'm', actions: { main: { startAt: 'x', steps: { x: { stepType: 'MODULE', moduleIdentifier: 'billing/charge', retry: { maxAttempts: 5 } } } } } },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'MODULE_NOT_FOUND', message: expect.stringContaining('billing/charge') });
    expect((await engine.getRunLogs(result.requestId)).entries.filter((e) => e.code === 'StepRetrying')).toHaveLength(0);
  });

  it('passes module items to onItem (transient ones too) but persists only non-transient ones', async () => {
    const engine = createEngine({
      stores: createMemoryStores(),
      poll: false,
      modules: {
        talk: (_input, ctx) => {
          const message = ctx.emitItem({ type: 'message', content: 'Hel' });
          message.update('Hello');
          message.done('Hello, world');
          ctx.emitItem({ type: 'progress', content: '50%', transient: true }).done();
          ctx.log('Custom', 'a module log line', { n: 1 });
          return 'spoke';
        },
      },
    });
    const events: ItemEvent[] = [];
    const result = await engine.runAction({
      flow: { id: 'talker', actions: { main: { startAt: 't', steps: { t: { stepType: 'MODULE', moduleIdentifier: 'talk' } } } } },
      onItem: (e) => {
        events.push(e);
        throw new Error('a broken listener');
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(events.map((e) => `${e.type}:${e.change}`)).toEqual(['message:added', 'message:updated', 'message:done', 'progress:added', 'progress:done']);
    expect(events.filter((e) => e.transient).map((e) => e.type)).toEqual(['progress', 'progress']);
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({ type: 'message', status: 'done', content: 'Hello, world', transient: false });
    expect((await engine.getRunLogs(result.requestId)).entries.map((e) => e.code)).toContain('Custom');
  });
});

describe('cancel and timeouts', () => {
  it('cancels a run and its synchronous child, aborting the running module', async () => {
    let aborted = false;
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const engine = createEngine({
      stores: createMemoryStores(),
      poll: false,
      modules: {
        slow: (_input, ctx) =>
          new Promise((_resolve, reject) => {
            started();
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              reject(ctx.signal.reason);
            });
          }),
      },
    });
    await engine.deployFlow({ id: 'child/slow', actions: { main: { startAt: 's', steps: { s: { stepType: 'MODULE', moduleIdentifier: 'slow' } } } } }, { publish: true });
    const controller = new AbortController();
    const result = engine.runAction({
      flow: { id: 'parent/slow', actions: { main: { startAt: 'c', steps: { c: { stepType: 'RUN_FLOW', flowDefinitionId: 'child/slow' } } } } },
      signal: controller.signal,
    });
    await running;
    controller.abort();
    const ended = await result;
    expect(ended.status).toBe('CANCELED');
    expect(ended.error?.code).toBe('CANCELED');
    const [child] = (await engine.listRuns({ parentRunId: ended.requestId })).runs;
    expect(child?.status).toBe('CANCELED');
    expect(aborted).toBe(true);
    expect((await engine.getRunLogs(ended.requestId)).entries.map((e) => e.code)).toContain('FlowCanceled');
    // Canceling again changes nothing.
    expect((await engine.cancelRun(ended.requestId)).status).toBe('CANCELED');
  });

  it('fails a run past its timeout with TIMEOUT', async () => {
    const clock = createManualClock();
    const engine = createEngine({
      stores: createMemoryStores(),
      clock,
      poll: false,
      modules: { hang: (_input, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) },
    });
    const result = engine.runAction({ flow: { id: 'hangs', actions: { main: { startAt: 'h', steps: { h: { stepType: 'MODULE', moduleIdentifier: 'hang' } } } } }, timeoutMs: 5_000 });
    await clock.advance(5_000);
    const ended = await result;
    expect(ended.status).toBe('FAILED');
    expect(ended.error?.code).toBe('TIMEOUT');
  });
});

describe('versions', () => {
  it('keeps versions immutable and runs the published one by id', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    const v1 = await engine.deployFlow({ id: 'greet', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression: '"v1"' } } } } });
    const v2 = await engine.deployFlow({ id: 'greet', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression: '"v2"' } } } } });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    // Deploying the same definition again returns the same version.
    expect((await engine.deployFlow({ id: 'greet', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression: '"v2"' } } } } })).version).toBe(2);
    expect((await engine.runAction({ flow: 'greet' })).output).toBe('v2'); // nothing published: latest
    await engine.publishFlow('greet', 1);
    expect((await engine.runAction({ flow: 'greet' })).output).toBe('v1');
    expect((await engine.runAction({ flow: 'greet', version: 'LATEST_PUBLISHED' })).output).toBe('v1');
    expect((await engine.runAction({ flow: 'greet', version: 2 })).output).toBe('v2');
    await expect(engine.runAction({ flow: 'greet', version: 3 })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
  });
});
