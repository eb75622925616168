/**
 * Shape checks for the JSON Schemas a flow definition declares (classes, `schema` types). The
 * validator trusts its schema, so a definition's schemas pass these checks before any value is
 * validated against them.
 */
import { describeValue, joinPath } from '../describe-value.js';
import type { ValidationIssue } from '../errors.js';

/**
 * Checks that `schema` is a usable JSON Schema object and returns every problem, with paths below
 * `path` (`classes.OrderLine.properties.qty.type`): keyword types (`type` names JSON types,
 * `required` is a list of strings, `pattern` compiles, …) and local `$ref`s that resolve.
 * Unknown keywords are allowed (they are annotations in JSON Schema).
 */
export function checkJsonSchema(schema: unknown, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!isPlainObject(schema)) {
    issues.push({ path, message: `expected a JSON Schema object, got ${describeValue(schema)}` });
    return issues;
  }
  const anchors = new Set<string>();
  const refs: { ref: string; path: string }[] = [];
  walkSchema(schema, path, { issues, anchors, refs });
  for (const { ref, path: refPath } of refs) {
    if (!resolvesLocally(schema, ref, anchors)) {
      issues.push({ path: refPath, message: `$ref "${ref}" does not resolve inside this schema; only local refs ("#/$defs/…") are supported` });
    }
  }
  return issues;
}

const INSTANCE_TYPES = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];
const SUBSCHEMA_KEYWORDS = [
  'not', 'if', 'then', 'else', 'additionalProperties', 'unevaluatedProperties', 'propertyNames', 'contains',
  'additionalItems', 'unevaluatedItems',
];
const SUBSCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SUBSCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const COUNT_KEYWORDS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'];
const STRING_KEYWORDS = ['$id', '$schema', '$anchor', '$comment', 'title', 'description', 'format', '$ref'];

interface SchemaWalk {
  issues: ValidationIssue[];
  anchors: Set<string>;
  refs: { ref: string; path: string }[];
}

function walkSchema(schema: unknown, path: string, walk: SchemaWalk): void {
  if (typeof schema === 'boolean') return;
  if (!isPlainObject(schema)) {
    walk.issues.push({ path, message: `expected a schema (an object or a boolean), got ${describeValue(schema)}` });
    return;
  }
  const issue = (key: string, message: string): void => {
    walk.issues.push({ path: joinPath(path, key), message });
  };
  for (const key of Object.keys(schema)) {
    const value = schema[key];
    if (key === 'type') {
      const types = Array.isArray(value) ? value : [value];
      const bad = types.filter((t) => typeof t !== 'string' || !INSTANCE_TYPES.includes(t));
      if (types.length === 0 || bad.length > 0) {
        issue(key, `unknown JSON type ${describeValue(bad[0] ?? value)}; known types: ${INSTANCE_TYPES.join(', ')}`);
      }
    } else if (key === 'items') {
      if (Array.isArray(value)) value.forEach((item, i) => walkSchema(item, `${joinPath(path, key)}[${i}]`, walk));
      else walkSchema(value, joinPath(path, key), walk);
    } else if (SUBSCHEMA_KEYWORDS.includes(key)) {
      walkSchema(value, joinPath(path, key), walk);
    } else if (SUBSCHEMA_MAP_KEYWORDS.includes(key)) {
      if (!isPlainObject(value)) {
        issue(key, `expected an object of schemas, got ${describeValue(value)}`);
        continue;
      }
      for (const [name, sub] of Object.entries(value)) {
        if (key === 'patternProperties' && !compiles(name)) {
          issue(key, `invalid regular expression ${describeValue(name)}`);
        }
        walkSchema(sub, joinPath(joinPath(path, key), name), walk);
      }
    } else if (SUBSCHEMA_LIST_KEYWORDS.includes(key)) {
      if (!Array.isArray(value) || (value.length === 0 && key !== 'prefixItems')) {
        issue(key, `expected a non-empty list of schemas, got ${describeValue(value)}`);
        continue;
      }
      value.forEach((sub, i) => walkSchema(sub, `${joinPath(path, key)}[${i}]`, walk));
    } else if (key === 'required') {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        issue(key, `expected a list of property names, got ${describeValue(value)}`);
      }
    } else if (key === 'enum') {
      if (!Array.isArray(value)) issue(key, `expected a list of values, got ${describeValue(value)}`);
    } else if (COUNT_KEYWORDS.includes(key)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        issue(key, `expected a non-negative integer, got ${describeValue(value)}`);
      }
    } else if (key === 'minimum' || key === 'maximum') {
      if (typeof value !== 'number') issue(key, `expected a number, got ${describeValue(value)}`);
    } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      if (typeof value !== 'number' && typeof value !== 'boolean') issue(key, `expected a number, got ${describeValue(value)}`);
    } else if (key === 'multipleOf') {
      if (typeof value !== 'number' || !(value > 0)) issue(key, `expected a number greater than 0, got ${describeValue(value)}`);
    } else if (key === 'uniqueItems') {
      if (typeof value !== 'boolean') issue(key, `expected a boolean, got ${describeValue(value)}`);
    } else if (key === 'pattern') {
      if (typeof value !== 'string' || !compiles(value)) issue(key, `invalid regular expression ${describeValue(value)}`);
    } else if (key === 'dependentRequired') {
      const valid = isPlainObject(value) && Object.values(value).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'));
      if (!valid) issue(key, `expected an object of property-name lists, got ${describeValue(value)}`);
    } else if (STRING_KEYWORDS.includes(key)) {
      if (typeof value !== 'string') issue(key, `expected a string, got ${describeValue(value)}`);
      else if (key === '$ref') walk.refs.push({ ref: value, path: joinPath(path, key) });
      else if (key === '$anchor') walk.anchors.add(value);
    }
  }
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

function resolvesLocally(root: Record<string, unknown>, ref: string, anchors: Set<string>): boolean {
  if (ref === '#') return true;
  if (!ref.startsWith('#')) return false;
  if (!ref.startsWith('#/')) return anchors.has(ref.slice(1));
  let current: unknown = root;
  for (const segment of pointerSegments(ref)) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return false;
    current = (current as Record<string, unknown>)[segment];
  }
  return typeof current === 'boolean' || isPlainObject(current);
}

/** Splits a JSON pointer (`#/properties/a~1b`, URI-encoded or not) into its decoded segments. */
export function pointerSegments(pointer: string): string[] {
  const body = pointer.replace(/^#/, '');
  if (body === '') return [];
  return body
    .slice(1)
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // keep the raw segment
      }
      return decoded.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
