/**
 * The field-level checks of definition validation: each reports into one shared issue list, with a
 * dotted path and a message that names the bad value, and returns whether the value held so the
 * caller can skip checks that depend on it.
 */
import { describeValue, joinPath } from '../describe-value.js';
import { msg, renderMessage, type IssueMessage } from './messages.js';

/** Flow ids: `orders/process`, `@myorg/orders/validate` — `/`-separated segments, maybe an `@scope/` first. */
export const FLOW_ID_PATTERN = /^(@[a-z0-9-]+\/)?[a-zA-Z0-9_.-]+(\/[a-zA-Z0-9_.-]+)*$/;

/** A definition object not yet known to be well-formed. */
export type Obj = Record<string, unknown>;

/** Names that would reach an object's prototype instead of the named thing. */
export const RESERVED_NAMES = ['__proto__', 'constructor', 'prototype'];

/**
 * Checks fields of a definition, reporting every problem through `add`. Each method reports and
 * returns whether the value held; none throws, whatever the value is.
 */
export class FieldChecker {
  /** @param add Records one issue (plain English or a keyed message, messages.ts); called once per problem found. */
  constructor(readonly add: (path: string, message: IssueMessage) => void) {}

  /** Tells whether `obj` has its own `key` with a value other than `undefined`; reports nothing. */
  present(obj: Obj, key: string): boolean {
    return Object.hasOwn(obj, key) && obj[key] !== undefined;
  }

  /** Checks that `value` is a plain object. */
  object(value: unknown, path: string): value is Obj {
    if (isObj(value)) return true;
    this.add(path, `expected an object, got ${describeValue(value)}`);
    return false;
  }

  /** Checks that `value` is a list. */
  array(value: unknown, path: string): value is unknown[] {
    if (Array.isArray(value)) return true;
    this.add(path, `expected a list, got ${describeValue(value)}`);
    return false;
  }

  /** Reports each field of `obj` not in `allowed`, listing the known fields. */
  keys(obj: Obj, allowed: readonly string[], path: string, what: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(joinPath(path, key), `unknown field "${key}" in ${what}; known fields: ${allowed.join(', ')}`);
    }
  }

  /** Checks an object of named definitions (`vars`, `params`, …) and its names; returns it when it is one. */
  namedObjects(obj: Obj, key: string, path: string, required = false): Obj | undefined {
    const at = joinPath(path, key);
    if (!this.present(obj, key)) {
      if (required) this.add(at, `"${key}" is required`);
      return undefined;
    }
    if (!this.object(obj[key], at)) return undefined;
    const named = obj[key] as Obj;
    for (const name of Object.keys(named)) this.name(name, joinPath(at, name));
    return named;
  }

  /** Checks a declared name: not empty, not reserved. */
  name(name: string, path: string): void {
    if (name === '') this.add(path, msg('emptyName'));
    else if (RESERVED_NAMES.includes(name)) this.add(path, msg('reservedName', { name }));
  }

  /** Checks an optional string field; returns whether it is present and a string. */
  optString(obj: Obj, key: string, path: string): boolean {
    if (!this.present(obj, key)) return false;
    if (typeof obj[key] === 'string') return true;
    this.add(joinPath(path, key), `expected a string, got ${describeValue(obj[key])}`);
    return false;
  }

  /** Checks a required non-empty string field; `what` describes it in the message. */
  nonEmptyString(obj: Obj, key: string, path: string, what: IssueMessage): boolean {
    if (!this.present(obj, key)) {
      this.add(joinPath(path, key), msg('requiredWhat', { key, what }));
      return false;
    }
    if (typeof obj[key] === 'string' && obj[key] !== '') return true;
    this.add(joinPath(path, key), msg('expectedNonEmpty', { what, value: describeValue(obj[key]) }));
    return false;
  }

  /** Checks an optional boolean field. */
  optBoolean(obj: Obj, key: string, path: string): void {
    if (this.present(obj, key) && typeof obj[key] !== 'boolean') {
      this.add(joinPath(path, key), `expected true or false, got ${describeValue(obj[key])}`);
    }
  }

  /** Checks an optional number field against a lower bound, and that it is an integer when `rule.integer`. */
  number(obj: Obj, key: string, path: string, rule: { min: number; exclusive?: boolean; integer?: boolean }): void {
    if (!this.present(obj, key)) return;
    const value = obj[key];
    const holds =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (rule.exclusive ? value > rule.min : value >= rule.min) &&
      (!rule.integer || Number.isInteger(value));
    if (holds) return;
    const what = `${rule.integer ? 'an integer' : 'a number'} ${rule.exclusive ? '>' : '≥'} ${rule.min}`;
    this.add(joinPath(path, key), `${key} must be ${what}, got ${describeValue(value)}`);
  }

  /** Checks an optional number field is > 0. */
  positive(obj: Obj, key: string, path: string): void {
    this.number(obj, key, path, { min: 0, exclusive: true });
  }

  /** Checks a flow id against {@link FLOW_ID_PATTERN}, rejecting `.` and `..` segments. */
  flowId(value: unknown, path: string): void {
    const valid =
      typeof value === 'string' && FLOW_ID_PATTERN.test(value) && !value.split('/').some((s) => s === '.' || s === '..');
    if (!valid) {
      this.add(path, msg('invalidFlowId', { value: describeValue(value) }));
    }
  }

  /** Checks a list of non-empty strings, which must itself be non-empty when `nonEmpty`. */
  strings(value: unknown, path: string, what: string, nonEmpty: boolean): void {
    if (!Array.isArray(value) || (nonEmpty && value.length === 0)) {
      this.add(path, `expected a ${nonEmpty ? 'non-empty ' : ''}list of ${what}, got ${describeValue(value)}`);
      return;
    }
    value.forEach((item, i) => {
      if (typeof item !== 'string' || item === '') this.add(`${path}[${i}]`, `expected ${what.replace(/s$/, '')} (a non-empty string), got ${describeValue(item)}`);
    });
  }
}

/** Tells whether `value` is a plain object (not null, not a list). */
export function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Runs a check written elsewhere; a check that throws becomes its message, so validation never throws. */
export function guarded<T>(check: () => T): T | string {
  try {
    return check();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Builds a message from a check's `error`: the error itself when it already quotes the bad value,
 * else `wrapped(error)` (`invalid expression "x": error`), so each message names the value once.
 */
export function naming(value: string, error: IssueMessage, wrapped: (problem: IssueMessage) => IssueMessage): IssueMessage {
  return renderMessage(error).includes(`"${value}"`) ? error : wrapped(error);
}

/** Joins names for a message: `(none)` when empty, the first 20 and a count of the rest when long. */
export function list(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  return names.length > 20 ? `${names.slice(0, 20).join(', ')}, … (${names.length - 20} more)` : names.join(', ');
}
