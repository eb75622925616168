/**
 * The only functions and methods an expression may call. Functions are resolved by name when the
 * expression is compiled (`JSON.stringify`, `len`); methods by name at compile time and by the
 * receiver's type at run time (`"a".toUpperCase()`, `[1].join("-")`). Every result is checked
 * against the size limits, and anything a native function throws becomes an `INVALID_EXPRESSION`.
 */
import { FlowError } from '../errors.js';
import type { Budget } from './budget.js';
import { jsonSize } from '../json-size.js';
import { describeType, joinText, toText } from './values.js';

interface Callable<R> {
  readonly minArgs: number;
  readonly maxArgs: number;
  call(receiver: R, args: readonly unknown[], budget: Budget): unknown;
}

/** A function an expression may call: `String(x)`, `JSON.parse(text)`, `Math.max(a, b)`… */
export type Builtin = Callable<undefined>;

/** The namespaces whose members are functions: `JSON.stringify`, `Math.min`, `Object.keys`. */
export const NAMESPACES: ReadonlySet<string> = new Set(['JSON', 'Math', 'Object']);

function text(args: readonly unknown[], index: number, name: string, budget: Budget): string {
  const value = args[index];
  if (typeof value !== 'string') throw budget.fail(`${name}() expects a string as argument ${index + 1}, got ${describeType(value)}`);
  return value;
}

function optionalText(args: readonly unknown[], index: number, name: string, budget: Budget): string | undefined {
  return args[index] === undefined ? undefined : text(args, index, name, budget);
}

function optionalNumber(args: readonly unknown[], index: number, name: string, budget: Budget): number | undefined {
  const value = args[index];
  if (value !== undefined && typeof value !== 'number') {
    throw budget.fail(`${name}() expects a number as argument ${index + 1}, got ${describeType(value)}`);
  }
  return value;
}

/** `Number(x)` for primitives; arrays and objects are refused rather than silently coerced. */
export function toNumber(value: unknown, what: string, budget: Budget): number {
  if (typeof value === 'object' && value !== null) throw budget.fail(`${what} expects a number, got ${describeType(value)}`);
  if (typeof value === 'function' || typeof value === 'symbol') throw budget.fail(`${what} expects a number, got ${describeType(value)}`);
  return Number(value);
}

function fn(minArgs: number, maxArgs: number, call: (args: readonly unknown[], budget: Budget) => unknown): Builtin {
  return { minArgs, maxArgs, call: (_receiver, args, budget) => call(args, budget) };
}

function math(name: string, op: (x: number) => number): [string, Builtin] {
  return [`Math.${name}`, fn(1, 1, (args, budget) => op(toNumber(args[0], `Math.${name}()`, budget)))];
}

/** The functions, by the name an expression calls them with. */
export const FUNCTIONS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['String', fn(0, 1, (args, budget) => (args.length === 0 ? '' : toText(args[0], budget)))],
  ['Number', fn(0, 1, (args, budget) => (args.length === 0 ? 0 : toNumber(args[0], 'Number()', budget)))],
  ['Boolean', fn(0, 1, (args) => Boolean(args[0]))],
  [
    'len',
    fn(1, 1, ([value], budget) => {
      if (typeof value === 'string' || Array.isArray(value)) return value.length;
      if (value === null || value === undefined) return 0;
      if (typeof value === 'object') return Object.keys(value).length;
      throw budget.fail(`len() expects a string, an array or an object, got ${describeType(value)}`);
    }),
  ],
  [
    'JSON.stringify',
    fn(1, 3, ([value, replacer, space], budget) => {
      if (replacer !== undefined && replacer !== null && !Array.isArray(replacer)) {
        throw budget.fail('JSON.stringify() takes null or an array of keys as its second argument');
      }
      if (space !== undefined && typeof space !== 'number' && typeof space !== 'string') {
        throw budget.fail('JSON.stringify() takes a number or a string as its third argument');
      }
      // Measured before building: a value holding one array many times over is small in memory
      // and enormous as text.
      const size = jsonSize(value, budget.maxStringLength);
      if (size > budget.maxStringLength) budget.checkString(size);
      return JSON.stringify(value, replacer as (string | number)[] | null | undefined, space);
    }),
  ],
  // JSON.parse makes `__proto__` an own data property, never the prototype, so parsed text cannot pollute.
  ['JSON.parse', fn(1, 1, (args, budget) => JSON.parse(text(args, 0, 'JSON.parse', budget)) as unknown)],
  ['Math.min', fn(0, Infinity, (args, budget) => Math.min(...args.map((arg) => toNumber(arg, 'Math.min()', budget))))],
  ['Math.max', fn(0, Infinity, (args, budget) => Math.max(...args.map((arg) => toNumber(arg, 'Math.max()', budget))))],
  math('round', Math.round),
  math('floor', Math.floor),
  math('ceil', Math.ceil),
  math('abs', Math.abs),
  ['Object.keys', fn(1, 1, ([value]) => (value === null || value === undefined ? [] : Object.keys(value)))],
  ['Object.values', fn(1, 1, ([value]) => (value === null || value === undefined ? [] : Object.values(value as object)))],
]);

function method<R>(minArgs: number, maxArgs: number, call: Callable<R>['call']): Callable<R> {
  return { minArgs, maxArgs, call };
}

