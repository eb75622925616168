import { describe, expect, it } from 'vitest';
import type { ActionDefinition, JsonSchema } from './model.js';
import { bindActionInput, checkJsonSchema, typeRefToSchema, validateValue } from './params.js';

const classes: Record<string, JsonSchema> = {
  OrderLine: {
    type: 'object',
    properties: { id: { type: 'string' }, qty: { type: 'number' } },
    required: ['id'],
  },
};

function action(params: ActionDefinition['params']): ActionDefinition {
  return { params, startAt: 'done', steps: { done: { stepType: 'SUCCEED' } } };
}

const orderAction = action({
  order: {
    schema: { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } }, required: ['id'] },
    required: true,
  },
  priority: { type: 'number', default: 1 },
  tags: { type: 'list', default: ['new', { source: 'web' }] },
  note: { type: 'text' },
});

function bindIssues(def: ActionDefinition, input: unknown) {
  const result = bindActionInput(def, input, classes);
  if (result.ok) throw new Error(`expected issues, got ${JSON.stringify(result.value)}`);
  return result.issues;
}

function bindValue(def: ActionDefinition, input: unknown) {
  const result = bindActionInput(def, input, classes);
  if (!result.ok) throw new Error(`expected a value, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

describe('typeRefToSchema', () => {
  it.each([
    [{ type: 'text' as const }, { type: 'string' }],
    [{ type: 'number' as const }, { type: 'number' }],
    [{ type: 'boolean' as const }, { type: 'boolean' }],
    [{ type: 'map' as const }, { type: 'object' }],
    [{ type: 'list' as const }, { type: 'array' }],
    [{ type: 'any' as const }, undefined],
    [{}, undefined],
    [{ schema: { type: 'integer', minimum: 1 } }, { type: 'integer', minimum: 1 }],
  ])('maps %j to the JSON Schema %j', (ref, schema) => {
    expect(typeRefToSchema(ref, classes)).toEqual(schema);
  });

  it('maps a collection to an array of its class, the same schema object every time', () => {
    const first = typeRefToSchema({ collection: 'OrderLine' }, classes);
    expect(first).toEqual({ type: 'array', items: classes.OrderLine });
    expect(typeRefToSchema({ collection: 'OrderLine' }, classes)).toBe(first);
  });

  it('gives no schema for a collection of an unknown class', () => {
    expect(typeRefToSchema({ collection: 'Nope' }, classes)).toBeUndefined();
    expect(typeRefToSchema({ collection: 'toString' }, {})).toBeUndefined();
  });
});

describe('bindActionInput', () => {
  it('names a required param that is missing', () => {
    expect(bindIssues(orderAction, {})).toEqual([{ path: 'input.order', message: 'required param "order" is missing' }]);
    expect(bindIssues(orderAction, { order: undefined })).toEqual([
      { path: 'input.order', message: 'required param "order" is missing' },
    ]);
  });

  it('applies defaults to missing params and keeps given values', () => {
    const value = bindValue(orderAction, { order: { id: 'o1' }, priority: 5 });
    expect(value).toEqual({ order: { id: 'o1' }, priority: 5, tags: ['new', { source: 'web' }] });
    expect(value).not.toHaveProperty('note');
  });

  it('deep-copies defaults, so mutating bound input never changes the definition', () => {
    const first = bindValue(orderAction, { order: { id: 'o1' } });
    const tags = first.tags as [string, { source: string }];
    tags.push('mutated');
    tags[1].source = 'mutated';
    const second = bindValue(orderAction, { order: { id: 'o2' } });
    expect(second.tags).toEqual(['new', { source: 'web' }]);
    expect(orderAction.params?.tags?.default).toEqual(['new', { source: 'web' }]);
  });

  it('satisfies a required param that has a default with the default', () => {
    const def = action({ mode: { type: 'text', required: true, default: 'fast' } });
    expect(bindValue(def, undefined)).toEqual({ mode: 'fast' });
  });

  it('names the param, the schema keyword and the bad value on a schema violation', () => {
    const issues = bindIssues(orderAction, { order: { id: 'o1', qty: 'x' } });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('input.order.qty');
    expect(issues[0]?.message).toContain('param "order"');
    expect(issues[0]?.message).toContain('expected number, got "x"');
    expect(issues[0]?.message).toContain('#/properties/qty/type');
  });

  it('checks simple param types', () => {
    const issues = bindIssues(orderAction, { order: { id: 'o1' }, priority: 'high', note: 7 });
    expect(issues.map((i) => i.path)).toEqual(['input.priority', 'input.note']);
    expect(issues[0]?.message).toContain('expected number, got "high"');
    expect(issues[1]?.message).toContain('expected string, got 7');
  });

  it('reports every problem at once', () => {
    const issues = bindIssues(orderAction, { order: { qty: 'x' }, priority: false });
    expect(issues.map((i) => i.path)).toEqual(['input.order', 'input.order.qty', 'input.priority']);
    expect(issues[0]?.message).toContain('missing required property "id"');
  });

  it('validates collection params against their class, item by item', () => {
    const def = action({ lines: { collection: 'OrderLine', required: true } });
    expect(bindValue(def, { lines: [{ id: 'a', qty: 1 }] })).toEqual({ lines: [{ id: 'a', qty: 1 }] });
    const issues = bindIssues(def, { lines: [{ id: 'a' }, { qty: 2 }, { id: 3 }] });
    expect(issues.map((i) => i.path)).toEqual(['input.lines[1]', 'input.lines[2].id']);
    expect(issues[0]?.message).toContain('missing required property "id"');
    expect(issues[1]?.message).toContain('expected string, got 3');
  });

  it('keeps input keys that are not declared params', () => {
    expect(bindValue(orderAction, { order: { id: 'o1' }, extra: { a: 1 } })).toMatchObject({ extra: { a: 1 } });
    const freeForm = action(undefined);
    expect(bindValue(freeForm, { orderDetails: { id: 'x' } })).toEqual({ orderDetails: { id: 'x' } });
  });

  it('treats undefined input as empty and rejects input that is not an object', () => {
    expect(bindValue(action({ n: { type: 'number', default: 2 } }), undefined)).toEqual({ n: 2 });
    for (const input of [null, 'text', 42, ['a']]) {
      const issues = bindIssues(orderAction, input);
      expect(issues).toEqual([{ path: 'input', message: `expected an object, got ${JSON.stringify(input)}` }]);
    }
  });

  it('keeps a "__proto__" key as data without touching prototypes', () => {
    const value = bindValue(action({ n: { type: 'number', default: 1 } }), JSON.parse('{"__proto__": {"polluted": true}}'));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
  });

  it('explains enum, pattern and additionalProperties violations with the bad value', () => {
    const def = action({
      choice: { schema: { enum: ['a', 'b'] } },
      code: { schema: { type: 'string', pattern: '^[A-Z]+$' } },
      strict: { schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } },
    });
    const issues = bindIssues(def, { choice: 'c', code: 'abc', strict: { a: 'x', b: 1 } });
    expect(issues.map((i) => i.path)).toEqual(['input.choice', 'input.code', 'input.strict.b']);
    expect(issues[0]?.message).toContain('expected one of ["a","b"], got "c"');
    expect(issues[1]?.message).toContain('got "abc"');
    expect(issues[2]?.message).toContain('not allowed');
  });

  it('reports an anyOf mismatch once rather than one issue per branch', () => {
    const def = action({ id: { schema: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } });
    const issues = bindIssues(def, { id: true });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toContain('anyOf');
    expect(issues[0]?.message).toContain('got true');
  });
});

describe('validateValue', () => {
  it('accepts valid values and anything for "any" or no type', () => {
    expect(validateValue('x', { type: 'text' })).toEqual([]);
    expect(validateValue({ deep: [1] }, { type: 'any' })).toEqual([]);
    expect(validateValue(undefined, {})).toEqual([]);
    expect(validateValue([{ id: 'a' }], { collection: 'OrderLine' }, classes)).toEqual([]);
  });

  it('puts issues under the given path', () => {
    const issues = validateValue([{ id: 1 }], { collection: 'OrderLine' }, classes, 'outputs.lines');
    expect(issues).toEqual([
      { path: 'outputs.lines[0].id', message: 'expected string, got 1 (schema: #/items/properties/id/type)' },
    ]);
    expect(validateValue('x', { type: 'number' })[0]?.path).toBe('value');
  });

  it('reports a collection of an unknown class', () => {
    expect(validateValue([], { collection: 'Nope' }, classes, 'vars.x')).toEqual([
      { path: 'vars.x', message: 'unknown class "Nope"' },
    ]);
  });

  it('follows local $refs', () => {
    const schema = { type: 'object', properties: { n: { $ref: '#/$defs/count' } }, $defs: { count: { type: 'integer' } } };
    expect(validateValue({ n: 2 }, { schema })).toEqual([]);
    expect(validateValue({ n: 2.5 }, { schema })[0]?.path).toBe('value.n');
  });
});

describe('checkJsonSchema', () => {
  it('accepts an ordinary schema', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: ['object', 'null'],
      properties: { id: { type: 'string', minLength: 1, pattern: '^[a-z]+$' }, tags: { type: 'array', items: true } },
      required: ['id'],
      $defs: { x: { anyOf: [{ type: 'string' }, { const: 1 }] } },
      additionalProperties: { $ref: '#/$defs/x' },
      'x-ui': { hidden: true },
    };
    expect(checkJsonSchema(schema, 'schema')).toEqual([]);
  });

  it('names each malformed keyword and its bad value', () => {
    const issues = checkJsonSchema(
      { type: 'strin', properties: { a: { minLength: -1 } }, required: 'a', pattern: '(', $ref: '#/$defs/none' },
      'classes.X',
    );
    expect(issues.map((i) => i.path)).toEqual([
      'classes.X.type',
      'classes.X.properties.a.minLength',
      'classes.X.required',
      'classes.X.pattern',
      'classes.X.$ref',
    ]);
    expect(issues[0]?.message).toContain('"strin"');
    expect(issues[1]?.message).toContain('-1');
    expect(issues[3]?.message).toContain('"("');
    expect(issues[4]?.message).toContain('"#/$defs/none"');
  });

  it('rejects a schema that is not an object', () => {
    expect(checkJsonSchema('string', 's')).toEqual([{ path: 's', message: 'expected a JSON Schema object, got "string"' }]);
  });
});
