import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowError } from './errors.js';
import { compileExpression, evaluateExpression, interpolate, type ExpressionScope } from './expression/index.js';
import { contextScope, setInputPath, writeContextTarget, type StepContext } from './mapping.js';

const scope: ExpressionScope = { input: { a: 1, s: 'x'.repeat(100_000) }, vars: {} };

/** Runs an attempt and returns the FlowError it must end in: not a value, not another error. */
function refused(run: () => unknown): FlowError {
  let outcome: unknown;
  try {
    outcome = run();
  } catch (error) {
    expect(error).toBeInstanceOf(FlowError);
    return error as FlowError;
  }
  throw new Error(`expected a refusal, got ${String(outcome)}`);
}

afterEach(() => {
  // Nothing may have leaked onto the shared prototype.
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(({} as Record<string, unknown>)['x']).toBeUndefined();
});

describe('escaping the sandbox', () => {
  it.each([
    ['constructor.constructor("return process")()'],
    ['"".constructor'],
    ['"".constructor.constructor("return 1")()'],
    ['input.__proto__'],
    ['input["__proto__"]'],
    ['input.constructor'],
    ['input.prototype'],
    ['input.__defineGetter__'],
    ['input.__lookupGetter__("a")'],
    ['this'],
    ['this.constructor'],
    ['Function("return 1")()'],
    ['eval("1")'],
    ['require("fs")'],
    ['new Date()'],
    ['a = 1'],
    ['input.a = 1'],
    ['input.a += 1'],
    ['(x) => x'],
    ['input.s["constructor"]'],
    ['[].constructor'],
    ['({}).__proto__'],
    ['{__proto__: {polluted: 1}}'],
    ['{"__proto__": {polluted: 1}}'],
    ['input.s.toString.call(1)'],
    ['input["toString"]()'],
    ['(0, input.s.slice)("a")'],
    ['JSON.stringify.call(1)'],
    ['Object.assign({}, {})'],
    ['Object.defineProperty({}, "x", {})'],
  ])('refuses %s', (source) => {
    const error = refused(() => evaluateExpression(source, scope));
    expect(['INVALID_EXPRESSION', 'EXPRESSION_LIMIT']).toContain(error.code);
  });

  it.each([['globalThis'], ['process'], ['require'], ['Function'], ['eval'], ['window'], ['module']])(
    'treats the global %s as an unknown name',
    (source) => {
      const error = refused(() => evaluateExpression(source, scope));
      expect(error.message).toContain('unknown name');
    },
  );

  it('refuses prototype keys computed at run time', () => {
    expect(refused(() => evaluateExpression('input["constr" + "uctor"]', scope)).message).toContain('"constructor" is not accessible');
    expect(refused(() => evaluateExpression('input["__pro" + "to__"]', scope)).code).toBe('INVALID_EXPRESSION');
    expect(refused(() => evaluateExpression('{["__pro" + "to__"]: {polluted: 1}}', scope)).code).toBe('INVALID_EXPRESSION');
  });

  it('parses JSON with a __proto__ key as plain data without polluting Object.prototype', () => {
    const parsed = evaluateExpression('JSON.parse(\'{"__proto__": {"x": 1}}\')', scope) as object;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(refused(() => evaluateExpression('JSON.parse(\'{"__proto__": {"x": 1}}\').__proto__.x', scope)).code).toBe('INVALID_EXPRESSION');
  });

  it('never calls functions found in the data', () => {
    let called = false;
    const data = { input: { fn: () => (called = true), s: 'a' } };
    expect(() => evaluateExpression('input.fn()', data)).toThrow(FlowError);
    expect(evaluateExpression('input.fn', data)).toBe(data.input.fn);
    expect(evaluateExpression('"" + input.fn', data)).toBe('[function]');
    expect(called).toBe(false);
  });

  it('does not run getters on data', () => {
    let ran = false;
    const input = Object.defineProperty({}, 'secret', { get: () => ((ran = true), 'leaked'), enumerable: true });
    expect(evaluateExpression('input.secret', { input })).toBeUndefined();
    expect(ran).toBe(false);
  });
});

