import { describe, expect, it } from 'vitest';
import { FlowError, ValidationError } from './errors.js';
import { checkExpression, compileExpression, evaluateExpression, interpolate, type ExpressionScope } from './expression/index.js';

const scope: ExpressionScope = {
  input: { report_type: 'summary', data: { title: 'Q3', rows: [1, 2, 3] }, name: '  Ada  ', tags: ['a', 'b'] },
  vars: { count: 2, empty: '', zero: 0 },
  steps: { analyze: { report: 'All good' } },
  event: { order_id: 'ord-42' },
};

const ev = (source: string, s: ExpressionScope = scope): unknown => evaluateExpression(source, s);

function thrown(run: () => unknown): FlowError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FlowError);
    return error as FlowError;
  }
  throw new Error('expected an error');
}

describe('seed examples', () => {
  it('decides on input.report_type is "summary"', () => {
    expect(ev('input.report_type is "summary"')).toBe(true);
    expect(ev('input.report_type is "detailed"')).toBe(false);
  });

  it('builds an object template from a string concatenation and literals', () => {
    expect(ev('{report: "Summary: " + input.data.title, type: "summary"}')).toEqual({ report: 'Summary: Q3', type: 'summary' });
  });

  it('interpolates ${JSON.stringify(...)} inside a double-quoted prompt with escapes', () => {
    const source = '"Generate a detailed report from this data.\\n\\nData: ${JSON.stringify(input.data)}"';
    expect(ev(source)).toBe('Generate a detailed report from this data.\n\nData: {"title":"Q3","rows":[1,2,3]}');
  });

  it('reads step outputs, events and vars', () => {
    expect(ev('steps.analyze.report')).toBe('All good');
    expect(ev('event.order_id')).toBe('ord-42');
    expect(ev('vars.count + 1')).toBe(3);
  });
});

describe('reading the scope', () => {
  it('reads optional input fields as undefined instead of throwing', () => {
    expect(ev('input.missing')).toBeUndefined();
    expect(ev('input.missing.deeper.still')).toBeUndefined();
    expect(ev('input.missing[0]')).toBeUndefined();
    expect(ev('input.missing?.x')).toBeUndefined();
    expect(ev('input.missing.trim()')).toBeUndefined();
    expect(ev('input.missing ?? "default"')).toBe('default');
  });

  it('rejects an unknown top-level name so typos do not read as absent', () => {
    const error = thrown(() => ev('inptu.data'));
    expect(error.code).toBe('INVALID_EXPRESSION');
    expect(error.message).toContain('unknown name "inptu"');
    expect(error.message).toContain('inptu.data');
  });

  it('treats a root that is present but undefined as a known name', () => {
    expect(ev('item.id', { item: undefined })).toBeUndefined();
  });

  it('reads members by dot, by quoted key and by index, and lengths of strings and arrays', () => {
    const s = { a: { 'b c': [10, 20], list: [{ id: 'x' }] } };
    expect(ev('a["b c"][1]', s)).toBe(20);
    expect(ev('a.list[0].id', s)).toBe('x');
    expect(ev('a["list"].length', s)).toBe(1);
    expect(ev('"hello".length', s)).toBe(5);
    expect(ev('"hello"[1]', s)).toBe('e');
  });

  it('does not see inherited members of data', () => {
    expect(ev('input.toString')).toBeUndefined();
    expect(ev('input.tags.map')).toBeUndefined();
  });
});

