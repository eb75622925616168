import { describe, expect, it } from 'vitest';
import { FlowError } from './errors.js';
import {
  applyOutputMappings,
  buildStepInput,
  checkMappingSource,
  contextScope,
  parseContextTarget,
  resolveSource,
  setInputPath,
  writeContextTarget,
  type StepContext,
} from './mapping.js';

function context(overrides: Partial<StepContext> = {}): StepContext {
  return {
    input: { order: { id: 'o-1', lines: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 3 }, { sku: 'c', qty: 5 }] } },
    vars: { count: 1, process_order_flow_id: 'process-order-flow', 'a b': 'spaced' },
    outputs: {},
    steps: { validate_order: { validated_data: { id: 'o-1', valid: true } } },
    item: { orderId: 'o-7', total: 12 },
    event: { order_id: 'evt-9' },
    ...overrides,
  };
}

function thrown(run: () => unknown): FlowError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FlowError);
    return error as FlowError;
  }
  throw new Error('expected an error');
}

describe('contextScope', () => {
  it('exposes each root under its name and its alias, and $ as the root', () => {
    const ctx = context();
    const scope = contextScope(ctx);
    expect(scope['flow_variables']).toBe(ctx.vars);
    expect(scope['steps_output']).toBe(ctx.steps);
    expect(scope['currentItem']).toBe(ctx.item);
    expect(scope['$']).toBe(scope);
    expect(Object.keys(scope)).toEqual(['input', 'vars', 'outputs', 'steps', 'item', 'event', 'schedule', 'run', 'settings']);
  });

  it('lets expressions read through aliases and $', () => {
    const scope = contextScope(context());
    expect(resolveSource('flow_variables.count + currentItem.total', scope)).toBe(13);
    expect(resolveSource('$.event.order_id', scope)).toBe('evt-9');
  });
});

describe('resolveSource', () => {
  const scope = contextScope(context());

  it('reads the seed-004 sources', () => {
    expect(resolveSource('$.currentItem', scope)).toEqual({ orderId: 'o-7', total: 12 });
    expect(resolveSource('$.flow_variables.process_order_flow_id', scope)).toBe('process-order-flow');
    expect(resolveSource('$.steps_output.validate_order.validated_data', scope)).toEqual({ id: 'o-1', valid: true });
  });

  it('yields undefined for a definite path that is not there', () => {
    expect(resolveSource('$.input.order.missing.deeper', scope)).toBeUndefined();
    expect(resolveSource('$.input.order.lines[9]', scope)).toBeUndefined();
  });

  it('reads bracketed names and indexes', () => {
    expect(resolveSource("$['vars']['a b']", scope)).toBe('spaced');
    expect(resolveSource('$.input.order.lines[1].sku', scope)).toBe('b');
    expect(resolveSource('$.input.order.lines.length', scope)).toBe(3);
  });

  it('returns every match of a wildcard, recursive descent, slice or union', () => {
    expect(resolveSource('$.input.order.lines[*].sku', scope)).toEqual(['a', 'b', 'c']);
    expect(resolveSource('$.input.order.lines.*.qty', scope)).toEqual([1, 3, 5]);
    expect(resolveSource('$..sku', scope)).toEqual(['a', 'b', 'c']);
    expect(resolveSource('$.input.order.lines[0:2].sku', scope)).toEqual(['a', 'b']);
    expect(resolveSource('$.input.order.lines[0,2].sku', scope)).toEqual(['a', 'c']);
  });

  it('finds each value once even though aliases point at the same objects', () => {
    expect(resolveSource('$..process_order_flow_id', scope)).toEqual(['process-order-flow']);
  });

  it('filters with the expression language, without eval', () => {
    expect(resolveSource('$.input.order.lines[?(@.qty > 1)]', scope)).toEqual([{ sku: 'b', qty: 3 }, { sku: 'c', qty: 5 }]);
    expect(resolveSource('$.input.order.lines[?(@.sku is "c" or @.qty < 2)].sku', scope)).toEqual(['a', 'c']);
    expect(resolveSource('$.input.order.lines[?(@.missing.deeper)]', scope)).toEqual([]);
  });

  it('reports a failing filter as INVALID_EXPRESSION naming the problem', () => {
    const error = thrown(() => resolveSource('$.input.order.lines[?(@.qty > limit)]', scope));
    expect(error.code).toBe('INVALID_EXPRESSION');
    expect(error.message).toContain('unknown name "limit"');
  });

  it('keeps the limit code of a filter that exceeds a limit', () => {
    expect(thrown(() => resolveSource('$.input.order.lines[?(@.sku.repeat(1e9))]', scope)).code).toBe('EXPRESSION_LIMIT');
  });

  it('keeps prototype members out of reach of paths and filters', () => {
    expect(thrown(() => resolveSource('$.input.__proto__', scope)).code).toBe('INVALID_EXPRESSION');
    expect(thrown(() => resolveSource('$.input.order.lines[?(@.constructor)]', scope)).code).toBe('INVALID_EXPRESSION');
  });

  it('evaluates any other source as an expression', () => {
    expect(resolveSource('vars.count + 1', scope)).toBe(2);
    expect(resolveSource('{id: input.order.id, first: input.order.lines[0].sku}', scope)).toEqual({ id: 'o-1', first: 'a' });
  });
});

