/**
 * The hostile flows of issue 12, as reported, for the tests and bench/hostile.ts: a value that
 * doubles itself (item 1), a flow that launches itself twice (item 2) and a goto loop writing an
 * output (item 7). Typed as definitions so in-process engines take them as they are.
 */
import type { FlowDefinition } from '../../src/index.js';

/** Item 1: `[vars.d, vars.d]` doubles a value cheaply; storing it is exponential. */
export const DOUBLING_FLOW: FlowDefinition = {
  id: 'm/dag',
  vars: { d: { type: 'any', default: [] }, n: { type: 'number', default: 0 } },
  actions: { main: { params: { k: { type: 'number' } }, startAt: 'l', steps: { l: { stepType: 'GOTO', subflow: 'it' } } } },
  subflows: {
    it: {
      startAt: 'c',
      steps: {
        c: { stepType: 'DECIDE', transitions: [{ condition: 'vars.n >= input.k', nextStepInstanceId: 'done' }], defaultNextStepInstanceId: 's' },
        s: { stepType: 'SET', target: '$.vars.d', expression: '[vars.d, vars.d]', defaultNextStepInstanceId: 'i' },
        i: { stepType: 'SET', target: '$.vars.n', expression: 'vars.n + 1', defaultNextStepInstanceId: 'g' },
        g: { stepType: 'GOTO', subflow: 'it' },
        done: { stepType: 'SUCCEED' },
      },
    },
  },
};

/** Item 2: every run launches itself twice. */
export const FORK_FLOW: FlowDefinition = {
  id: 'm/fork',
  actions: {
    main: {
      startAt: 'a',
      steps: {
        a: { stepType: 'RUN_FLOW', flowDefinitionId: 'm/fork', async: true, defaultNextStepInstanceId: 'b' },
        b: { stepType: 'RUN_FLOW', flowDefinitionId: 'm/fork', async: true },
      },
    },
  },
};

/** Item 7: a goto loop that writes an output on every turn. */
export const OUTPUT_LOOP_FLOW: FlowDefinition = {
  id: 'm/outloop',
  actions: { main: { outputs: { n: { type: 'number', default: 0, returned: true } }, startAt: 'l', steps: { l: { stepType: 'GOTO', subflow: 'it' } } } },
  subflows: { it: { startAt: 's', steps: { s: { stepType: 'SET', target: '$.outputs.n', expression: 'outputs.n + 1', defaultNextStepInstanceId: 'g' }, g: { stepType: 'GOTO', subflow: 'it' } } } },
};

/** Issue 12 items 3 and 4: a run that waits for `payment.confirmed` of its order, then "ships" it. */
export function shipsOnPayment(id = 'shop/ship'): FlowDefinition {
  return {
    id,
    actions: {
      main: {
        params: { orderId: { type: 'text', required: true } },
        startAt: 'paid',
        steps: {
          paid: { stepType: 'WAIT', event: 'payment.confirmed', match: { orderId: 'input.orderId' }, defaultNextStepInstanceId: 'ship' },
          ship: { stepType: 'COMPUTE', expression: '{shipped: input.orderId}' },
        },
      },
    },
  };
}

/** Issue 12 item 4: a flow only `svc-deploy` may start. */
export const DEPLOY_PROD: FlowDefinition = {
  id: 'ops/deploy-prod',
  roles: { starters: ['svc-deploy'] },
  actions: { main: { startAt: 'go', steps: { go: { stepType: 'COMPUTE', expression: '{deployed: true}' } } } },
};
