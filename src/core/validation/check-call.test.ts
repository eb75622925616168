import { describe, expect, it } from 'vitest';
import { checkCall, structureDifference } from './check-call.js';
import type { ValidationIssue } from '../errors.js';
import type { FlowDefinition } from '../model.js';
import { validateFlow } from './validate-flow.js';

const ORDER = { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } }, required: ['id'], additionalProperties: false };
const LINE = { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } } };

/** A flow whose `caller` action calls its own `callee` action through the step `call`, built from `step`. */
function selfCalling(step: Record<string, unknown>, callerVars: Record<string, unknown> = {}): FlowDefinition {
  return {
    id: 'shop/orders',
    classes: { Line: LINE },
    vars: { lines: { collection: 'Line' }, total: { type: 'number' }, summary: { schema: { type: 'object', properties: { n: { type: 'number' } } } }, ...callerVars },
    actions: {
      callee: {
        params: { order: { schema: ORDER, required: true }, priority: { type: 'number', default: 1 }, note: { type: 'text' } },
        outputs: {
          lines: { collection: 'Line', returned: true, streamable: true },
          total: { type: 'number', returned: true },
          summary: { schema: { type: 'object', title: 'Summary', properties: { n: { type: 'number', description: 'how many' } } }, returned: true },
          wide: { schema: { type: 'object', properties: { n: { type: 'number' }, extra: { type: 'string' } } }, returned: true },
        },
        startAt: 'done',
        steps: { done: { stepType: 'SUCCEED' } },
      },
      caller: {
        startAt: 'call',
        steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'shop/orders', action: 'callee', ...step } as never },
      },
    },
  };
}

function issuesOf(flow: FlowDefinition): ValidationIssue[] {
  const result = validateFlow(flow);
  return result.ok ? [] : result.issues;
}

const AT = 'actions.caller.steps.call';

describe('validation of a call of the same flow: params', () => {
  it('rejects a call that leaves a required param unbound, naming the param', () => {
    const issues = issuesOf(selfCalling({ inputMappings: { note: '"hi"' } }));
    expect(issues).toEqual([{ path: `${AT}.inputMappings`, message: expect.stringContaining('required param "order" of action "callee" of flow "shop/orders" is not bound') }]);
  });

  it('accepts a required param bound by a mapping or a literal; optional and defaulted ones may stay unbound', () => {
    expect(issuesOf(selfCalling({ inputMappings: { order: '$.input.order' } }))).toEqual([]);
    expect(issuesOf(selfCalling({ literals: { order: { id: 'o-1' } } }))).toEqual([]);
  });

  it('accepts a schema param bound property by property', () => {
    expect(issuesOf(selfCalling({ inputMappings: { 'order.id': '$.input.id', 'order.qty': '$.input.qty' } }))).toEqual([]);
  });

  it('rejects a property binding that leaves a required property unbound or names a property the schema does not have', () => {
    const issues = issuesOf(selfCalling({ inputMappings: { 'order.qty': '$.input.qty', 'order.colour': '"red"' } }));
    expect(issues.map((i) => i.path).sort()).toEqual([`${AT}.inputMappings`, `${AT}.inputMappings["order.colour"]`].sort());
    expect(issues.map((i) => i.message).join('\n')).toContain('required property "id" of param "order" is not bound');
    expect(issues.map((i) => i.message).join('\n')).toContain('param "order" declares no property "colour"; its properties: id, qty');
  });
});

describe('validation of a call of the same flow: return mappings', () => {
  const bound = { inputMappings: { order: '$.input.order' } };

  it('accepts a collection into a collection of the same class, a var of the same type, and a schema of the same structure', () => {
    const flow = selfCalling({
      ...bound,
      returnMappings: [
        { output: 'lines', target: '$.vars.lines', mode: 'merge' },
        { output: 'total', target: '$.vars.total' },
        // Titles and descriptions are not structure.
        { output: 'summary', target: '$.vars.summary' },
      ],
    });
    expect(issuesOf(flow)).toEqual([]);
  });

  it('rejects a schema of another structure, with the path of the mapping and the property that differs', () => {
    const issues = issuesOf(selfCalling({ ...bound, returnMappings: [{ output: 'wide', target: '$.vars.summary' }] }));
    expect(issues).toEqual([{ path: `${AT}.returnMappings[0].target`, message: expect.stringContaining('only the returned value has extra') }]);
  });

  it('rejects a collection into a var of another class or type, and a schema into a simple type', () => {
    const flow = selfCalling(
      {
        ...bound,
        returnMappings: [
          { output: 'lines', target: '$.vars.others' },
          { output: 'total', target: '$.vars.label' },
          { output: 'summary', target: '$.vars.total' },
        ],
      },
      { others: { collection: 'Other' }, label: { type: 'text' } },
    );
    flow.classes!.Other = LINE;
    const issues = issuesOf(flow);
    expect(issues.map((i) => i.path)).toEqual([0, 1, 2].map((i) => `${AT}.returnMappings[${i}].target`));
    expect(issues[0]!.message).toContain('returned output "lines" is a collection of "Line" but var "others" is a collection of "Other"');
    expect(issues[1]!.message).toContain('of type "number" but var "label" is of type "text"');
    expect(issues[2]!.message).toContain('is a schema type but var "total" is of type "number"');
  });

  it('rejects merge into a target that is not a collection, and return mappings on an asynchronous call', () => {
    const issues = issuesOf(selfCalling({ ...bound, async: true, returnMappings: [{ output: 'total', target: '$.vars.total', mode: 'merge' }] }));
    expect(issues.map((i) => i.path)).toEqual([`${AT}.returnMappings`, `${AT}.returnMappings[0].mode`]);
    expect(issues[0]!.message).toContain('an asynchronous call has no return mapping');
    expect(issues[1]!.message).toContain('mode "merge" needs a collection target');
  });
});

describe('checkCall of another flow (at call time)', () => {
  it('compares classes of one name from two flows by structure, and leaves params to the values', () => {
    const issues = checkCall({
      step: { returnMappings: [{ output: 'lines', target: '$.vars.lines' }] },
      path: 'actions.main.steps.call',
      callee: { flowId: 'catalog', actionName: 'main', action: { params: { order: { required: true } }, outputs: { lines: { collection: 'Line', returned: true } } }, classes: { Line: { type: 'object', properties: { id: { type: 'number' } } } } },
      caller: { vars: { lines: { collection: 'Line' } }, outputs: undefined, classes: { Line: LINE } },
      checkParams: false,
    });
    expect(issues).toEqual([{ path: 'actions.main.steps.call.returnMappings[0].target', message: expect.stringContaining('class "Line" differs between the flows') }]);
  });
});

describe('structureDifference', () => {
  it('ignores annotations and bounds, and names the first structural difference', () => {
    expect(structureDifference({ type: 'string', title: 'A', maxLength: 3 }, { type: 'string', description: 'B' }, '')).toBeNull();
    expect(structureDifference({ type: ['number', 'string'] }, { type: ['string', 'number'] }, '')).toBeNull();
    expect(structureDifference({ type: 'object', properties: { a: { type: 'number' } } }, { type: 'object', properties: { a: { type: 'string' } } }, '')).toBe('at properties.a: type "number" vs "string"');
    expect(structureDifference({ type: 'array', items: { type: 'number' } }, { type: 'array' }, '')).toBe('at the top: only one of them declares items');
  });
});