describe('checkMappingSource', () => {
  it('accepts valid paths, filters and expressions', () => {
    for (const source of ['$', '$.currentItem', "$['a b'][0]", '$..sku', '$.a[*]', '$.a[?(@.qty > 1 && @.sku is "b")]', '$.a[0:2]', 'vars.count + 1']) {
      expect(checkMappingSource(source), source).toBeUndefined();
    }
  });

  it('reports broken paths, filters and expressions', () => {
    expect(checkMappingSource('$.a[')).toContain('unclosed [');
    expect(checkMappingSource("$.a['b")).toContain('unclosed');
    expect(checkMappingSource('$.items[?(@.qty >)]')).toContain('invalid filter');
    expect(checkMappingSource('$.vars.x + 1')).toContain('expected a property name');
    expect(checkMappingSource('$.a.')).toContain('expected a property name');
    expect(checkMappingSource('$.a.__proto__')).toContain('not accessible');
    expect(checkMappingSource('vars.count +')).toContain('column');
  });
});

describe('parseContextTarget', () => {
  it('normalizes aliases and accepts dotted, bracketed and $-less targets', () => {
    expect(parseContextTarget('$.flow_variables.x')).toEqual({ root: 'vars', path: ['x'] });
    expect(parseContextTarget('$.vars.x.y')).toEqual({ root: 'vars', path: ['x', 'y'] });
    expect(parseContextTarget('vars.x')).toEqual({ root: 'vars', path: ['x'] });
    expect(parseContextTarget('$.outputs.lines')).toEqual({ root: 'outputs', path: ['lines'] });
    expect(parseContextTarget("$['vars']['a b']")).toEqual({ root: 'vars', path: ['a b'] });
  });

  it('explains why other targets are refused', () => {
    expect(parseContextTarget('$.input.x')).toContain('must start with vars');
    expect(parseContextTarget('$.steps.x')).toContain('not "steps"');
    expect(parseContextTarget('$.vars[*]')).toContain('must name one place');
    expect(parseContextTarget('$..x')).toContain('must name one place');
    expect(parseContextTarget('$.vars')).toContain('names no variable');
    expect(parseContextTarget('')).toContain('must be a path');
    expect(parseContextTarget('vars.x y')).toContain('column 6');
  });
});

describe('writeContextTarget and setInputPath', () => {
  it('writes vars and outputs, creating intermediate objects', () => {
    const ctx = context();
    writeContextTarget(ctx, '$.flow_variables.child.flow_id', 'run-1');
    writeContextTarget(ctx, 'outputs.lines', [1, 2]);
    writeContextTarget(ctx, '$.vars.count', 2);
    expect(ctx.vars).toMatchObject({ child: { flow_id: 'run-1' }, count: 2 });
    expect(ctx.outputs).toEqual({ lines: [1, 2] });
  });

  it('stores a copy, so later changes to the value do not reach the context', () => {
    const ctx = context();
    const value = { n: 1 };
    writeContextTarget(ctx, '$.vars.copy', value);
    value.n = 2;
    expect(ctx.vars['copy']).toEqual({ n: 1 });
  });

  it('throws INVALID_DEFINITION for a bad target', () => {
    const error = thrown(() => writeContextTarget(context(), '$.input.x', 1));
    expect(error.code).toBe('INVALID_DEFINITION');
  });

  it('sets nested input paths, replacing a literal that is in the way', () => {
    const input: Record<string, unknown> = { a: 5 };
    setInputPath(input, 'initialContextData.orderDetails', { id: 1 });
    setInputPath(input, 'a.b', 2);
    expect(input).toEqual({ initialContextData: { orderDetails: { id: 1 } }, a: { b: 2 } });
    expect(thrown(() => setInputPath(input, 'a..b', 1)).code).toBe('INVALID_DEFINITION');
  });
});

