/**
 * The JSON Schema editors use for flow definitions (`flowrun/flow.schema.json`), generated from the
 * zod shape the validator takes its fields from: it accepts every example flow, and it refuses
 * every definition `validateFlow` refuses for its shape (unknown or missing fields, wrong JSON
 * types, unknown step types and enum values, numbers out of bounds, names and ids that do not fit
 * their patterns). Definitions refused for other reasons (references, expressions) are left to
 * the validator.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Validator, type Schema } from '@cfworker/json-schema';
import { describe, expect, it } from 'vitest';
import { compileFlow, validateFlow } from '../../src/index.js';
import { flowJsonSchema } from '../../src/core/validation/flow-shape.js';

const examples = resolve(import.meta.dirname, '../../examples');
const schema = flowJsonSchema();
const validator = new Validator(schema as Schema, '2020-12', false);
const accepts = (definition: unknown): boolean => validator.validate(definition).valid;

const jsonExamples = readdirSync(examples).filter((f) => f.endsWith('.json'));
const flowExamples = [...readdirSync(examples).filter((f) => f.endsWith('.flow')), ...readdirSync(join(examples, 'i18n')).map((f) => join('i18n', f))];

/** A valid flow that uses most of the model; each case below breaks one thing of its shape. */
function base(): Record<string, any> {
  return {
    id: 'shop/orders',
    title: 'Orders',
    classes: { Line: { type: 'object', properties: { id: { type: 'string' } } } },
    vars: { count: { type: 'number', default: 0 }, lines: { collection: 'Line' } },
    actions: {
      main: {
        params: { orderId: { type: 'text', required: true } },
        outputs: { lines: { collection: 'Line', returned: true, streamable: true } },
        timeoutMs: 60_000,
        startAt: 'compute',
        steps: {
          compute: { stepType: 'COMPUTE', expression: '{n: 1}', retry: { maxAttempts: 3, backoffMs: 100, backoffRate: 2, errorEquals: ['TIMEOUT'] }, catch: [{ errorEquals: ['*'], next: 'fail' }], defaultNextStepInstanceId: 'decide' },
          decide: { stepType: 'DECIDE', transitions: [{ condition: 'vars.count > 1', nextStepInstanceId: 'set' }], defaultNextStepInstanceId: 'call' },
          set: { stepType: 'SET', target: '$.vars.count', expression: 'vars.count + 1', defaultNextStepInstanceId: 'call' },
          call: { stepType: 'RUN_FLOW', flowDefinitionId: 'shop/lines', flowVersion: 'LATEST_PUBLISHED', action: 'main', returnMappings: [{ output: 'lines', target: '$.vars.lines', mode: 'merge' }], defaultNextStepInstanceId: 'launch' },
          launch: { stepType: 'START_FLOW_EXECUTION', moduleIdentifier: 'system/start-flow-execution', literals: { flowDefinitionId: 'shop/audit' }, defaultNextStepInstanceId: 'ask' },
          ask: { stepType: 'ASK', model: 'openai:gpt-4o', task: '"summarize"', returns: { summary: { type: 'text' } }, defaultNextStepInstanceId: 'module' },
          module: { stepType: 'MODULE', moduleIdentifier: 'shop/charge', inputMappings: { id: '$.input.orderId' }, outputMappings: { '$.vars.count': '$.n' }, timeoutMs: 500, defaultNextStepInstanceId: 'wait' },
          wait: { stepType: 'WAIT', durationMs: 1000, defaultNextStepInstanceId: 'emit' },
          emit: { stepType: 'EMIT', event: 'order.done', payload: 'input.orderId', defaultNextStepInstanceId: 'loop' },
          loop: { stepType: 'RUN_FLOW', subflow: 'tick', defaultNextStepInstanceId: 'done' },
          done: { stepType: 'SUCCEED' },
          fail: { stepType: 'FAIL', code: 'BROKEN', description: 'it broke' },
        },
      },
    },
    subflows: { tick: { startAt: 'again', steps: { again: { stepType: 'GOTO', subflow: 'tock' } } }, tock: { startAt: 'end', steps: { end: { stepType: 'SUCCEED' } } } },
    subscriptions: [{ on: 'order.created', run: 'main' }],
    roles: { starters: ['sales'] },
  };
}

const step = (f: Record<string, any>, name: string): Record<string, any> => f.actions.main.steps[name];

