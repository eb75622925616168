/**
 * Return mapping of synchronous calls (seed 000): each returned output of the callee lands on a
 * target in the caller, replacing it, or merged into a collection (append; an element whose `id`
 * is already there replaces it).
 */
import type { ReturnMapping } from '../model.js';
import { cloneJson } from '../json.js';
import { parseContextTarget, writeContextTarget } from '../mapping.js';
import { FlowError } from '../errors.js';

/** The caller's writable context. */
export interface ReturnTargets {
  vars: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** Applies every mapping; returns the names of the caller's outputs that changed. */
export function applyReturnMappings(mappings: ReturnMapping[], calleeOutput: unknown, targets: ReturnTargets): { outputs: string[] } {
  const changed: string[] = [];
  const returned = (calleeOutput ?? {}) as Record<string, unknown>;
  for (const mapping of mappings) {
    const target = parseContextTarget(mapping.target);
    if (typeof target === 'string') throw new FlowError('INVALID_DEFINITION', `return mapping target "${mapping.target}": ${target}`);
    const value = cloneJson(Object.prototype.hasOwnProperty.call(returned, mapping.output) ? returned[mapping.output] : undefined);
    const next = mapping.mode === 'merge' ? mergeById(readTarget(targets, target.root, target.path), value) : value;
    writeContextTarget({ input: null, steps: {}, vars: targets.vars, outputs: targets.outputs }, mapping.target, next);
    if (target.root === 'outputs' && target.path[0]) changed.push(target.path[0]);
  }
  return { outputs: changed };
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
