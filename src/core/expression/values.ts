/**
 * How expressions see data. Values from the context are data, not objects with behaviour: reads
 * take own data properties only (never the prototype, never a getter), and the keys that lead to
 * prototypes and constructors are refused everywhere, by expressions, JSONPath targets and writes.
 */
import { isLazyMember } from '../sealed-values.js';
import type { Budget } from './budget.js';

const BLOCKED_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** Whether a property name leads to a prototype or a constructor, so no expression or write may use it. */
export function isBlockedKey(key: string): boolean {
  return BLOCKED_KEYS.has(key);
}

/** Whether `target` has an own property `key` (whatever `target` inherits or overrides). */
export function hasOwn(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

/**
 * Reads an own data property: `length` and characters of a string, elements and `length` of an
 * array, fields of an object — a sealed input's member kept as JSON text until read
 * (sealed-text.ts) included. Anything else (inherited members, other getters, properties of
 * numbers or functions) reads as `undefined`.
 */
export function readOwn(target: unknown, key: string): unknown {
  if (typeof target !== 'string' && (typeof target !== 'object' || target === null)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined) return undefined;
  if ('value' in descriptor) return descriptor.value;
  return isLazyMember(descriptor.get) ? descriptor.get!.call(target) : undefined;
}

/** Names the type of a value for an error message: `array`, `null`, `object`, `string`… */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

/**
 * Structural equality of data, the meaning of `is`: same primitive (NaN is NaN), or arrays of
 * equal elements, or objects with the same own keys and equal values.
 */
export function deepEqual(a: unknown, b: unknown, budget: Budget, depth = 1): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  // Cyclic data (the `$` root refers to itself) ends here instead of in a stack overflow.
  budget.checkDepth(depth);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => deepEqual(item, b[index], budget, depth + 1));
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => hasOwn(b, key) && deepEqual(readOwn(a, key), readOwn(b, key), budget, depth + 1));
}

/**
 * Converts a value to text the way JavaScript's `String()` does for data (`[1, 2]` → `"1,2"`,
 * `{}` → `"[object Object]"`), within the string and depth limits.
 */
export function toText(value: unknown, budget: Budget, depth = 1): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return joinText(value, ',', budget, depth);
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  // String(fn) would print the function's source; a function in the scope is opaque.
  if (typeof value === 'function') return '[function]';
  return String(value);
}

/** `Array.prototype.join` for data, within the string and depth limits (`null`/`undefined` become ""). */
export function joinText(items: readonly unknown[], separator: string, budget: Budget, depth = 1): string {
  budget.checkDepth(depth);
  const parts: string[] = [];
  let length = 0;
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const part = item === null || item === undefined ? '' : toText(item, budget, depth + 1);
    length += part.length + (index > 0 ? separator.length : 0);
    budget.checkString(length);
    parts.push(part);
  }
  return parts.join(separator);
}