describe('exhausting resources', () => {
  it('stops a string doubled by repeated concatenation', () => {
    let source = 'input.s';
    for (let i = 0; i < 6; i++) source = `(${source}) + (${source})`;
    // 100,000 characters doubled 6 times would be 6.4 million.
    expect(refused(() => evaluateExpression(source, scope)).code).toBe('EXPRESSION_LIMIT');
  });

  it('stops repeat before allocating a huge string', () => {
    expect(refused(() => evaluateExpression('"abc".repeat(1e9)', scope)).message).toContain('maxStringLength');
    expect(refused(() => evaluateExpression('input.s.repeat(11)', scope)).code).toBe('EXPRESSION_LIMIT');
  });

  it('stops join growth', () => {
    expect(refused(() => evaluateExpression('[1, 2, 3].join(input.s.repeat(6))', scope)).message).toContain('maxStringLength');
    expect(refused(() => evaluateExpression('[input.s, input.s].join(input.s).split("")', scope)).code).toBe('EXPRESSION_LIMIT');
  });

  it('stops interpolation growth', () => {
    const text = Array.from({ length: 11 }, () => '${input.s}').join('');
    expect(refused(() => interpolate(text, scope)).code).toBe('EXPRESSION_LIMIT');
  });

  it('stops array growth through concat', () => {
    expect(refused(() => evaluateExpression('input.s.split("").concat(input.s.split(""))', scope, { maxArrayLength: 150_000 })).code).toBe(
      'EXPRESSION_LIMIT',
    );
  });

  it.each([
    ['parentheses', '('.repeat(10_000) + '1' + ')'.repeat(10_000)],
    ['arrays', '['.repeat(10_000) + ']'.repeat(10_000)],
    ['objects', '{a:'.repeat(10_000) + '1' + '}'.repeat(10_000)],
    ['member access', 'input' + '.a'.repeat(10_000)],
    ['calls', 'String('.repeat(10_000) + '1' + ')'.repeat(10_000)],
    ['negations', '!'.repeat(100_000) + 'true'],
    ['templates', '"${'.repeat(5_000) + '1' + '}"'.repeat(5_000)],
  ])('refuses 10,000-deep nesting of %s with a limit error, not a stack overflow', (_kind, source) => {
    const error = refused(() => compileExpression(source));
    expect(error.code).toBe('EXPRESSION_LIMIT');
    expect(error.message).toContain('maxDepth');
  });

  it('refuses to compare cyclic data forever', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const other: Record<string, unknown> = {};
    other['self'] = other;
    expect(refused(() => evaluateExpression('a is b', { a: cyclic, b: other })).code).toBe('EXPRESSION_LIMIT');
    // Measured before it is built, a cycle is as long as the longest string allowed.
    expect(refused(() => evaluateExpression('JSON.stringify(a)', { a: cyclic })).code).toBe('EXPRESSION_LIMIT');
  });
});

describe('prototype pollution through mappings', () => {
  const ctx = (): StepContext => ({ input: {}, vars: {}, outputs: {}, steps: {} });

  it.each([['__proto__.polluted'], ['a.__proto__.polluted'], ['constructor.prototype.polluted'], ['prototype.polluted']])(
    'setInputPath refuses %s',
    (path) => {
      expect(refused(() => setInputPath({}, path, 1)).code).toBe('INVALID_DEFINITION');
    },
  );

  it.each([['$.vars.__proto__.polluted'], ['vars.__proto__.polluted'], ["$['vars']['__proto__']['polluted']"], ['$.outputs.constructor.prototype.polluted'], ['$.__proto__.polluted']])(
    'writeContextTarget refuses %s',
    (target) => {
      expect(refused(() => writeContextTarget(ctx(), target, 1)).code).toBe('INVALID_DEFINITION');
    },
  );

  it('stores a JSON.parse result with a __proto__ key as data, not as a prototype', () => {
    const context = ctx();
    writeContextTarget(context, '$.vars.parsed', evaluateExpression('JSON.parse(\'{"__proto__": {"polluted": 1}}\')', contextScope(context)));
    expect(Object.getPrototypeOf(context.vars['parsed'])).toBe(Object.prototype);
  });
});

describe('random input', () => {
  const alphabet = ['(', ')', '[', ']', '{', '}', '"', "'", '`', '$', '${', '\\', '.', ',', ':', '?', '!', '+', '-', '*', '=', '<', '>', '&', '|', ' ', 'a', 'input', 'is', 'not', 'and', '1', '__proto__', 'constructor', 'JSON.parse', 'len', '.repeat(', '.join('];
  const code = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 60 });
  const sandbox = { a: { b: [1, 'x', { c: null }] }, input: { a: 'text' } };

  function onlyFlowErrors(run: () => unknown): boolean {
    try {
      run();
      return true;
    } catch (error) {
      return error instanceof FlowError;
    }
  }

  it('never makes compileExpression throw anything but a FlowError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (source) => onlyFlowErrors(() => compileExpression(source))), { numRuns: 2_000 });
    fc.assert(fc.property(code, (source) => onlyFlowErrors(() => compileExpression(source))), { numRuns: 3_000 });
  });

  it('never makes evaluation throw anything but a FlowError', () => {
    fc.assert(
      fc.property(code, (source) => onlyFlowErrors(() => evaluateExpression(source, sandbox)) && onlyFlowErrors(() => interpolate(source, sandbox))),
      { numRuns: 3_000 },
    );
  });
});
