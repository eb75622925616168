/**
 * Issue 14 §4, "checked when deployed, not when run": a RUN_FLOW (seed 000) or START_FLOW_EXECUTION
 * (seed 004) to a flow that exists is checked against it when the caller is deployed — through
 * `POST /flows` and `engine.deployFlow` alike; a target not deployed yet is a warning.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

/** Seed 000's callee: a flow action with a schema param, an optional one, and returned outputs. */
const refund = {
  id: 'billing/refund',
  classes: { OrderLine: { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } } } },
  actions: {
    main: {
      params: {
        order: { schema: { type: 'object', properties: { id: { type: 'string' }, amount: { type: 'number' } }, required: ['id'] }, required: true },
        priority: { type: 'number', default: 1 },
      },
      outputs: { lines: { collection: 'OrderLine', returned: true }, status: { type: 'text', returned: true } },
      startAt: 'done',
      steps: { done: { stepType: 'SET', target: '$.outputs.status', expression: '"refunded"' } },
    },
  },
} as unknown as FlowDefinition;

/** A caller of billing/refund; `call` is merged into its RUN_FLOW step. */
function caller(call: Record<string, unknown>): FlowDefinition {
  return {
    id: 'orders/cancel',
    vars: { status: { type: 'text' }, count: { type: 'number' } },
    actions: {
      main: {
        params: { order_id: { type: 'text', required: true } },
        startAt: 'refund',
        steps: { refund: { stepType: 'RUN_FLOW', flowDefinitionId: 'billing/refund', flowVersion: 'LATEST_PUBLISHED', ...call } },
      },
    },
  } as unknown as FlowDefinition;
}

/** Seed 004's "Full JSON Example" step in a flow, launching `process-order-flow`. */
function launcher(literals: Record<string, unknown> = { flowDefinitionId: 'process-order-flow', flowVersion: 'LATEST_PUBLISHED' }): FlowDefinition {
  return {
    id: 'orders/intake',
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
            literals,
            inputMappings: { 'initialContextData.orderDetails': '$.currentItem' },
            outputMappings: { '$.flow_variables.triggered_order_flow_id': '$.startedFlowExecutionId' },
          },
        },
      },
    },
  } as unknown as FlowDefinition;
}

const processOrder = (param: string): FlowDefinition =>
  ({ id: 'process-order-flow', actions: { main: { params: { [param]: { type: 'map', required: true } }, startAt: 'ok', steps: { ok: { stepType: 'COMPUTE', expression: '{accepted: true}' } } } } }) as unknown as FlowDefinition;

let f: ServerFixture;
beforeEach(async () => {
  const stores = createMemoryStores();
  f = await createServerFixture({ stores, engine: createEngine({ stores }) });
});
afterEach(async () => {
  await f.close();
});

async function deploy(definition: FlowDefinition, as = 'ada') {
  return f.json('POST', '/flows', { as, body: { definition, publish: true } });
}

describe('a call of a deployed flow is checked when the caller is deployed', () => {
  beforeEach(async () => {
    expect((await deploy(refund)).status).toBe(201);
  });

  it('refuses a caller that leaves a required param unbound, and stores nothing', async () => {
    const response = await deploy(caller({ inputMappings: { priority: '2' } }));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_DEFINITION');
    expect(response.body.error.details.issues).toEqual([
      { path: 'actions.main.steps.refund.inputMappings', message: expect.stringContaining('required param "order" of action "main" of flow "billing/refund" is not bound') },
    ]);
    expect((await f.json('GET', '/flows/orders%2Fcancel', { as: 'ada' })).status).toBe(404);
    await expect(f.engine.deployFlow(caller({ inputMappings: { priority: '2' } }))).rejects.toMatchObject({ code: 'INVALID_DEFINITION' });
  });

  it('refuses a schema param bound property by property without a required property', async () => {
    const response = await deploy(caller({ inputMappings: { 'order.amount': '10' } }));
    expect(response.body.error.details.issues).toEqual([{ path: 'actions.main.steps.refund.inputMappings', message: expect.stringContaining('required property "id" of param "order" is not bound') }]);
  });

  it('refuses a return mapping whose target does not match the returned output, and a literal of the wrong type', async () => {
    const response = await deploy(caller({ inputMappings: { order: '{id: input.order_id}' }, literals: { priority: 'high' }, returnMappings: [{ output: 'status', target: '$.vars.count' }] }));
    expect(response.status).toBe(400);
    expect(response.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['actions.main.steps.refund.literals.priority', 'actions.main.steps.refund.returnMappings[0].target']);
    expect(JSON.stringify(response.body.error.details.issues)).toContain('returned output \\"status\\" is of type \\"text\\" but var \\"count\\" is of type \\"number\\"');
  });

  it('refuses a call of an action the flow does not have, with a did-you-mean', async () => {
    const response = await deploy(caller({ action: 'mian', inputMappings: { order: '{id: input.order_id}' } }));
    expect(response.body.error.details.issues).toEqual([{ path: 'actions.main.steps.refund.action', message: 'flow "billing/refund" has no action "mian"; did you mean "main"?; its actions: main' }]);
  });

  it('deploys a caller that fits, without warnings', async () => {
    const response = await deploy(caller({ inputMappings: { order: '{id: input.order_id}' }, returnMappings: [{ output: 'status', target: '$.vars.status' }] }));
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: 'orders/cancel', version: 1 });
  });
});

