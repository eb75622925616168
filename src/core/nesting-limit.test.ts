/**
 * The nesting limit where values enter the engine in-process: run inputs (startRun, runAction,
 * child runs), event payloads (publishEvent, EMIT steps), definitions and module results.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, runAction, type FlowDefinition, type Module } from '../index.js';

/** `{a: {a: … 1}}` nested `levels` objects deep, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const echo: FlowDefinition = { id: 't/echo', actions: { main: { startAt: 'e', steps: { e: { stepType: 'COMPUTE', expression: 'input' } } } } };

function engineWith(modules: Record<string, Module> = {}, maxNestingDepth?: number) {
  const stores = createMemoryStores();
  const engine = createEngine({ stores, modules, poll: false, ...(maxNestingDepth !== undefined ? { runtimeConfig: { maxNestingDepth } } : {}) });
  return { stores, engine };
}

describe('nesting limit (in-process)', () => {
  it('refuses a run input nested deeper than 100 levels with INVALID_INPUT naming the path, and records nothing', async () => {
    const { engine, stores } = engineWith();
    await engine.deployFlow(echo);
    const error = await engine.startRun({ flow: 't/echo', input: nested(101) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: 'input.a.a.a.a.a.a…(100 levels)', message: expect.stringContaining('100 levels') }] } });
    expect((await stores.listRuns({})).runs).toEqual([]);
    // 100 levels is within the limit.
    const { requestId } = await engine.startRun({ flow: 't/echo', input: nested(99) });
    expect((await engine.waitForRun(requestId)).status).toBe('SUCCEEDED');
    await engine.close();
  });

  it('checks a hostile 100,000-level or self-referencing input without exhausting the stack', async () => {
    const { engine } = engineWith();
    await engine.deployFlow(echo);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const input of [nested(100_000), cyclic]) await expect(engine.startRun({ flow: 't/echo', input })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(runAction({ flow: echo, input: nested(500), stores: createMemoryStores() })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await engine.close();
  });

  it('follows runtimeConfig.maxNestingDepth and refuses a bad value of it', async () => {
    const { engine } = engineWith({}, 3);
    await engine.deployFlow(echo);
    await expect(engine.startRun({ flow: 't/echo', input: nested(4) })).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: 'input.a.a.a' }] } });
    await engine.close();
    expect(() => createEngine({ stores: createMemoryStores(), runtimeConfig: { maxNestingDepth: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('refuses a too-deep event payload before anything starts, and a too-deep definition before anything is stored', async () => {
    const { engine, stores } = engineWith();
    await engine.deployFlow({ ...echo, subscriptions: [{ on: 'x.happened', run: 'main' }] });
    await expect(engine.publishEvent('x.happened', nested(101))).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: expect.stringMatching(/^payload\.a\.a/) }] } });
    expect((await stores.listRuns({})).runs).toEqual([]);
    const deepDefinition = { id: 't/deep', actions: { main: { startAt: 'e', steps: { e: { stepType: 'COMPUTE', expression: '1', literals: nested(200) } } } } } as unknown as FlowDefinition;
    await expect(engine.deployFlow(deepDefinition)).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: expect.stringMatching(/^definition\.actions\.main\.steps\.e/) }] } });
    await expect(engine.startRun({ flow: deepDefinition })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await stores.listFlows()).toHaveLength(1);
    await engine.close();
  });

  it('fails a module step whose result or write nests too deep with NESTING_TOO_DEEP, storing none of it', async () => {
    const { engine } = engineWith({ deep: () => nested(150), writesDeep: (_i, ctx) => { ctx.write('o', nested(150)); return 'fine'; } });
    const flow: FlowDefinition = {
      id: 't/module',
      actions: {
        main: { params: { m: { type: 'text' } }, outputs: { o: { type: 'any' } }, startAt: 'choose', steps: { choose: { stepType: 'DECIDE', transitions: [{ condition: 'input.m == "write"', nextStepInstanceId: 'w' }], defaultNextStepInstanceId: 'r' }, r: { stepType: 'MODULE', moduleIdentifier: 'deep' }, w: { stepType: 'MODULE', moduleIdentifier: 'writesDeep' } } },
      },
    };
    await engine.deployFlow(flow);
    for (const m of ['result', 'write']) {
      const result = await engine.runAction({ flow: 't/module', input: { m } });
      expect(result.status).toBe('FAILED');
      expect(result.error).toMatchObject({ code: 'NESTING_TOO_DEEP', details: { limit: 100 } });
      const run = await engine.getRun(result.requestId);
      expect(JSON.stringify(run.state).length).toBeLessThan(5_000);
    }
    await engine.close();
  });

  it('fails an EMIT step whose payload nests too deep, publishing nothing', async () => {
    const { engine, stores } = engineWith({ deep: () => nested(150) });
    await engine.deployFlow({ ...echo, id: 't/listener', subscriptions: [{ on: 'deep.out', run: 'main' }] });
    const flow: FlowDefinition = {
      id: 't/emit',
      vars: { d: { type: 'any' } },
      actions: { main: { startAt: 'set', steps: { set: { stepType: 'SET', target: '$.vars.d', expression: '[[[[[[[[[[1]]]]]]]]]]', defaultNextStepInstanceId: 'emit' }, emit: { stepType: 'EMIT', event: 'deep.out', payload: '{x: vars.d}' } } } },
    };
    const { engine: small } = { engine: createEngine({ stores, poll: false, runtimeConfig: { maxNestingDepth: 5 } }) };
    await small.deployFlow(flow);
    const result = await small.runAction({ flow: 't/emit' });
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'NESTING_TOO_DEEP' } });
    expect((await stores.listRuns({ flowId: 't/listener' })).runs).toEqual([]);
    await small.close();
    await engine.close();
  });

  it('fails the calling step when a child run input would nest too deep', async () => {
    const { engine } = engineWith({}, 5);
    await engine.deployFlow(echo);
    const caller: FlowDefinition = { id: 't/caller', actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 't/echo', inputMappings: { 'x.y': '$.input.deep' } } } } } };
    await engine.deployFlow(caller);
    const result = await engine.runAction({ flow: 't/caller', input: { deep: nested(4) } });
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'INVALID_INPUT' } });
    expect((await engine.listRuns({ flowId: 't/echo' })).runs).toEqual([]);
    await engine.close();
  });
});