describe('operators', () => {
  it('follows JavaScript precedence for arithmetic and comparison', () => {
    expect(ev('1 + 2 * 3')).toBe(7);
    expect(ev('(1 + 2) * 3')).toBe(9);
    expect(ev('10 % 4 - 1')).toBe(1);
    expect(ev('-vars.count + +"3"')).toBe(1);
    expect(ev('vars.count >= 2 && vars.count < 3')).toBe(true);
    expect(ev('"apple" < "banana"')).toBe(true);
  });

  it('compares loosely with == only between primitives and strictly with ===', () => {
    expect(ev('1 == "1"')).toBe(true);
    expect(ev('1 === "1"')).toBe(false);
    expect(ev('null == undefined')).toBe(true);
    expect(ev('[1] == "1"')).toBe(false);
    expect(ev('input.tags != input.tags')).toBe(false);
  });

  it('returns operand values from && || ?? and short-circuits', () => {
    expect(ev('vars.empty || "fallback"')).toBe('fallback');
    expect(ev('vars.zero ?? 5')).toBe(0);
    expect(ev('vars.count && "yes"')).toBe('yes');
    expect(ev('false && nosuchname')).toBe(false);
    expect(ev('true || nosuchname')).toBe(true);
  });

  it('chooses with the ternary operator', () => {
    expect(ev('vars.count > 1 ? "many" : "one"')).toBe('many');
  });

  it('reads the words and, or, not as &&, ||, !', () => {
    expect(ev('vars.count is 2 and not false')).toBe(true);
    expect(ev('vars.count is 3 or input.report_type is "summary"')).toBe(true);
    expect(ev('not vars.empty')).toBe(true);
  });

  it('compares structurally with is and negates with is not', () => {
    expect(ev('input.data is {title: "Q3", rows: [1, 2, 3]}')).toBe(true);
    expect(ev('input.tags is ["a", "b"]')).toBe(true);
    expect(ev('input.tags is ["b", "a"]')).toBe(false);
    expect(ev('input.report_type is not "detailed"')).toBe(true);
    expect(ev('input.report_type is   not "summary"')).toBe(false);
    expect(ev('vars.count is not 1 + 1')).toBe(false);
    expect(ev('vars.empty is !true')).toBe(false);
  });

  it('concatenates text with +, turning arrays into comma lists as JavaScript does', () => {
    expect(ev('"Tags: " + input.tags')).toBe('Tags: a,b');
    expect(ev('"n=" + 1 + 2')).toBe('n=12');
  });

  it('refuses arithmetic on arrays and objects instead of coercing them', () => {
    const error = thrown(() => ev('input.tags * 2'));
    expect(error.code).toBe('INVALID_EXPRESSION');
    expect(error.message).toContain('input.tags * 2');
  });

  it('evaluates a long chain of operators without deep recursion', () => {
    const source = Array.from({ length: 5_000 }, () => '1').join(' + ');
    expect(ev(source)).toBe(5_000);
  });
});

describe('literals and templates', () => {
  it('builds objects with quoted keys, computed keys, shorthand and nested arrays', () => {
    expect(ev('{"quoted key": 1, [event.order_id]: true, nested: {list: [1, {deep: input.tags[0]}]}}')).toEqual({
      'quoted key': 1,
      'ord-42': true,
      nested: { list: [1, { deep: 'a' }] },
    });
    expect(ev('{event}')).toEqual({ event: { order_id: 'ord-42' } });
  });

  it('decodes string escapes in both quote styles', () => {
    expect(ev(String.raw`'it\'s' + "\t\"q\"" + "\u0041\x42\u{1F600}"`)).toBe('it\'s\t"q"AB😀');
  });

  it('interpolates ${} in string literals, allowing quotes inside the interpolated expression', () => {
    expect(ev('"Hi ${input.name.trim()}, tags: ${input.tags.join(", ")}"')).toBe('Hi Ada, tags: a, b');
    expect(ev('"id ${event["order_id"]}"')).toBe('id ord-42');
    expect(ev('`back ${vars.count}`')).toBe('back 2');
  });

  it('keeps \\${ as a literal ${ in strings', () => {
    expect(ev(String.raw`"cost: \${price}"`)).toBe('cost: ${price}');
  });

  it('knows undefined, null, true and false', () => {
    expect(ev('[undefined, null, true, false]')).toEqual([undefined, null, true, false]);
  });
});

describe('built-in functions and methods', () => {
  it('calls JSON, Math, String, Number, Boolean, len and Object helpers', () => {
    expect(ev('JSON.parse("{\\"a\\": [1]}").a[0]')).toBe(1);
    expect(ev('JSON.stringify({a: 1}, null, 2)')).toBe('{\n  "a": 1\n}');
    expect(ev('[Math.min(3, 1, 2), Math.max(3, 1), Math.round(2.5), Math.floor(2.7), Math.ceil(2.1), Math.abs(-4)]')).toEqual([1, 3, 3, 2, 3, 4]);
    expect(ev('[String(12), Number("4.5"), Boolean(""), String(input.tags)]')).toEqual(['12', 4.5, false, 'a,b']);
    expect(ev('[len("abc"), len(input.tags), len(input.data), len(input.missing)]')).toEqual([3, 2, 2, 0]);
    expect(ev('[Object.keys(input.data), Object.values({a: 1})]')).toEqual([['title', 'rows'], [1]]);
  });

  it('calls the whitelisted string methods', () => {
    expect(ev('[input.name.trim().toUpperCase(), "AbC".toLowerCase(), "abc".includes("b"), "abc".startsWith("a"), "abc".endsWith("c")]')).toEqual([
      'ADA',
      'abc',
      true,
      true,
      true,
    ]);
    expect(ev('["a-b-c".split("-"), "abc".slice(1), "abc".indexOf("c"), "a.b.c".replace(".", "$&$&"), "ab".repeat(2)]')).toEqual([
      ['a', 'b', 'c'],
      'bc',
      2,
      'a$&$&b.c',
      'abab',
    ]);
  });

  it('calls the whitelisted array methods', () => {
    expect(ev('[input.tags.includes("a"), input.tags.indexOf("b"), input.tags.join("+"), input.data.rows.slice(1), input.tags.concat(["c"], "d")]')).toEqual([
      true,
      1,
      'a+b',
      [2, 3],
      ['a', 'b', 'c', 'd'],
    ]);
  });

  it('explains a method called on the wrong kind of value', () => {
    const error = thrown(() => ev('vars.count.toUpperCase()'));
    expect(error.code).toBe('INVALID_EXPRESSION');
    expect(error.message).toContain('toUpperCase() is not a method of a number');
  });

  it('refuses functions and methods outside the whitelist when compiling', () => {
    expect(checkExpression('now()')).toContain('now() is not a function');
    expect(checkExpression('input.tags.map(x)')).toContain('.map() is not a method');
    expect(checkExpression('Math.random()')).toContain('Math.random() is not a function');
    expect(checkExpression('len(1, 2)')).toContain('len() takes 1 arguments, got 2');
  });
});

