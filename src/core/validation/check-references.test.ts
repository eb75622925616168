/**
 * Issue 14: a reference to a step, var or output that does not exist is a definition error with
 * its path and a did-you-mean, in JSON and in the flow language alike (today the run succeeds with
 * `{}`); what is only known at run time stays allowed.
 */
import { describe, expect, it } from 'vitest';
import { compileFlow } from '../../dsl/compile-flow.js';
import { validateFlow } from './validate-flow.js';

/** Seed 001's "Call-and-return" pipeline as JSON, with `finalize` reading `read` (one step's output). */
function pipeline(read: string): Record<string, unknown> {
  return {
    id: 'pipeline',
    vars: { remaining: { type: 'number', default: 3 } },
    actions: {
      main: {
        params: { report_type: { type: 'text' } },
        outputs: { report: { type: 'text', returned: true } },
        startAt: 'setup',
        steps: {
          setup: { stepType: 'COMPUTE', expression: '{ready: true}', defaultNextStepInstanceId: 'process' },
          process: { stepType: 'RUN_FLOW', subflow: 'process', defaultNextStepInstanceId: 'finalize' },
          finalize: { stepType: 'COMPUTE', expression: `{done: true, processed: ${read}}` },
        },
      },
    },
    subflows: { process: { startAt: 'work', steps: { work: { stepType: 'COMPUTE', expression: '{result: "processed"}' } } } },
  };
}

function issuesOf(definition: unknown): { path: string; message: string }[] {
  const result = validateFlow(definition);
  return result.ok ? [] : result.issues;
}

describe('references that certainly read nothing are definition errors', () => {
  it('reports steps.zzz.q with its path, the steps it could mean and a did-you-mean', () => {
    expect(issuesOf(pipeline('steps.zzz.q'))).toEqual([
      { path: 'actions.main.steps.finalize.expression', message: expect.stringMatching(/"steps\.zzz" in ".*" names no step of this graph; its steps: setup, process, finalize/) },
    ]);
    expect(issuesOf(pipeline('steps.setpu.ready'))[0]!.message).toContain('did you mean "setup"?');
    expect(issuesOf(pipeline('steps_output.setpu.ready'))[0]!.message).toContain('did you mean "setup"?');
    expect(issuesOf(pipeline('$.steps.setpu'))[0]!.message).toContain('did you mean "setup"?');
  });

  it('reports a var or output the flow does not declare, and a name that is no context root', () => {
    expect(issuesOf(pipeline('vars.remaning'))[0]!.message).toMatch(/"vars\.remaning" .* names no declared var; did you mean "remaining"\?; declared vars: remaining/);
    expect(issuesOf(pipeline('flow_variables.remaning'))[0]!.message).toContain('did you mean "remaining"?');
    expect(issuesOf(pipeline('outputs.reprot'))[0]!.message).toMatch(/names no declared output; did you mean "report"\?/);
    expect(issuesOf(pipeline('stpes.setup'))[0]!.message).toMatch(/unknown name "stpes" .*; did you mean "steps"\?/);
  });

  it('checks mapping sources too: JSONPath and expressions in inputMappings, expressions in outputMappings', () => {
    const flow = pipeline('1') as { actions: { main: { steps: Record<string, Record<string, unknown>> } } };
    flow.actions.main.steps.process!.inputMappings = { a: '$.steps.setpu.ready', b: '$.flow_varibles.remaining', c: 'steps.setup.ready' };
    flow.actions.main.steps.setup!.outputMappings = { '$.vars.remaining': 'output.ready ? vars.remainig : 0' };
    const issues = issuesOf(flow);
    expect(issues.map((i) => i.path)).toEqual([
      'actions.main.steps.setup.outputMappings["$.vars.remaining"]',
      'actions.main.steps.process.inputMappings.a',
      'actions.main.steps.process.inputMappings.b',
    ]);
    expect(issues[2]!.message).toMatch(/unknown context root "flow_varibles" .*did you mean "flow_variables"\?/);
  });

  it("reports a subflow step reading a step of its caller's graph: a subflow's frame starts with no step outputs", () => {
    const flow = pipeline('steps.process.result') as { subflows: { process: { steps: Record<string, Record<string, unknown>> } } };
    flow.subflows.process.steps.work!.expression = '{result: steps.setup.ready}';
    expect(issuesOf(flow)).toEqual([{ path: 'subflows.process.steps.work.expression', message: expect.stringContaining('"steps.setup"') }]);
  });

  it('reports the same mistake in the flow language, at its line, with a did-you-mean', () => {
    const program = 'machine pipeline\n  implements\n    compute setup {ready: true}\n    run flow(process)\n    compute finalize {done: true, processed: steps.setpu.ready}\n  flows\n    flow process\n      compute work {result: "processed"}\n';
    const result = compileFlow(program, { file: 'pipeline.flow' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics).toEqual([expect.objectContaining({ line: 5, message: expect.stringContaining('did you mean "setup"?') })]);
  });
});

describe('references only known at run time stay allowed', () => {
  it('accepts input, item, event, run and settings below their roots, computed keys, and output in outputMappings', () => {
    const flow = pipeline('[input.report_type, item.x, currentItem.y, event.order_id, run.id, settings.z, steps["set" + "up"], steps.setup.ready, vars.remaining, outputs.report, $.steps.setup]') as {
      actions: { main: { steps: Record<string, Record<string, unknown>> } };
    };
    // Seed 004: a JSONPath source of outputMappings reads the step's output.
    flow.actions.main.steps.setup!.outputMappings = { '$.vars.remaining': '$.startedFlowExecutionId', '$.outputs.report': 'output.ready ? "yes" : "no"' };
    expect(validateFlow(flow)).toMatchObject({ ok: true });
  });

  it('warns, without failing, when input.x names no declared param (undeclared input passes through)', () => {
    const result = validateFlow(pipeline('input.report_tpye'));
    expect(result).toMatchObject({ ok: true, warnings: [{ path: 'actions.main.steps.finalize.expression', message: expect.stringContaining('did you mean "report_type"?') }] });
  });

  it('leaves anything under vars and outputs unchecked when the flow declares none', () => {
    const flow = pipeline('[vars.anything, outputs.whatever]') as Record<string, unknown> & { actions: { main: Record<string, unknown> } };
    delete flow.vars;
    delete flow.actions.main.outputs;
    expect(validateFlow(flow)).toMatchObject({ ok: true });
  });
});
