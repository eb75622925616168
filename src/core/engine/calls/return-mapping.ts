/**
 * Return mapping of synchronous calls (seed 000): each returned output of the callee lands on a
 * target in the caller, replacing it, or merged into a collection (append; an element whose `id`
 * is already there replaces it). Properties the target's type does not declare are dropped.
 */
import type { JsonSchema, ReturnMapping, TypeRef } from '../../model.js';
import { cloneJson } from '../../json.js';
import { parseContextTarget } from '../../mapping.js';
import { typeRefToSchema } from '../../params.js';
import { FlowError } from '../../errors.js';

/** The caller's writable context. */
export interface ReturnTargets {
  vars: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** The caller's declarations, which say what a target keeps of a returned value. */
export interface ReturnTargetTypes {
  vars?: Record<string, TypeRef> | undefined;
  outputs?: Record<string, TypeRef> | undefined;
  classes?: Record<string, JsonSchema> | undefined;
}

/**
 * Applies every mapping; returns the names of the caller's outputs that changed. With `types`,
 * a value written to a declared var or output (a whole one: `$.vars.lines`) keeps only the
 * properties its type declares, at every level the schema describes.
 */
export function applyReturnMappings(mappings: ReturnMapping[], calleeOutput: unknown, targets: ReturnTargets, types?: ReturnTargetTypes): { outputs: string[] } {
  const changed: string[] = [];
  const returned = (calleeOutput ?? {}) as Record<string, unknown>;
  for (const mapping of mappings) {
    const target = parseContextTarget(mapping.target);
    if (typeof target === 'string') throw new FlowError('INVALID_DEFINITION', `return mapping target "${mapping.target}": ${target}`);
    // Copied once, at the write below: nothing on the way mutates it.
    let value = Object.prototype.hasOwnProperty.call(returned, mapping.output) ? returned[mapping.output] : undefined;
    const declared = target.path.length === 1 ? declarationOf(types?.[target.root], target.path[0]!) : undefined;
    const schema = declared ? typeRefToSchema(declared, types?.classes) : undefined;
    if (schema) value = dropUndeclared(value, schema);
    const next = mapping.mode === 'merge' ? mergeById(readTarget(targets, target.root, target.path), value) : value;
    setAt(targets[target.root], target.path, cloneJson(next));
    if (target.root === 'outputs' && target.path[0]) changed.push(target.path[0]);
  }
  return { outputs: changed };
}

/**
 * A copy of `value` without the object properties `schema` does not declare: where a schema
 * lists `properties` (and allows no others through `additionalProperties` or
 * `patternProperties`), other keys go; lists follow `items`. Values the schema does not
 * describe are kept as they are.
 */
export function dropUndeclared(value: unknown, schema: JsonSchema): unknown {
  if (Array.isArray(value)) {
    const items = schema.items;
    return isObject(items) ? value.map((el) => dropUndeclared(el, items)) : value;
  }
  if (!isObject(value)) return value;
  const properties = schema.properties;
  if (!isObject(properties)) return value;
  const open = schema.patternProperties !== undefined || (schema.additionalProperties !== undefined && schema.additionalProperties !== false);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (sub === undefined && !open) continue;
    Object.defineProperty(out, key, { value: isObject(sub) ? dropUndeclared(v, sub) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Appends `incoming` to `existing`; an element whose `id` is already present replaces that element. */
export function mergeById(existing: unknown, incoming: unknown): unknown[] {
  const result = Array.isArray(existing) ? [...existing] : [];
  const list = Array.isArray(incoming) ? incoming : incoming === undefined || incoming === null ? [] : [incoming];
  const indexById = new Map<unknown, number>();
  result.forEach((el, i) => {
    const id = idOf(el);
    if (id !== undefined) indexById.set(id, i);
  });
  for (const el of list) {
    const id = idOf(el);
    const at = id === undefined ? undefined : indexById.get(id);
    if (at === undefined) {
      if (id !== undefined) indexById.set(id, result.length);
      result.push(el);
    } else {
      result[at] = el;
    }
  }
  return result;
}

/**
 * Sets `path` below `root`, replacing a missing or non-object value on the way with `{}`, like a
 * context write. `parseContextTarget` rejected prototype keys, so this only sets own data properties.
 */
function setAt(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    let next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next !== 'object' || next === null) {
      next = {};
      node[key] = next;
    }
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function declarationOf(declared: Record<string, TypeRef> | undefined, name: string): TypeRef | undefined {
  return declared && Object.hasOwn(declared, name) ? declared[name] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function idOf(value: unknown): unknown {
  return value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'id') ? (value as { id: unknown }).id : undefined;
}

function readTarget(targets: ReturnTargets, root: 'vars' | 'outputs', path: string[]): unknown {
  let node: unknown = targets[root];
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
