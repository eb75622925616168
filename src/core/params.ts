/**
 * Types of params, vars and outputs as JSON Schemas, and the binding of an action's input to its
 * params (DESIGN.md §3 "Input mapping"): required params must have a value, optional ones take
 * their default, every value is validated against its schema. Validation uses
 * `@cfworker/json-schema`, which interprets schemas without `eval` or generated code.
 */
import { Validator, type OutputUnit, type Schema, type SchemaDraft } from '@cfworker/json-schema';
import { pointerSegments } from './validation/check-json-schema.js';
import { describeValue, joinPath } from './describe-value.js';
import type { ValidationIssue } from './errors.js';
import { cloneJson } from './json.js';
import { MAX_WALKED_DEPTH } from './json-depth.js';
import { isSealed } from './sealed-values.js';
import type { ActionDefinition, JsonSchema, TypeRef } from './model.js';
import { issueOf, msg, renderMessage, type IssueMessage, type ValidationMessageKey } from './validation/messages.js';

// Part of this module's API before they moved to their own files; imports from here keep working.
export { checkJsonSchema } from './validation/check-json-schema.js';
export { describeValue, joinPath } from './describe-value.js';

const SIMPLE_TYPE_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  text: { type: 'string' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  map: { type: 'object' },
  list: { type: 'array' },
};

/** `{type: 'array', items: classSchema}` per class schema object, so the validator cache below hits. */
const collectionSchemas = new WeakMap<JsonSchema, JsonSchema>();
const validators = new WeakMap<JsonSchema, Validator>();

/**
 * The JSON Schema of a type ref: `text` → `{type: 'string'}`, `number`, `boolean`, `map` → object,
 * `list` → array, `any` (or nothing) → `undefined` (every value is valid); `collection` → an array
 * of the class's schema; `schema` → that schema.
 *
 * Returns `undefined` too for a collection whose class is not in `classes`; {@link validateValue}
 * reports that case as an issue. The same class schema always gives the same collection schema
 * object, so compiled validators are reused.
 */
export function typeRefToSchema(ref: TypeRef, classes?: Record<string, JsonSchema>): JsonSchema | undefined {
  if (ref.schema !== undefined) return ref.schema;
  if (ref.collection !== undefined) {
    const classSchema = classes && Object.hasOwn(classes, ref.collection) ? classes[ref.collection] : undefined;
    if (!classSchema) return undefined;
    let schema = collectionSchemas.get(classSchema);
    if (!schema) {
      schema = { type: 'array', items: classSchema };
      collectionSchemas.set(classSchema, schema);
    }
    return schema;
  }
  if (ref.type !== undefined && Object.hasOwn(SIMPLE_TYPE_SCHEMAS, ref.type)) return SIMPLE_TYPE_SCHEMAS[ref.type];
  return undefined;
}

/**
 * Checks `value` against a param, var or output type and returns every problem, each with a path
 * below `path` (`value.lines[0].id`) and a message naming the expectation, the bad value and the
 * schema keyword (`expected number, got "x" (schema: #/properties/qty/type)`). An empty list means valid.
 */
export function validateValue(
  value: unknown,
  ref: TypeRef,
  classes?: Record<string, JsonSchema>,
  path = 'value',
): ValidationIssue[] {
  return checkValue(value, ref, classes, path, '');
}

/**
 * Binds an action's input to its params: returns the params' values, or every problem at once.
 *
 * - `input` must be an object; `undefined` counts as `{}`.
 * - A param that is missing (or `undefined`) takes a deep copy of its `default`, so a run that
 *   mutates its input never changes the definition. Without a default, a `required` param is an
 *   issue (`required param "order" is missing`) and an optional one stays absent. A required param
 *   that has a default is satisfied by the default.
 * - A present value is validated against the param's type; issues sit under `input.<name>`.
 * - Input keys that are not declared params are kept as they are, whether or not the action
 *   declares params (free-form input such as seed 004's `initialContextData` keeps working);
 *   strictness comes from the params' schemas.
 */