describe('compiling', () => {
  it('reports syntax errors as ValidationError with the column', () => {
    let error: unknown;
    try {
      compileExpression('vars.count +');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('INVALID_EXPRESSION');
    expect((error as ValidationError).issues).toEqual([{ path: '', message: expect.stringContaining('at column 13') }]);
  });

  it('checks expressions for definition validation without throwing', () => {
    expect(checkExpression('input.report_type is "summary"')).toBeUndefined();
    expect(checkExpression('(input.a')).toMatch(/Unclosed \( at column 9/);
    expect(checkExpression('a b')).toContain('expected an operator');
    expect(checkExpression('')).toContain('empty');
    expect(checkExpression('"unclosed ${input.a"')).toBeDefined();
  });

  it('returns the cached compilation for a source it has seen', () => {
    expect(compileExpression('vars.count * 10')).toBe(compileExpression('vars.count * 10'));
    expect(compileExpression('vars.count * 10').evaluate(scope)).toBe(20);
    expect(compileExpression('vars.count * 10').evaluate({ vars: { count: 3 } })).toBe(30);
  });
});

describe('limits', () => {
  it('stops after maxSteps AST visits', () => {
    const error = thrown(() => evaluateExpression('[1, 2, 3, 4, 5]', {}, { maxSteps: 3 }));
    expect(error.code).toBe('EXPRESSION_LIMIT');
    expect(error.message).toContain('maxSteps');
  });

  it('caps produced arrays at maxArrayLength', () => {
    const error = thrown(() => evaluateExpression('"a,b,c,d".split(",")', {}, { maxArrayLength: 3 }));
    expect(error.code).toBe('EXPRESSION_LIMIT');
    expect(error.message).toContain('maxArrayLength');
  });

  it('caps produced strings at maxStringLength, including interpolation', () => {
    expect(thrown(() => evaluateExpression('"abc" + "def"', {}, { maxStringLength: 5 })).message).toContain('maxStringLength');
    expect(thrown(() => interpolate('${"abc"}${"def"}', {}, { maxStringLength: 5 })).code).toBe('EXPRESSION_LIMIT');
  });

  it('refuses an expression nested deeper than maxDepth', () => {
    const error = thrown(() => evaluateExpression('[[[[1]]]]', {}, { maxDepth: 3 }));
    expect(error.code).toBe('EXPRESSION_LIMIT');
    expect(error.message).toContain('maxDepth');
  });
});

describe('interpolate', () => {
  it('replaces every ${expr} in plain text and leaves backslashes alone', () => {
    expect(interpolate('Order ${event.order_id}: ${vars.count + 1} items in C:\\new', scope)).toBe('Order ord-42: 3 items in C:\\new');
  });

  it('keeps \\${ literal and finds the closing brace past braces inside the expression', () => {
    expect(interpolate('\\${not} ${ {a: "}"}.a }', scope)).toBe('${not} }');
  });

  it('renders values with String() rules, so data needs JSON.stringify', () => {
    expect(interpolate('${input.tags} / ${input.data} / ${JSON.stringify(input.tags)}', scope)).toBe('a,b / [object Object] / ["a","b"]');
  });

  it('rejects an unclosed ${ with its column', () => {
    const error = thrown(() => interpolate('hello ${input.name', scope));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('column 7');
  });
});
