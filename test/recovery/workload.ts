/**
 * The crash-recovery workload: flows that use every kind of transition (module steps with side
 * effects, a subflow call, a child run with a goto loop, a launch, a retried step) and modules
 * whose side effects are written to files outside the store, so a test can count them.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowDefinition, Module } from '../../src/index.js';

export const LOOPS = 40;

export const recoveryFlows: FlowDefinition[] = [
  {
    id: 'recovery/child',
    vars: { n: { type: 'number', default: 0 } },
    actions: {
      main: {
        params: { i: { type: 'number', required: true } },
        startAt: 'c1',
        steps: {
          c1: { stepType: 'MODULE', moduleIdentifier: 'effects/record', literals: { tag: 'child' }, defaultNextStepInstanceId: 'loop' },
          loop: { stepType: 'GOTO', subflow: 'tick' },
        },
      },
    },
    subflows: {
      tick: {
        startAt: 't1',
        steps: {
          t1: { stepType: 'SET', target: '$.vars.n', expression: 'vars.n + 1', defaultNextStepInstanceId: 't2' },
          t2: { stepType: 'MODULE', moduleIdentifier: 'effects/sleep', literals: { ms: 15 }, defaultNextStepInstanceId: 't3' },
          t3: { stepType: 'DECIDE', transitions: [{ condition: `vars.n < ${LOOPS}`, nextStepInstanceId: 'again' }], defaultNextStepInstanceId: 'done' },
          again: { stepType: 'GOTO', subflow: 'tick' },
          done: { stepType: 'COMPUTE', expression: '{childResult: input.i * 2, loops: vars.n}' },
        },
      },
    },
  },
  {
    id: 'recovery/launched',
    actions: {
      main: {
        startAt: 'l1',
        steps: {
          l1: { stepType: 'MODULE', moduleIdentifier: 'effects/record', literals: { tag: 'launched' }, defaultNextStepInstanceId: 'l2' },
          l2: { stepType: 'COMPUTE', expression: '{launched: input.i}' },
        },
      },
    },
  },
  {
    id: 'recovery/quick',
    actions: {
      main: {
        params: { i: { type: 'number', required: true } },
        startAt: 'work',
        steps: {
          work: { stepType: 'MODULE', moduleIdentifier: 'effects/interval', literals: { ms: 50 }, defaultNextStepInstanceId: 'done' },
          done: { stepType: 'COMPUTE', expression: '{i: input.i}' },
        },
      },
    },
  },
  {
    id: 'recovery/pair',
    actions: {
      main: {
        params: { i: { type: 'number', required: true } },
        startAt: 'a',
        steps: {
          a: { stepType: 'MODULE', moduleIdentifier: 'effects/stamp', defaultNextStepInstanceId: 'b' },
          b: { stepType: 'MODULE', moduleIdentifier: 'effects/stamp', defaultNextStepInstanceId: 'c' },
          c: { stepType: 'MODULE', moduleIdentifier: 'effects/stamp' },
        },
      },
    },
  },
  {
    id: 'recovery/main',
    actions: {
      main: {
        params: { i: { type: 'number', required: true } },
        startAt: 'm1',
        steps: {
          m1: { stepType: 'MODULE', moduleIdentifier: 'effects/record', literals: { tag: 'm1' }, defaultNextStepInstanceId: 'm2' },
          m2: { stepType: 'RUN_FLOW', subflow: 'inner', defaultNextStepInstanceId: 'm3' },
          m3: { stepType: 'RUN_FLOW', flowDefinitionId: 'recovery/child', inputMappings: { i: '$.input.i' }, defaultNextStepInstanceId: 'm4' },
          m4: {
            stepType: 'START_FLOW_EXECUTION',
            literals: { flowDefinitionId: 'recovery/launched', flowVersion: 'LATEST_PUBLISHED' },
            inputMappings: { 'initialContextData.i': '$.input.i' },
            defaultNextStepInstanceId: 'm5',
          },
          m5: { stepType: 'MODULE', moduleIdentifier: 'effects/flaky', retry: { maxAttempts: 3, backoffMs: 20 }, defaultNextStepInstanceId: 'm6' },
          m6: { stepType: 'COMPUTE', expression: '{i: input.i, inner: steps.m2, child: steps.m3.childResult, loops: steps.m3.loops, flaky: steps.m5.attempt}' },
        },
      },
    },
    subflows: {
      inner: {
        startAt: 's1',
        steps: {
          s1: { stepType: 'MODULE', moduleIdentifier: 'effects/record', literals: { tag: 'inner' }, defaultNextStepInstanceId: 's2' },
          s2: { stepType: 'COMPUTE', expression: '{inner: input.i + 100}' },
        },
      },
    },
  },
];

/**
 * Modules that write every invocation (key and process id) to `invocations.log` and each side effect once per
 * idempotency key to `effects.log` (the idempotent pattern a module author follows).
 */
export function recoveryModules(dir: string): Record<string, Module> {
  const invocations = join(dir, 'invocations.log');
  const effectsFile = join(dir, 'effects.log');
  const done = new Set(existsSync(effectsFile) ? readFileSync(effectsFile, 'utf8').split('\n').filter(Boolean) : []);
  const effect = (key: string): void => {
    appendFileSync(invocations, `${key} ${process.pid}\n`);
    if (done.has(key)) return;
    appendFileSync(effectsFile, `${key}\n`);
    done.add(key);
  };
  return {
    'effects/record': (input, ctx) => {
      effect(ctx.idempotencyKey);
      return { tag: input.tag };
    },
    'effects/sleep': async (input, ctx) => {
      effect(ctx.idempotencyKey);
      await new Promise((resolve) => setTimeout(resolve, Number(input.ms)));
      return { slept: input.ms };
    },
    'effects/interval': async (input, ctx) => {
      // Who executed which run when: overlapping intervals of one run in two processes would
      // mean two processes executed it at once.
      const start = Date.now();
      effect(ctx.idempotencyKey);
      await new Promise((resolve) => setTimeout(resolve, Number(input.ms)));
      appendFileSync(join(dir, 'intervals.log'), `${ctx.runId} ${process.pid} ${start} ${Date.now()}\n`);
      return { pid: process.pid };
    },
    'effects/stamp': (_input, ctx) => {
      // Which process called which step of which run, when (paused-worker.test.ts).
      appendFileSync(join(dir, 'calls.log'), `${ctx.runId} ${ctx.stepId} ${process.pid} ${Date.now()}\n`);
      return { pid: process.pid };
    },
    'effects/flaky': (_input, ctx) => {
      effect(`${ctx.idempotencyKey}#${ctx.attempt}`);
      if (ctx.attempt < 2) throw Object.assign(new Error('first attempt always fails'), { code: 'FLAKY' });
      return { attempt: ctx.attempt };
    },
  };
}