export function bindActionInput(
  action: ActionDefinition,
  input: unknown,
  classes?: Record<string, JsonSchema>,
): { ok: true; value: Record<string, unknown> } | { ok: false; issues: ValidationIssue[] } {
  if (input !== undefined && !isPlainObject(input)) {
    return { ok: false, issues: [{ path: 'input', message: `expected an object, got ${describeValue(input)}` }] };
  }
  const value: Record<string, unknown> = { ...(input ?? {}) };
  const issues: ValidationIssue[] = [];
  for (const [name, param] of Object.entries(action.params ?? {})) {
    const path = joinPath('input', name);
    const given = Object.hasOwn(value, name) ? value[name] : undefined;
    if (given === undefined) {
      if (param.default !== undefined) setOwn(value, name, cloneJson(param.default));
      else if (param.required) issues.push({ path, message: `required param "${name}" is missing` });
      else delete value[name];
      continue;
    }
    issues.push(...checkValue(given, param, classes, path, `param "${name}": `));
    setOwn(value, name, withoutUndefined(given, [], []));
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}

function checkValue(
  value: unknown,
  ref: TypeRef,
  classes: Record<string, JsonSchema> | undefined,
  path: string,
  prefix: string,
): ValidationIssue[] {
  if (ref.schema === undefined && ref.collection !== undefined && !(classes && Object.hasOwn(classes, ref.collection))) {
    return [{ path, message: `${prefix}unknown class "${ref.collection}"` }];
  }
  const schema = typeRefToSchema(ref, classes);
  if (schema === undefined) return [];
  // A property bound from a source that had no value is `undefined`: absent, as in JSON, and named
  // when that makes the value invalid (the validator itself cannot apply a schema to `undefined`).
  const missing: string[][] = [];
  value = withoutUndefined(value, [], missing);
  let result: { valid: boolean; errors: OutputUnit[] };
  try {
    result = validatorFor(schema).validate(value);
  } catch (error) {
    // An unresolvable $ref or a bad pattern only shows up while validating.
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return [{ path, message: `${prefix}the schema cannot be applied: ${reason}` }];
  }
  if (result.valid) return [];
  const unbound = missing.map((keys) => ({
    path: keys.reduce((at, key) => joinPath(at, key), path),
    message: `${prefix}property "${keys.join('.')}" has no value: what was bound to it is missing (undefined)`,
  }));
  // The validator's "required property" for a property named above would say it twice.
  const saidAbove = (unit: OutputUnit): boolean => unit.keyword === 'required' && missing.some((keys) => unit.error.includes(`"${keys[keys.length - 1]}"`));
  return [...unbound, ...leafErrors(result.errors).filter((unit) => !saidAbove(unit)).map((unit) => {
    // A `false` subschema's location names the instance, not the schema; it would mislead.
    const where = unit.keyword === 'false' ? '' : msg('schemaAt', { pointer: decodePointer(unit.keywordLocation) });
    const explained = explain(unit, valueAt(value, unit.instanceLocation), schema, where);
    return issueOf(appendPointer(path, value, unit.instanceLocation), prefix === '' ? explained : `${prefix}${renderMessage(explained)}`);
  })];
}

/**
 * `value` without its `undefined` properties (and array items as `null`, as JSON has them); `missing`
 * gets the key path of each. `at` is the path walked so far (pushed and popped, not copied). Only
 * the objects and arrays on the way to an `undefined` are rebuilt: a value that holds none is
 * returned as it is, after a walk that allocates nothing — and a sealed one (seal-json.ts), which
 * cannot hold any, without a walk.
 */
function withoutUndefined(value: unknown, at: string[], missing: string[][]): unknown {
  if (typeof value !== 'object' || value === null || at.length > MAX_WALKED_DEPTH || isSealed(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      let cleaned: unknown;
      if (item === undefined) {
        missing.push([...at, String(i)]);
        cleaned = null;
      } else if (typeof item === 'object' && item !== null) {
        at.push(String(i));
        cleaned = withoutUndefined(item, at, missing);
        at.pop();
      } else continue;
      if (cleaned !== item) {
        out ??= value.slice();
        out[i] = cleaned;
      }
    }
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  let out: Record<string, unknown> | null = null;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const item = value[key];
    let cleaned: unknown = item;
    if (item === undefined) missing.push([...at, key]);
    else if (typeof item === 'object' && item !== null) {
      at.push(key);
      cleaned = withoutUndefined(item, at, missing);
      at.pop();
    }
    if (out === null && (item === undefined || cleaned !== item)) {
      // The first change: the keys before it are copied as they are, the rest as they are cleaned.
      out = {};
      for (let j = 0; j < k; j++) setOwn(out, keys[j]!, value[keys[j]!]);
    }
    if (out !== null && cleaned !== undefined) setOwn(out, key, cleaned);
  }
  return out ?? value;
}

function validatorFor(schema: JsonSchema): Validator {
  let validator = validators.get(schema);
  if (!validator) {
    validator = new Validator(schema as Schema, draftOf(schema), false);
    validators.set(schema, validator);
  }
  return validator;
}

function draftOf(schema: JsonSchema): SchemaDraft {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (declared.includes('draft-04')) return '4';
  if (declared.includes('draft-07') || declared.includes('draft-06')) return '7';
  if (declared.includes('2019-09')) return '2019-09';
  return '2020-12';
}

/** Keywords whose error only says "a subschema failed"; the subschema's own errors say why. */
const WRAPPER_KEYWORDS = new Set([
  'properties', 'patternProperties', 'additionalProperties', 'unevaluatedProperties', 'items', 'prefixItems',
  'additionalItems', 'unevaluatedItems', '$ref', '$recursiveRef', '$dynamicRef', 'allOf', 'dependentSchemas',
  'dependencies', 'if', 'then', 'else', 'propertyNames',
]);
/** Keywords where the branches' errors would mislead: keep the keyword's error, drop its branches'. */
const ALTERNATIVE_KEYWORDS = new Set(['anyOf', 'oneOf', 'not', 'contains']);

function leafErrors(errors: OutputUnit[]): OutputUnit[] {
  const hidden = errors
    .filter((unit) => ALTERNATIVE_KEYWORDS.has(unit.keyword))
    .map((unit) => `${unit.keywordLocation}/`);
  const seen = new Set<string>();
  return errors.filter((unit) => {
    if (WRAPPER_KEYWORDS.has(unit.keyword)) return false;
    if (hidden.some((prefix) => unit.keywordLocation.startsWith(prefix))) return false;
    const key = `${unit.instanceLocation} ${unit.keywordLocation}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The names of JSON types, as keyed parts of a message. */
const JSON_TYPE_KEYS: Readonly<Record<string, ValidationMessageKey>> = {
  string: 'typeString', number: 'typeNumber', integer: 'typeInteger', boolean: 'typeBoolean', object: 'typeObject', array: 'typeArray', null: 'typeNull',
};

/** What a schema keyword's failure means, `where` (the keyword's location) after it; keyed where a `.flow` program can meet it. */
function explain(unit: OutputUnit, value: unknown, schema: JsonSchema, where: IssueMessage): IssueMessage {
  const got = describeValue(value);
  if (unit.keyword === 'type' && typeof keywordValue(schema, unit.keywordLocation) === 'string') {
    const type = keywordValue(schema, unit.keywordLocation) as string;
    if (Object.hasOwn(JSON_TYPE_KEYS, type)) return msg('valueExpectedType', { types: msg(JSON_TYPE_KEYS[type]!), value: got, schema: where });
  }
  if (unit.keyword === 'required') {
    const property = /property "(.*)"/.exec(unit.error)?.[1];
    if (property !== undefined) return msg('valueMissingProperty', { property, schema: where });
  }
  return `${explainText(unit, value, schema)}${renderMessage(where)}`;
}

function explainText(unit: OutputUnit, value: unknown, schema: JsonSchema): string {
  const got = describeValue(value);
  const rule = keywordValue(schema, unit.keywordLocation);
  const shown = describeValue(rule);
  switch (unit.keyword) {
    case 'type': {
      const types = Array.isArray(rule) ? rule.join(' or ') : typeof rule === 'string' ? rule : 'another type';
      return `expected ${types}, got ${got}`;
    }
    case 'required': {
      const property = /property "(.*)"/.exec(unit.error)?.[1];
      return property === undefined ? unit.error : `missing required property "${property}"`;
    }
    case 'enum':
      return `expected one of ${shown}, got ${got}`;
    case 'const':
      return `expected ${shown}, got ${got}`;
    case 'pattern':
      return `expected a string matching /${String(rule)}/, got ${got}`;
    case 'format':
      return `expected a string in format ${shown}, got ${got}`;
    case 'minimum':
      return `expected a number ≥ ${shown}, got ${got}`;
    case 'maximum':
      return `expected a number ≤ ${shown}, got ${got}`;
    case 'exclusiveMinimum':
      return `expected a number > ${shown}, got ${got}`;
    case 'exclusiveMaximum':
      return `expected a number < ${shown}, got ${got}`;
    case 'multipleOf':
      return `expected a multiple of ${shown}, got ${got}`;
    case 'minLength':
    case 'maxLength':
      return `expected a string of ${unit.keyword === 'minLength' ? 'at least' : 'at most'} ${shown} characters, got ${got}`;
    case 'minItems':
    case 'maxItems':
      return `expected ${unit.keyword === 'minItems' ? 'at least' : 'at most'} ${shown} items, got ${got}`;
    case 'false': {
      const name = pointerSegments(unit.instanceLocation).at(-1);
      return `${name === undefined ? 'a value' : `"${name}"`} is not allowed here, got ${got}`;
    }
    case 'anyOf':
    case 'oneOf':
      return `expected a value matching ${unit.keyword === 'anyOf' ? 'at least one' : 'exactly one'} of the ${unit.keyword} schemas, got ${got}`;
    default:
      return `${unit.error.replace(/\.$/, '').replace(/^Instance /, 'value ')}, got ${got}`;
  }
}

/** The value of the keyword at `location`, following local `$ref`s on the way. */
function keywordValue(schema: JsonSchema, location: string): unknown {
  let current: unknown = schema;
  for (const segment of pointerSegments(location)) {
    if (current === null || typeof current !== 'object') return undefined;
    const node = current as Record<string, unknown>;
    if (segment === '$ref' && typeof node.$ref === 'string' && node.$ref.startsWith('#')) {
      current = keywordValue(schema, node.$ref);
      continue;
    }
    if (!Object.hasOwn(node, segment)) return undefined;
    current = node[segment];
  }
  return current;
}

function decodePointer(pointer: string): string {
  const segments = pointerSegments(pointer);
  return segments.length === 0 ? '#' : `#/${segments.join('/')}`;
}

function valueAt(root: unknown, pointer: string): unknown {
  let current: unknown = root;
  for (const segment of pointerSegments(pointer)) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function appendPointer(path: string, root: unknown, pointer: string): string {
  let current: unknown = root;
  let out = path;
  for (const segment of pointerSegments(pointer)) {
    out = Array.isArray(current) && /^\d+$/.test(segment) ? `${out}[${segment}]` : joinPath(out, segment);
    current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[segment] : undefined;
  }
  return out;
}

/** Defines an own property, so a key such as `__proto__` is data and never a prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
