import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineFlow, type ActionInput, type ActionName } from '../define-flow.js';
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { FlowDefinition } from '../model.js';
import { assertValidFlow, validateFlow } from './validate-flow.js';

/** Seed 004's "Full JSON Example", verbatim. */
const SEED_004_STEP = JSON.parse(`{
"trigger_order_processing": {
  "stepInstanceId": "trigger_order_processing",
  "displayName": "Trigger Order Processing Flow",
  "stepType": "START_FLOW_EXECUTION",
  "moduleIdentifier": "system/start-flow-execution",
  "literals": {
    "flowDefinitionId": "process-order-flow",
    "flowVersion": "LATEST_PUBLISHED"
  },
  "inputMappings": {
    "initialContextData.orderDetails": "$.currentItem"
  },
  "outputMappings": {
    "$.flow_variables.triggered_order_flow_id": "$.startedFlowExecutionId"
  },
  "defaultNextStepInstanceId": "next_step_in_parent"
}
}`) as Record<string, unknown>;

/** Fixtures are edited freely by each case, so they are loosely typed. */
type Json = Record<string, any>;

/** A flow that uses every feature once; each test breaks one thing in a fresh copy. */
function validFlow(): Json {
  return structuredClone({
    id: 'orders/process',
    title: 'Process order',
    description: 'Validates an order and starts its processing',
    classes: {
      OrderLine: { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } }, required: ['id'] },
    },
    vars: {
      lines: { collection: 'OrderLine' },
      count: { type: 'number', default: 0 },
      triggered_order_flow_id: { type: 'text' },
      summary: { schema: { type: 'object' } },
    },
    actions: {
      main: {
        description: 'Process one order',
        params: {
          order: { schema: { type: 'object', required: ['id'] }, required: true },
          priority: { type: 'number', default: 1 },
        },
        outputs: {
          lines: { collection: 'OrderLine', returned: true, streamable: true },
          status: { type: 'text', returned: true },
          internal: { type: 'number' },
        },
        timeoutMs: 600_000,
        startAt: 'validate_order',
        steps: {
          validate_order: {
            stepType: 'COMPUTE',
            expression: '{valid: input.order.id != null}',
            retry: { maxAttempts: 3, backoffMs: 200, backoffRate: 2, maxBackoffMs: 5000, errorEquals: ['TIMEOUT'] },
            timeoutMs: 1000,
            defaultNextStepInstanceId: 'route',
          },
          route: {
            stepType: 'DECIDE',
            transitions: [{ condition: 'steps.validate_order.valid', nextStepInstanceId: 'trigger_order_processing' }],
            defaultNextStepInstanceId: 'reject',
          },
          ...SEED_004_STEP,
          next_step_in_parent: {
            stepType: 'RUN_FLOW',
            subflow: 'generate_summary',
            outputMappings: { '$.outputs.status': '$.report' },
            defaultNextStepInstanceId: 'refund',
          },
          refund: {
            stepType: 'RUN_FLOW',
            flowDefinitionId: 'billing/refund',
            flowVersion: 'LATEST_PUBLISHED',
            action: 'main',
            async: false,
            runAs: 'svc-billing',
            timeoutMs: 60_000,
            inputMappings: { order_id: '$.input.order.id' },
            returnMappings: [{ output: 'lines', target: '$.vars.lines', mode: 'merge' }],
            catch: [{ errorEquals: ['OUT_OF_STOCK', '*'], next: 'reject' }],
            defaultNextStepInstanceId: 'count',
          },
          count: { stepType: 'SET', target: '$.vars.count', expression: 'vars.count + 1', defaultNextStepInstanceId: 'charge' },
          charge: {
            stepType: 'MODULE',
            moduleIdentifier: 'billing/charge',
            literals: { currency: 'EUR' },
            source: { file: 'orders.flow', line: 12, column: 3 },
            defaultNextStepInstanceId: 'done',
          },
          done: { stepType: 'SUCCEED', expression: 'outputs.status' },
          reject: { stepType: 'FAIL', code: 'OUT_OF_STOCK', description: 'Not enough stock' },
        },
      },
      recount: {
        outputs: { total: { type: 'number', returned: true } },
        startAt: 'again',
        steps: { again: { stepType: 'GOTO', subflow: 'generate_summary' } },
      },
    },
    subflows: {
      generate_summary: {
        description: 'Builds the summary',
        startAt: 'build',
        steps: {
          build: {
            stepType: 'COMPUTE',
            expression: '{report: "Summary: " + input.data.title}',
            outputMappings: { '$.outputs.total': '$.report', '$.vars.summary': '$' },
          },
        },
      },
    },
    subscriptions: [{ on: 'order.created', run: 'generate_summary' }, { on: 'order.retry', run: 'main' }],
    roles: { administrators: ['alice'], starters: ['group:ops'], viewers: [] },
    source: { file: 'orders.flow' },
  });
}

