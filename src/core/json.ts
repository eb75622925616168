/**
 * Small JSON helpers shared by the engine and the stores.
 */
import { isSealed } from './sealed-values.js';

/** JSON.stringify with object keys sorted, so equal values give equal strings. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * A deep copy of a JSON-like value. Plain objects and arrays are copied by hand (several times
 * faster than structuredClone for the small records of a run); anything else that is an object
 * (a Date, a Map) goes through structuredClone. A sealed part (seal-json.ts: deeply frozen, so
 * nobody can change it) is shared, not copied: a run's input is copied once, where it enters.
 */
export function cloneJson<T>(value: T): T {
  return copy(value, 0) as T;
}

function copy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || isSealed(value)) return value;
  if (depth > 1000) throw new RangeError('value is nested more than 1000 levels deep');
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i], depth + 1);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    // Like JSON and structuredClone of data: functions are not data; undefined keeps its key.
    if (typeof v === 'function' || typeof v === 'symbol') continue;
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy(v, depth + 1), enumerable: true, writable: true, configurable: true });
    else out[key] = copy(v, depth + 1);
  }
  return out;
}