describe('a launch (seed 004) is checked against the flow it starts', () => {
  it("refuses initialContextData that does not bind the target's required params", async () => {
    await deploy(processOrder('order'));
    const response = await deploy(launcher());
    expect(response.status).toBe(400);
    expect(response.body.error.details.issues).toEqual([
      { path: 'actions.main.steps.trigger_order_processing.inputMappings', message: expect.stringContaining('required param "order" of action "main" of flow "process-order-flow" is not bound; bind it in inputMappings ("initialContextData.order"') },
    ]);
  });

  it('deploys the seed verbatim when the target takes orderDetails', async () => {
    await deploy(processOrder('orderDetails'));
    expect(await deploy(launcher())).toMatchObject({ status: 201, body: { id: 'orders/intake', version: 1 } });
  });

  it('checks a flow that launches itself against the version being deployed', async () => {
    const self = processOrder('order') as unknown as { actions: { main: { steps: Record<string, unknown> } } };
    self.actions.main.steps.ok = { stepType: 'START_FLOW_EXECUTION', literals: { flowDefinitionId: 'process-order-flow', initialContextData: { orders: {} } } };
    const response = await deploy(self as unknown as FlowDefinition);
    expect(response.body.error.details.issues).toEqual([{ path: 'actions.main.steps.ok.inputMappings', message: expect.stringContaining('required param "order"') }]);
  });

  it('refuses a START_FLOW_EXECUTION without flowDefinitionId as a definition error', async () => {
    const response = await deploy(launcher({ flowVersion: 'LATEST_PUBLISHED' }));
    expect(response.status).toBe(400);
    expect(response.body.error.details.issues).toEqual([{ path: 'actions.main.steps.trigger_order_processing.literals.flowDefinitionId', message: expect.stringContaining('needs "flowDefinitionId"') }]);
  });
});

describe('a call of a flow that does not exist yet stays a run-time check', () => {
  it('deploys it with a warning naming the step and the flow', async () => {
    const response = await deploy(caller({}));
    expect(response.status).toBe(201);
    expect(response.body.warnings).toEqual([{ path: 'actions.main.steps.refund.flowDefinitionId', message: 'flow "billing/refund" has no published version yet: this call is checked when it runs' }]);
    const launch = await f.engine.deployFlow(launcher());
    expect(launch.warnings).toEqual([{ path: 'actions.main.steps.trigger_order_processing.literals.flowDefinitionId', message: expect.stringContaining('"process-order-flow"') }]);
  });

  it('treats a flow the deployer may not see as one that does not exist', async () => {
    await f.engine.deployFlow({ ...refund, roles: { viewers: ['bob'], starters: ['bob'] } } as FlowDefinition, { deployedBy: 'bob', publish: true });
    const response = await deploy(caller({ action: 'mian' }), 'otto');
    expect(response.status).toBe(201);
    expect(JSON.stringify(response.body)).not.toContain('mian');
    expect(response.body.warnings).toHaveLength(1);
  });
});