function issuesOf(definition: unknown): ValidationIssue[] {
  const result = validateFlow(definition);
  return result.ok ? [] : result.issues;
}

/** Asserts exactly one issue, at `path`, whose message contains every fragment. */
function expectOneIssue(definition: unknown, path: string, ...fragments: string[]): void {
  const issues = issuesOf(definition);
  expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1);
  expect(issues[0]?.path).toBe(path);
  for (const fragment of fragments) expect(issues[0]?.message).toContain(fragment);
}

function edit(change: (flow: Json) => void): Json {
  const flow = validFlow();
  change(flow);
  return flow;
}

const step = (flow: Json, name: string): Json => flow.actions.main.steps[name];

describe('validateFlow accepts', () => {
  it('a flow that uses every feature', () => {
    expect(issuesOf(validFlow())).toEqual([]);
  });

  it("seed 004's Full JSON Example step verbatim inside a flow", () => {
    const flow = {
      id: 'orders/parent',
      actions: {
        main: {
          startAt: 'trigger_order_processing',
          steps: { ...SEED_004_STEP, next_step_in_parent: { stepType: 'SUCCEED' } },
        },
      },
    };
    const result = validateFlow(flow);
    expect(result).toEqual({ ok: true, flow });
    if (result.ok) expect(result.flow).toBe(flow);
  });

  it('a scoped flow id and a minimal flow', () => {
    const flow = { id: '@myorg/orders/validate', actions: { main: { startAt: 'a', steps: { a: { stepType: 'SUCCEED' } } } } };
    expect(issuesOf(flow)).toEqual([]);
  });

  it('any target when the flow declares no vars and the action no outputs', () => {
    const flow = {
      id: 'free',
      actions: {
        main: {
          startAt: 'a',
          steps: { a: { stepType: 'SET', target: '$.vars.anything', expression: '1' }, b: { stepType: 'SET', target: '$.outputs.x', expression: '2' } },
        },
      },
    };
    expect(issuesOf(flow)).toEqual([]);
  });
});