/** One break of the shape each: [what, how]. */
const shapeBreaks: [string, (f: Record<string, any>) => void][] = [
  ['an unknown top-level field', (f) => (f.owner = 'me')],
  ['no id', (f) => delete f.id],
  ['an id of the wrong type', (f) => (f.id = 42)],
  ['an id outside the pattern', (f) => (f.id = 'has space')],
  ['a title of the wrong type', (f) => (f.title = ['x'])],
  ['no actions', (f) => delete f.actions],
  ['empty actions', (f) => (f.actions = {})],
  ['an unknown action field', (f) => (f.actions.main.entry = 'x')],
  ['an action without startAt', (f) => delete f.actions.main.startAt],
  ['an action timeout of 0', (f) => (f.actions.main.timeoutMs = 0)],
  ['steps that are a list', (f) => (f.actions.main.steps = [])],
  ['a step without stepType', (f) => delete step(f, 'done').stepType],
  ['an unknown stepType', (f) => (step(f, 'done').stepType = 'SLEEP')],
  ['a field of another step type', (f) => (step(f, 'done').moduleIdentifier = 'x/y')],
  ['a COMPUTE step without expression', (f) => delete step(f, 'compute').expression],
  ['an expression that is a number', (f) => (step(f, 'compute').expression = 3)],
  ['a DECIDE step with no transitions', (f) => (step(f, 'decide').transitions = [])],
  ['a transition with an unknown field', (f) => (step(f, 'decide').transitions[0].weight = 1)],
  ['a retry of 0 attempts', (f) => (step(f, 'compute').retry.maxAttempts = 0)],
  ['a fractional number of attempts', (f) => (step(f, 'compute').retry.maxAttempts = 1.5)],
  ['a backoff rate below 1', (f) => (step(f, 'compute').retry.backoffRate = 0.5)],
  ['a retry with an unknown field', (f) => (step(f, 'compute').retry.jitter = true)],
  ['a catch clause without next', (f) => delete step(f, 'compute').catch[0].next],
  ['a catch clause with no codes', (f) => (step(f, 'compute').catch[0].errorEquals = [])],
  ['a step timeout of 0', (f) => (step(f, 'module').timeoutMs = 0)],
  ['literals that are a list', (f) => (step(f, 'launch').literals = [1])],
  ['an input mapping source that is a number', (f) => (step(f, 'module').inputMappings.id = 1)],
  ['a MODULE step without moduleIdentifier', (f) => delete step(f, 'module').moduleIdentifier],
  ['an empty moduleIdentifier', (f) => (step(f, 'module').moduleIdentifier = '')],
  ['a SET step without target', (f) => delete step(f, 'set').target],
  ['a RUN_FLOW version 0', (f) => (step(f, 'call').flowVersion = 0)],
  ['a RUN_FLOW version "latest"', (f) => (step(f, 'call').flowVersion = 'latest')],
  ['async that is a string', (f) => (step(f, 'call').async = 'yes')],
  ['a return mapping mode "append"', (f) => (step(f, 'call').returnMappings[0].mode = 'append')],
  ['a return mapping without target', (f) => delete step(f, 'call').returnMappings[0].target],
  ['a START_FLOW_EXECUTION step with a return mapping', (f) => (step(f, 'launch').returnMappings = [{ output: 'x', target: '$.vars.count' }])],
  ['a START_FLOW_EXECUTION step of another module', (f) => (step(f, 'launch').moduleIdentifier = 'x/y')],
  ['an ASK model without a provider', (f) => (step(f, 'ask').model = 'gpt-4o')],
  ['an ASK step without returns', (f) => delete step(f, 'ask').returns],
  ['an ASK field of an unknown type', (f) => (step(f, 'ask').returns.summary.type = 'string')],
  ['a negative WAIT', (f) => (step(f, 'wait').durationMs = -1)],
  ['an EMIT event name with a space', (f) => (step(f, 'emit').event = 'order done')],
  ['an EMIT step without event', (f) => delete step(f, 'emit').event],
  ['a GOTO step without subflow', (f) => delete f.subflows.tick.steps.again.subflow],
  ['a FAIL code that is a number', (f) => (step(f, 'fail').code = 500)],
  ['a source line below 0', (f) => (step(f, 'done').source = { line: -1 })],
  ['a var of an unknown type', (f) => (f.vars.count.type = 'int')],
  ['a var with an unknown field', (f) => (f.vars.count.required = true)],
  ['a param required "yes"', (f) => (f.actions.main.params.orderId.required = 'yes')],
  ['a param schema that is a string', (f) => (f.actions.main.params.orderId = { schema: 'string' })],
  ['an output streamable "true"', (f) => (f.actions.main.outputs.lines.streamable = 'true')],
  ['a class that is not an object', (f) => (f.classes.Line = 'object')],
  ['an empty step name', (f) => (f.actions.main.steps[''] = { stepType: 'SUCCEED' })],
  ['a step named constructor', (f) => (f.actions.main.steps.constructor = { stepType: 'SUCCEED' })],
  ['a subflow without steps', (f) => delete f.subflows.tock.steps],
  ['a subscription without on', (f) => delete f.subscriptions[0].on],
  ['subscriptions that are an object', (f) => (f.subscriptions = { on: 'x', run: 'main' })],
  ['roles with an unknown role', (f) => (f.roles.owners = ['x'])],
  ['starters that are a string', (f) => (f.roles.starters = 'sales')],
  ['a $schema that is not a string', (f) => (f.$schema = true)],
];

describe('flow.schema.json', () => {
  it('accepts the base flow of the cases below, as validateFlow does', () => {
    expect(validateFlow(base())).toMatchObject({ ok: true });
    expect(validator.validate(base()).errors).toEqual([]);
  });

  it.each(jsonExamples)('accepts examples/%s, which points at it with $schema', (file) => {
    const definition = JSON.parse(readFileSync(join(examples, file), 'utf8')) as Record<string, unknown>;
    expect(definition.$schema).toBe('../dist/flow.schema.json');
    expect(validateFlow(definition)).toMatchObject({ ok: true });
    expect(validator.validate(definition).errors).toEqual([]);
  });

  it.each(flowExamples)('accepts what examples/%s compiles to', (file) => {
    const compiled = compileFlow(readFileSync(join(examples, file), 'utf8'), { file });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    expect(validator.validate(compiled.flow).errors).toEqual([]);
  });

  it.each(shapeBreaks)('refuses %s, as validateFlow does', (_what, breakIt) => {
    const definition = base();
    breakIt(definition);
    expect(validateFlow(definition).ok).toBe(false);
    expect(accepts(definition)).toBe(false);
  });

  it('leaves references to the validator: a transition to a step that does not exist fits the shape', () => {
    const definition = base();
    step(definition, 'decide').defaultNextStepInstanceId = 'nowhere';
    expect(validateFlow(definition).ok).toBe(false);
    expect(accepts(definition)).toBe(true);
  });
});
