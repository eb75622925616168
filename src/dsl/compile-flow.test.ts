/** What the language compiles to: the FlowDefinition of each construct. */
import { describe, expect, it } from 'vitest';
import { compileFlow } from './compile-flow.js';

function compile(text: string) {
  const result = compileFlow(text);
  if (!result.ok) throw new Error(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  return result.flow;
}

describe('compileFlow', () => {
  it('compiles a machine to a flow: implements is main, flows are subflows, accepts are params', () => {
    const flow = compile(['machine m', '  accepts', '    a as text, is required', '    n as number, default 3', '    tags as list', '  implements', '    run flow(f)', '  flows', '    flow f', '      compute x input.n + 1'].join('\n'));
    expect(flow).toEqual({
      id: 'm',
      actions: {
        main: {
          params: { a: { type: 'text', required: true }, n: { type: 'number', default: 3 }, tags: { type: 'list' } },
          startAt: 'run_f',
          steps: { run_f: { stepType: 'RUN_FLOW', subflow: 'f', source: { line: 7 } } },
        },
      },
      subflows: { f: { startAt: 'x', steps: { x: { stepType: 'COMPUTE', expression: 'input.n + 1', source: { line: 10 } } } } },
    });
  });

  it('joins decide branches at the statement after the decide', () => {
    const flow = compile(['machine m', '  implements', '    decide d', '      when input.x > 1', '        compute big "big"', '        compute bigger "bigger"', '      otherwise', '        compute small "small"', '    compute after steps.d'].join('\n'));
    const steps = flow.actions.main!.steps;
    expect(steps.d).toMatchObject({ stepType: 'DECIDE', transitions: [{ condition: 'input.x > 1', nextStepInstanceId: 'big' }], defaultNextStepInstanceId: 'small' });
    expect(steps.big).toMatchObject({ defaultNextStepInstanceId: 'bigger' });
    expect(steps.bigger).toMatchObject({ defaultNextStepInstanceId: 'after' });
    expect(steps.small).toMatchObject({ defaultNextStepInstanceId: 'after' });
    expect(Object.keys(steps)).toEqual(['d', 'big', 'bigger', 'small', 'after']);
  });

  it('reads a branch written on one line: when COND run flow(x)', () => {
    const flow = compile(['machine m', '  implements', '    decide d', '      when input.kind is "run flow(a)" run flow(a)', '      otherwise goto flow(a)', '  flows', '    flow a', '      compute x 1'].join('\n'));
    expect(flow.actions.main!.steps).toMatchObject({
      d: { transitions: [{ condition: 'input.kind is "run flow(a)"', nextStepInstanceId: 'run_a' }], defaultNextStepInstanceId: 'goto_a' },
      run_a: { stepType: 'RUN_FLOW', subflow: 'a' },
      goto_a: { stepType: 'GOTO', subflow: 'a' },
    });
  });

  it('compiles launch to START_FLOW_EXECUTION, action call and ask from to RUN_FLOW of another flow', () => {
    const flow = compile([
      'machine m',
      '  implements',
      '    launch l, machine: "@org/other" id: input.id note: "a: b" total: input.a ? 1 : 2',
      '    action c call machine: "@org/billing/refund"',
      '      order_id: input.id',
      '    ask v, from: "@org/validate" order_id: input.id',
      '      returns valid as boolean',
    ].join('\n'));
    expect(flow.actions.main!.steps).toEqual({
      l: {
        stepType: 'START_FLOW_EXECUTION',
        moduleIdentifier: 'system/start-flow-execution',
        literals: { flowDefinitionId: '@org/other' },
        inputMappings: { 'initialContextData.id': 'input.id', 'initialContextData.note': '"a: b"', 'initialContextData.total': 'input.a ? 1 : 2' },
        defaultNextStepInstanceId: 'c',
        source: { line: 3 },
      },
      c: { stepType: 'RUN_FLOW', flowDefinitionId: '@org/billing/refund', inputMappings: { order_id: 'input.id' }, defaultNextStepInstanceId: 'v', source: { line: 4 } },
      v: { stepType: 'RUN_FLOW', flowDefinitionId: '@org/validate', inputMappings: { order_id: 'input.id' }, source: { line: 6 } },
    });
  });

  it('compiles ask using to an ASK step with typed returns and assuming values', () => {
    const flow = compile([
      'machine m',
      '  implements',
      '    ask a, using: "openai:gpt-4o"',
      '      with task "Rate ${input.text}"',
      '      text: input.text',
      '      returns score as number, reasons as list',
      '      returns ok as boolean',
      '      assuming score: 4, reasons: ["short", \'clear\'], ok: true',
    ].join('\n'));
    expect(flow.actions.main!.steps.a).toEqual({
      stepType: 'ASK',
      model: 'openai:gpt-4o',
      task: '"Rate ${input.text}"',
      returns: { score: { type: 'number' }, reasons: { type: 'list' }, ok: { type: 'boolean' } },
      assuming: { score: 4, reasons: ['short', 'clear'], ok: true },
      inputMappings: { text: 'input.text' },
      source: { line: 3 },
    });
  });

  it('compiles set, fail, subscriptions, and a machine with nothing to do', () => {
    const flow = compile(['machine m', '  implements', '    subscribes on "a.b" run h', '  flows', '    flow h', '      set vars.count = (vars.count ?? 0) + 1', '      set outputs.seen = vars.count == 1', '      fail TOO_MANY, "too many: \\"x\\""'].join('\n'));
    expect(flow.subscriptions).toEqual([{ on: 'a.b', run: 'h' }]);
    const acting = compile(['machine m', '  implements', '    subscribes on "a.daily" run h as "svc-reports"', '  flows', '    flow h', '      set vars.n = 1'].join('\n'));
    expect(acting.subscriptions).toEqual([{ on: 'a.daily', run: 'h', runAs: 'svc-reports' }]);
    expect(flow.actions.main).toEqual({ startAt: 'end', steps: { end: { stepType: 'SUCCEED', source: { line: 2 } } } });
    expect(flow.subflows!.h!.steps).toEqual({
      set_count: { stepType: 'SET', target: 'vars.count', expression: '(vars.count ?? 0) + 1', defaultNextStepInstanceId: 'set_seen', source: { line: 6 } },
      set_seen: { stepType: 'SET', target: 'outputs.seen', expression: 'vars.count == 1', defaultNextStepInstanceId: 'fail_too_many', source: { line: 7 } },
      fail_too_many: { stepType: 'FAIL', code: 'TOO_MANY', description: 'too many: "x"', source: { line: 8 } },
    });
  });

  it('continues an expression over lines while a bracket is open, and strips comments outside strings', () => {
    const flow = compile(['machine m', '  implements', '    compute x {', '      url: "http://a.b/c", // the address', '      n: 1', '    }', '    compute y 2 // done'].join('\n'));
    expect(flow.actions.main!.steps.x).toMatchObject({ expression: '{\n      url: "http://a.b/c", \n      n: 1\n    }', source: { line: 3 } });
    expect(flow.actions.main!.steps.y).toMatchObject({ expression: '2', source: { line: 7 } });
  });

  it('numbers generated step ids apart when a flow runs twice', () => {
    const flow = compile(['machine m', '  implements', '    run flow(f)', '    run flow(f)', '  flows', '    flow f', '      compute run_f 1'].join('\n'));
    expect(Object.keys(flow.actions.main!.steps)).toEqual(['run_f', 'run_f_2']);
  });

  it('records the file in every source location', () => {
    const result = compileFlow('machine m\n  implements\n    compute x 1', { file: 'm.flow' });
    expect(result.ok && result.flow.actions.main!.steps.x!.source).toEqual({ file: 'm.flow', line: 3 });
  });
});