describe('buildStepInput', () => {
  it('builds the seed-004 START_FLOW_EXECUTION input from literals and mappings', () => {
    const step = {
      literals: { flowDefinitionId: 'process-order-flow', flowVersion: 'LATEST_PUBLISHED' },
      inputMappings: { 'initialContextData.orderDetails': '$.currentItem' },
    };
    expect(buildStepInput(step, contextScope(context()))).toEqual({
      flowDefinitionId: 'process-order-flow',
      flowVersion: 'LATEST_PUBLISHED',
      initialContextData: { orderDetails: { orderId: 'o-7', total: 12 } },
    });
  });

  it('lets a mapping win over a literal on the same path and keeps the literal siblings', () => {
    const step = {
      literals: { flowDefinitionId: 'literal-id', initialContextData: { priority: 1 } },
      inputMappings: {
        flowDefinitionId: '$.flow_variables.process_order_flow_id',
        'initialContextData.order': '$.steps_output.validate_order.validated_data',
      },
    };
    expect(buildStepInput(step, contextScope(context()))).toEqual({
      flowDefinitionId: 'process-order-flow',
      initialContextData: { priority: 1, order: { id: 'o-1', valid: true } },
    });
  });

  it('never lets a module mutate the definition or the context through its input', () => {
    const ctx = context();
    const step = { literals: { nested: { a: 1 } }, inputMappings: { item: '$.currentItem' } };
    const input = buildStepInput(step, contextScope(ctx)) as { nested: { a: number }; item: { total: number } };
    input.nested.a = 99;
    input.item.total = 99;
    expect(step.literals.nested.a).toBe(1);
    expect(ctx.item).toEqual({ orderId: 'o-7', total: 12 });
  });

  it('names the failing mapping in the error', () => {
    const error = thrown(() => buildStepInput({ inputMappings: { x: 'nosuch.value' } }, contextScope(context())));
    expect(error.code).toBe('INVALID_EXPRESSION');
    expect(error.message).toMatch(/^inputMappings\["x"\]: unknown name "nosuch"/);
  });
});

describe('applyOutputMappings', () => {
  const output = { sqsMessageId: 'm-1', startedFlowExecutionId: 'run-42', _meta: { status: 'SUCCESS' } };

  it('copies the seed-004 output into flow variables with a JSONPath over the output', () => {
    const ctx = context();
    applyOutputMappings({ outputMappings: { '$.flow_variables.triggered_order_flow_id': '$.startedFlowExecutionId' } }, output, ctx);
    expect(ctx.vars['triggered_order_flow_id']).toBe('run-42');
  });

  it('evaluates non-$ sources with the context plus output', () => {
    const ctx = context();
    applyOutputMappings(
      { outputMappings: { '$.outputs.summary': '"${output._meta.status} for ${event.order_id}"', 'vars.count': 'vars.count + 1' } },
      output,
      ctx,
    );
    expect(ctx.outputs['summary']).toBe('SUCCESS for evt-9');
    expect(ctx.vars['count']).toBe(2);
  });

  it('writes nothing when any mapping fails', () => {
    const ctx = context();
    const error = thrown(() =>
      applyOutputMappings({ outputMappings: { '$.vars.first': '$.startedFlowExecutionId', '$.vars.second': 'output.nope +' } }, output, ctx),
    );
    expect(error.message).toContain('outputMappings["$.vars.second"]');
    expect(ctx.vars['first']).toBeUndefined();
  });

  it('refuses a target outside vars and outputs', () => {
    const error = thrown(() => applyOutputMappings({ outputMappings: { '$.input.x': '$.startedFlowExecutionId' } }, output, context()));
    expect(error.code).toBe('INVALID_DEFINITION');
  });
});