const STRING_METHODS: ReadonlyMap<string, Callable<string>> = new Map<string, Callable<string>>([
  ['toUpperCase', method(0, 0, (s) => s.toUpperCase())],
  ['toLowerCase', method(0, 0, (s) => s.toLowerCase())],
  ['trim', method(0, 0, (s) => s.trim())],
  ['includes', method(1, 2, (s, args, b) => s.includes(text(args, 0, 'includes', b), optionalNumber(args, 1, 'includes', b)))],
  ['startsWith', method(1, 2, (s, args, b) => s.startsWith(text(args, 0, 'startsWith', b), optionalNumber(args, 1, 'startsWith', b)))],
  ['endsWith', method(1, 2, (s, args, b) => s.endsWith(text(args, 0, 'endsWith', b), optionalNumber(args, 1, 'endsWith', b)))],
  ['indexOf', method(1, 2, (s, args, b) => s.indexOf(text(args, 0, 'indexOf', b), optionalNumber(args, 1, 'indexOf', b)))],
  ['slice', method(0, 2, (s, args, b) => s.slice(optionalNumber(args, 0, 'slice', b), optionalNumber(args, 1, 'slice', b)))],
  [
    'split',
    method(0, 2, (s, args, b) => {
      const separator = optionalText(args, 0, 'split', b);
      const limit = optionalNumber(args, 1, 'split', b) ?? Infinity;
      // Asking for one element more than allowed lets the size check see an overflow without building it all.
      return separator === undefined ? [s] : s.split(separator, Math.min(limit, b.maxArrayLength + 1));
    }),
  ],
  [
    'replace',
    method(2, 2, (s, args, b) => {
      const replacement = text(args, 1, 'replace', b);
      // A function replacement is taken literally: `$&` patterns could multiply the match's length.
      return s.replace(text(args, 0, 'replace', b), () => replacement);
    }),
  ],
  [
    'repeat',
    method(1, 1, (s, args, b) => {
      const count = optionalNumber(args, 0, 'repeat', b) ?? 0;
      // Checked before building: "x".repeat(1e9) must fail at once, not after allocating it.
      if (count > 0) b.checkString(s.length * Math.floor(count));
      return s.repeat(count);
    }),
  ],
]);

const ARRAY_METHODS: ReadonlyMap<string, Callable<readonly unknown[]>> = new Map<string, Callable<readonly unknown[]>>([
  ['includes', method(1, 2, (a, args, b) => a.includes(args[0], optionalNumber(args, 1, 'includes', b)))],
  ['indexOf', method(1, 2, (a, args, b) => a.indexOf(args[0], optionalNumber(args, 1, 'indexOf', b)))],
  ['join', method(0, 1, (a, args, b) => joinText(a, optionalText(args, 0, 'join', b) ?? ',', b))],
  ['slice', method(0, 2, (a, args, b) => a.slice(optionalNumber(args, 0, 'slice', b), optionalNumber(args, 1, 'slice', b)))],
  [
    'concat',
    method(0, Infinity, (a, args, b) => {
      const length = args.reduce<number>((sum, arg) => sum + (Array.isArray(arg) ? arg.length : 1), a.length);
      b.checkArray(length);
      return a.concat(...args);
    }),
  ],
]);

/** Every method name an expression may call on some value; anything else is refused at compile time. */
export const METHOD_NAMES: ReadonlySet<string> = new Set([...STRING_METHODS.keys(), ...ARRAY_METHODS.keys()]);

function invoke<R>(callable: Callable<R>, receiver: R, name: string, args: readonly unknown[], budget: Budget): unknown {
  if (args.length < callable.minArgs || args.length > callable.maxArgs) {
    const expected = callable.minArgs === callable.maxArgs ? `${callable.minArgs}` : `${callable.minArgs} to ${callable.maxArgs}`;
    throw budget.fail(`${name}() takes ${expected} arguments, got ${args.length}`);
  }
  let result: unknown;
  try {
    result = callable.call(receiver, args, budget);
  } catch (error) {
    if (error instanceof FlowError) throw error;
    throw budget.fail(`${name}() failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  budget.checkProduced(result);
  return result;
}

/** Calls the function `name` (a key of {@link FUNCTIONS}). */
export function callFunction(name: string, args: readonly unknown[], budget: Budget): unknown {
  const builtin = FUNCTIONS.get(name);
  if (!builtin) throw budget.fail(`"${name}" is not a function expressions may call`);
  return invoke(builtin, undefined, name, args, budget);
}

/**
 * Calls the method `name` on a string or an array. A `null`/`undefined` receiver gives
 * `undefined`, like `input.missing?.trim()`, because flows read optional inputs.
 */
export function callMethod(receiver: unknown, name: string, args: readonly unknown[], budget: Budget): unknown {
  if (receiver === null || receiver === undefined) return undefined;
  if (typeof receiver === 'string') {
    const callable = STRING_METHODS.get(name);
    if (callable) return invoke(callable, receiver, name, args, budget);
  } else if (Array.isArray(receiver)) {
    const callable = ARRAY_METHODS.get(name);
    if (callable) return invoke(callable, receiver, name, args, budget);
  }
  throw budget.fail(`${name}() is not a method of ${describeType(receiver)}`);
}