describe('validateFlow reports', () => {
  it('every problem at once, each with its path', () => {
    const flow = edit((f) => {
      f.id = 'Orders Process!';
      f.actions.main.startAt = 'valdiate_order';
      step(f, 'route').defaultNextStepInstanceId = 'rejekt';
      step(f, 'count').stepType = 'INCREMENT';
      delete step(f, 'charge').moduleIdentifier;
    });
    const issues = issuesOf(flow);
    expect(issues.map((i) => i.path)).toEqual([
      'id',
      'actions.main.startAt',
      'actions.main.steps.route.defaultNextStepInstanceId',
      'actions.main.steps.count.stepType',
      'actions.main.steps.charge.moduleIdentifier',
    ]);
    expect(issues[0]?.message).toContain('"Orders Process!"');
    expect(issues[1]?.message).toContain('unknown step "valdiate_order"; known steps: validate_order, route,');
    expect(issues[2]?.message).toContain('"rejekt"');
    expect(issues[3]?.message).toContain('"INCREMENT"');
    expect(issues[4]?.message).toContain('moduleIdentifier');
  });

  it('a definition that is not an object', () => {
    for (const value of [null, [], 'orders/process', 42, undefined]) {
      expect(issuesOf(value)).toEqual([{ path: '', message: expect.stringContaining('expected a flow definition object') }]);
    }
  });

  // [what, the edit, the issue's path, fragments its message must contain]
  const cases: [string, (f: Json) => void, string, ...string[]][] = [
    // shape
    ['an id with spaces', (f) => (f.id = 'orders process'), 'id', '"orders process"'],
    ['an empty id', (f) => (f.id = ''), 'id', '""'],
    ['an id that climbs out of its folder', (f) => (f.id = 'orders/../secrets'), 'id', '"orders/../secrets"'],
    ['a missing id', (f) => delete f.id, 'id', '"id"'],
    ['a title that is not a string', (f) => (f.title = 7), 'title', 'got 7'],
    ['an unknown top-level field', (f) => (f.owner = 'bob'), 'owner', 'unknown field "owner"'],
    ['a flow without actions', (f) => ((f.actions = {}), delete f.subscriptions), 'actions', 'at least one action'],
    ['actions that are not an object', (f) => (f.actions = ['main']), 'actions', 'got ["main"]'],
    ['steps that are not an object', (f) => (f.actions.recount.steps = []), 'actions.recount.steps', 'got []'],
    ['a step that is not an object', (f) => (f.actions.recount.steps.again = 'GOTO'), 'actions.recount.steps.again', 'got "GOTO"'],
    ['an unknown action field', (f) => (f.actions.main.handler = 'x'), 'actions.main.handler', 'unknown field "handler"'],
    ['an unknown step field', (f) => (step(f, 'done').colour = 'red'), 'actions.main.steps.done.colour', 'unknown field "colour"'],
    ['a field of another step type', (f) => (step(f, 'done').moduleIdentifier = 'x/y'), 'actions.main.steps.done.moduleIdentifier', '"moduleIdentifier"', 'SUCCEED'],
    ['a displayName that is not a string', (f) => (step(f, 'done').displayName = 42), 'actions.main.steps.done.displayName', 'got 42'],
    ['literals that are not an object', (f) => (step(f, 'charge').literals = 'EUR'), 'actions.main.steps.charge.literals', 'got "EUR"'],
    ['a source location without a line', (f) => (step(f, 'charge').source = { file: 'x.flow' }), 'actions.main.steps.charge.source.line', '"line"'],
    ['a reserved step name', (f) => (f.actions.recount.steps.constructor = { stepType: 'SUCCEED' }), 'actions.recount.steps.constructor', '"constructor"'],
    // references between steps
    ['a missing startAt', (f) => delete f.actions.main.startAt, 'actions.main.startAt', '"startAt" is required', 'validate_order'],
    ['a startAt naming a prototype key', (f) => (f.actions.main.startAt = 'toString'), 'actions.main.startAt', 'unknown step "toString"'],
    ['a defaultNextStepInstanceId naming no step', (f) => (step(f, 'count').defaultNextStepInstanceId = 'y'), 'actions.main.steps.count.defaultNextStepInstanceId', 'unknown step "y"; known steps: validate_order'],
    ['a transition to no step', (f) => (step(f, 'route').transitions[0].nextStepInstanceId = 'nowhere'), 'actions.main.steps.route.transitions[0].nextStepInstanceId', '"nowhere"'],
    ['a catch clause to no step', (f) => (step(f, 'refund').catch[0].next = 'notify'), 'actions.main.steps.refund.catch[0].next', '"notify"'],
    ['a next step in another graph', (f) => (f.subflows.generate_summary.steps.build.defaultNextStepInstanceId = 'done'), 'subflows.generate_summary.steps.build.defaultNextStepInstanceId', 'unknown step "done"; known steps: build'],
    ['a catch clause without error codes', (f) => (step(f, 'refund').catch[0].errorEquals = []), 'actions.main.steps.refund.catch[0].errorEquals', 'got []'],
    ['a stepInstanceId that differs from its key', (f) => (step(f, 'done').stepInstanceId = 'finished'), 'actions.main.steps.done.stepInstanceId', '"finished"', '"done"'],
    ['a stepInstanceId that duplicates another step', (f) => (step(f, 'done').stepInstanceId = 'reject'), 'actions.main.steps.done.stepInstanceId', 'duplicates step "reject"'],
    ['a DECIDE step without transitions', (f) => (step(f, 'route').transitions = []), 'actions.main.steps.route.transitions', 'at least one transition'],
    // step types
    ['an unknown stepType, listing the known ones', (f) => (step(f, 'done').stepType = 'LOOP'), 'actions.main.steps.done.stepType', 'unknown stepType "LOOP"', 'COMPUTE, DECIDE, RUN_FLOW, GOTO'],
    ['a missing stepType', (f) => delete step(f, 'done').stepType, 'actions.main.steps.done.stepType', '"stepType" is required'],
    ['a MODULE step without moduleIdentifier', (f) => delete step(f, 'charge').moduleIdentifier, 'actions.main.steps.charge.moduleIdentifier', '"moduleIdentifier" is required'],
    ['a START_FLOW_EXECUTION step with another module', (f) => (step(f, 'trigger_order_processing').moduleIdentifier = 'system/run'), 'actions.main.steps.trigger_order_processing.moduleIdentifier', '"system/run"', 'system/start-flow-execution'],
    ['a RUN_FLOW step naming both a subflow and a flow', (f) => (step(f, 'refund').subflow = 'generate_summary'), 'actions.main.steps.refund', 'subflow "generate_summary"', 'flowDefinitionId "billing/refund"'],
    ['a RUN_FLOW step naming neither a subflow nor a flow', (f) => delete step(f, 'next_step_in_parent').subflow, 'actions.main.steps.next_step_in_parent', 'exactly one of "subflow"'],
    ['a RUN_FLOW step naming an unknown subflow', (f) => (step(f, 'next_step_in_parent').subflow = 'summarize'), 'actions.main.steps.next_step_in_parent.subflow', 'unknown subflow "summarize"; known subflows: generate_summary'],
    ['a GOTO to an unknown subflow', (f) => (f.actions.recount.steps.again.subflow = 'poll_again'), 'actions.recount.steps.again.subflow', 'unknown subflow "poll_again"'],
    ['a RUN_FLOW step with an invalid flow id', (f) => (step(f, 'refund').flowDefinitionId = 'billing refund'), 'actions.main.steps.refund.flowDefinitionId', '"billing refund"'],
    ['a RUN_FLOW step with an invalid version', (f) => (step(f, 'refund').flowVersion = 'latest'), 'actions.main.steps.refund.flowVersion', '"latest"'],
    ['an action on a subflow call', (f) => (step(f, 'next_step_in_parent').action = 'main'), 'actions.main.steps.next_step_in_parent.action', '"generate_summary"'],
    ['async that is not a boolean', (f) => (step(f, 'refund').async = 'yes'), 'actions.main.steps.refund.async', 'got "yes"'],
    // expressions and mappings
    ['a COMPUTE expression that does not parse', (f) => (step(f, 'validate_order').expression = 'input.order.(id'), 'actions.main.steps.validate_order.expression', '"input.order.(id"'],
    ['a missing COMPUTE expression', (f) => delete step(f, 'validate_order').expression, 'actions.main.steps.validate_order.expression', '"expression" is required'],
    ['a SET expression that does not parse', (f) => (step(f, 'count').expression = 'vars.count +'), 'actions.main.steps.count.expression', '"vars.count +"'],
    ['a DECIDE condition that does not parse', (f) => (step(f, 'route').transitions[0].condition = 'a ==== b'), 'actions.main.steps.route.transitions[0].condition', '"a ==== b"'],
    ['a SUCCEED expression that does not parse', (f) => (step(f, 'done').expression = '{status: }'), 'actions.main.steps.done.expression', '"{status: }"'],
    ['an input mapping source that does not parse', (f) => (step(f, 'refund').inputMappings.order_id = 'input.order.(id'), 'actions.main.steps.refund.inputMappings.order_id', '"input.order.(id"'],
    ['an input mapping source that is not a string', (f) => (step(f, 'refund').inputMappings.order_id = 5), 'actions.main.steps.refund.inputMappings.order_id', 'got 5'],
    ['an input mapping target with an empty segment', (f) => (step(f, 'refund').inputMappings['order..id'] = '$.input.order.id'), 'actions.main.steps.refund.inputMappings["order..id"]', '"order..id"'],
    ['an output mapping source that does not parse', (f) => (step(f, 'next_step_in_parent').outputMappings['$.outputs.status'] = 'a ==== b'), 'actions.main.steps.next_step_in_parent.outputMappings["$.outputs.status"]', '"a ==== b"'],
    ['an output mapping into a root that cannot be written', (f) => (step(f, 'next_step_in_parent').outputMappings = { '$.input.x': '$.report' }), 'actions.main.steps.next_step_in_parent.outputMappings["$.input.x"]', '"$.input.x"'],
    ['an output mapping into an undeclared var', (f) => (step(f, 'next_step_in_parent').outputMappings = { '$.vars.stauts': '$.report' }), 'actions.main.steps.next_step_in_parent.outputMappings["$.vars.stauts"]', 'unknown var "stauts"', 'declared vars: lines, count'],
    ['an output mapping into an undeclared output', (f) => (step(f, 'next_step_in_parent').outputMappings = { '$.outputs.total': '$.report' }), 'actions.main.steps.next_step_in_parent.outputMappings["$.outputs.total"]', 'unknown output "total"', 'declared outputs: lines, status, internal'],
    ['a subflow writing an output no action declares', (f) => (f.subflows.generate_summary.steps.build.outputMappings = { '$.outputs.nope': '$' }), 'subflows.generate_summary.steps.build.outputMappings["$.outputs.nope"]', 'unknown output "nope"'],
    ['a SET target that cannot be written', (f) => (step(f, 'count').target = '$.steps.x'), 'actions.main.steps.count.target', '"$.steps.x"'],
    ['a SET target naming an undeclared var', (f) => (step(f, 'count').target = '$.vars.cnt'), 'actions.main.steps.count.target', 'unknown var "cnt"'],
    // calls
    ['return mappings on an asynchronous call', (f) => (step(f, 'refund').async = true), 'actions.main.steps.refund.returnMappings', 'an asynchronous call has no return mapping'],
    ['return mappings on a START_FLOW_EXECUTION step', (f) => (step(f, 'trigger_order_processing').returnMappings = []), 'actions.main.steps.trigger_order_processing.returnMappings', 'an asynchronous call has no return mapping'],
    ['a merge into a target that is not a collection', (f) => (step(f, 'refund').returnMappings[0].target = '$.vars.count'), 'actions.main.steps.refund.returnMappings[0].mode', 'mode "merge"', 'var "count"'],
    ['an unknown return mapping mode', (f) => (step(f, 'refund').returnMappings[0].mode = 'append'), 'actions.main.steps.refund.returnMappings[0].mode', '"append"'],
    ['a return mapping without output', (f) => delete step(f, 'refund').returnMappings[0].output, 'actions.main.steps.refund.returnMappings[0].output', '"output" is required'],
    ['a return mapping into an undeclared var', (f) => (step(f, 'refund').returnMappings[0].target = '$.vars.items'), 'actions.main.steps.refund.returnMappings[0].target', 'unknown var "items"'],
    // retry and timeouts
    ['maxAttempts below 1', (f) => (step(f, 'validate_order').retry.maxAttempts = 0), 'actions.main.steps.validate_order.retry.maxAttempts', 'got 0'],
    ['a fractional maxAttempts', (f) => (step(f, 'validate_order').retry.maxAttempts = 2.5), 'actions.main.steps.validate_order.retry.maxAttempts', 'got 2.5'],
    ['a missing maxAttempts', (f) => delete step(f, 'validate_order').retry.maxAttempts, 'actions.main.steps.validate_order.retry.maxAttempts', '"maxAttempts" is required'],
    ['a negative backoffMs', (f) => (step(f, 'validate_order').retry.backoffMs = -1), 'actions.main.steps.validate_order.retry.backoffMs', 'got -1'],
    ['a backoffRate below 1', (f) => (step(f, 'validate_order').retry.backoffRate = 0.5), 'actions.main.steps.validate_order.retry.backoffRate', 'got 0.5'],
    ['an unknown retry field', (f) => (step(f, 'validate_order').retry.jitter = true), 'actions.main.steps.validate_order.retry.jitter', 'unknown field "jitter"'],
    ['a step timeoutMs of 0', (f) => (step(f, 'validate_order').timeoutMs = 0), 'actions.main.steps.validate_order.timeoutMs', 'got 0'],
    ['an action timeoutMs that is not a number', (f) => (f.actions.main.timeoutMs = '1m'), 'actions.main.timeoutMs', 'got "1m"'],
    // types of params, vars and outputs
    ['a var with both a type and a schema', (f) => (f.vars.count.schema = { type: 'number' }), 'vars.count', '"type" and "schema"'],
    ['an unknown simple type', (f) => (f.vars.count.type = 'integer'), 'vars.count.type', 'unknown type "integer"', 'text, number'],
    ['a collection of an unknown class', (f) => (f.vars.lines.collection = 'OrderLines'), 'vars.lines.collection', 'unknown class "OrderLines"; known classes: OrderLine'],
    ['a param schema that is not a JSON Schema', (f) => (f.actions.main.params.order.schema = { type: 'obj' }), 'actions.main.params.order.schema.type', '"obj"'],
    ['a class schema that is not a JSON Schema', (f) => (f.classes.OrderLine.required = 'id'), 'classes.OrderLine.required', 'got "id"'],
    ['a param default that breaks its type', (f) => (f.actions.main.params.priority.default = 'high'), 'actions.main.params.priority.default', 'param "priority"', 'got "high"'],
    ['a required param whose default breaks its schema', (f) => (f.actions.main.params.order.default = { qty: 1 }), 'actions.main.params.order.default', 'param "order"', 'missing required property "id"'],
    ['a var default that breaks its collection class', (f) => (f.vars.lines.default = [{ id: 1 }]), 'vars.lines.default[0].id', 'var "lines"', 'got 1'],
    ['required that is not a boolean', (f) => (f.actions.main.params.order.required = 'yes'), 'actions.main.params.order.required', 'got "yes"'],
    ['a streamable output that is not returned', (f) => (f.actions.main.outputs.internal.streamable = true), 'actions.main.outputs.internal.streamable', 'output "internal" is streamable but not returned'],
    ['an unknown param field', (f) => (f.actions.main.params.order.optional = false), 'actions.main.params.order.optional', 'unknown field "optional"'],
    // subscriptions and roles
    ['a subscription to an unknown subflow or action', (f) => (f.subscriptions[0].run = 'validate_and_process'), 'subscriptions[0].run', '"validate_and_process"', 'generate_summary', 'main'],
    ['a subscription without an event', (f) => delete f.subscriptions[1].on, 'subscriptions[1].on', '"on" is required'],
    ['a subscription acting as no service account', (f) => (f.subscriptions[0].runAs = 7), 'subscriptions[0].runAs', 'a service account id'],
    ['subscriptions that are not a list', (f) => (f.subscriptions = { on: 'x', run: 'main' }), 'subscriptions', 'expected a list'],
    ['a role member that is not a string', (f) => (f.roles.starters = ['group:ops', 42]), 'roles.starters[1]', 'got 42'],
    ['roles that are not a list', (f) => (f.roles.viewers = 'everyone'), 'roles.viewers', 'got "everyone"'],
    ['an unknown role', (f) => (f.roles.owners = ['bob']), 'roles.owners', 'unknown field "owners"'],
  ];

  it.each(cases)('%s', (_what, change, path, ...fragments) => {
    expectOneIssue(edit(change), path, ...fragments);
  });

  it('return mappings of a call to this same flow that name no returned output or mismatch the target type', () => {
    const flow = edit((f) => {
      f.actions.main.steps.self = {
        stepType: 'RUN_FLOW',
        flowDefinitionId: 'orders/process',
        inputMappings: { order: '$.input.order' },
        returnMappings: [
          { output: 'internal', target: '$.vars.count' },
          { output: 'status', target: '$.vars.count' },
          { output: 'lines', target: '$.vars.lines', mode: 'merge' },
        ],
      };
    });
    const issues = issuesOf(flow);
    expect(issues.map((i) => i.path)).toEqual([
      'actions.main.steps.self.returnMappings[0].output',
      'actions.main.steps.self.returnMappings[1].target',
    ]);
    expect(issues[0]?.message).toContain('output "internal" is not a returned output of action "main"; returned outputs: lines, status');
    expect(issues[1]?.message).toContain('returned output "status" is of type "text" but var "count" is of type "number"');
  });

  it('a call to an unknown action of this same flow', () => {
    const flow = edit((f) => {
      f.actions.main.steps.self = { stepType: 'RUN_FLOW', flowDefinitionId: 'orders/process', action: 'mian', returnMappings: [] };
    });
    expectOneIssue(flow, 'actions.main.steps.self.action', 'unknown action "mian"', 'known actions: main, recount');
  });
});

describe('validateFlow on arbitrary input', () => {
  it('never throws on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = validateFlow(value);
        if (!result.ok) expect(result.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws when any part of a valid flow is replaced by random JSON, and always says where', () => {
    const paths: string[][] = [];
    const collect = (value: unknown, path: string[]): void => {
      paths.push(path);
      if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) collect(child, [...path, key]);
      }
    };
    collect(validFlow(), []);
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.jsonValue(), (path, replacement) => {
        const flow = validFlow();
        let parent: Json = flow;
        for (const key of path.slice(0, -1)) parent = parent[key];
        parent[path.at(-1) as string] = replacement;
        const result = validateFlow(flow);
        if (!result.ok) {
          for (const issue of result.issues) {
            expect(typeof issue.path).toBe('string');
            expect(issue.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('assertValidFlow and defineFlow', () => {
  it('assertValidFlow returns a valid definition and throws INVALID_DEFINITION with every issue otherwise', () => {
    const flow = validFlow();
    expect(assertValidFlow(flow)).toBe(flow);
    const broken = edit((f) => {
      f.id = '';
      f.actions.main.startAt = 'nope';
    });
    const error = (() => {
      try {
        assertValidFlow(broken);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('INVALID_DEFINITION');
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['id', 'actions.main.startAt']);
  });

  it('defineFlow returns the same object, typed with its literal names', () => {
    const definition = {
      id: 'billing/refund',
      actions: {
        main: {
          params: { orderId: { type: 'text', required: true }, amount: { type: 'number' } },
          startAt: 'done',
          steps: { done: { stepType: 'SUCCEED' } },
        },
        audit: { startAt: 'done', steps: { done: { stepType: 'SUCCEED' } } },
      },
    } satisfies FlowDefinition;
    const flow = defineFlow(definition);
    expect(flow).toBe(definition);
    const literal = defineFlow({
      id: 'a/b',
      vars: { tries: { type: 'number', default: 0 } },
      actions: {
        main: {
          startAt: 's',
          steps: {
            s: {
              stepType: 'MODULE',
              moduleIdentifier: 'x/y',
              retry: { maxAttempts: 2, errorEquals: ['TIMEOUT'] },
              catch: [{ errorEquals: ['*'], next: 'f' }],
              defaultNextStepInstanceId: 'f',
            },
            f: { stepType: 'DECIDE', transitions: [{ condition: 'vars.tries > 1', nextStepInstanceId: 's' }] },
          },
        },
      },
    });
    expectTypeOf(literal.id).toEqualTypeOf<'a/b'>();
    expectTypeOf<ActionName<typeof flow>>().toEqualTypeOf<'main' | 'audit'>();
    expectTypeOf<ActionInput<typeof flow, 'main'>>().toMatchTypeOf<{ orderId: string; amount?: number }>();
  });

  it('defineFlow throws a ValidationError with code INVALID_DEFINITION', () => {
    expect(() =>
      defineFlow({ id: 'a/b', actions: { main: { startAt: 'missing', steps: { s: { stepType: 'SUCCEED' } } } } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_DEFINITION', issues: [expect.objectContaining({ path: 'actions.main.startAt' })] }));
  });
});
