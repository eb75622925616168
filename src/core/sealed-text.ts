/**
 * A large input sealed as JSON text rather than copied (issue 13): where a new 1 MiB document
 * enters the engine, the copy sealJson makes — ~26,000 objects kept for the whole run, moved by
 * every scavenge and promoted — costs more than the run's 100 steps. Here its bulk is kept as the
 * one string `JSON.stringify` writes (a string that large lives in V8's large-object space, never
 * moved) and parsed, once, the first time something reads it; a run whose steps never read it
 * never builds it. The text is also what a durable store writes (jsonOf), without stringifying
 * the document again.
 *
 * What is sealed this way is shaped as a run's input usually is: the input (depth 1) and its
 * params' objects of a few keys (depth 2) are frozen *shells*, copied; an array or object below a
 * shell, at depth 3 (a param's `lines`, `items`, `body`), of at least LEAF_MIN_CHARS, is a *leaf*:
 * an accessor property of its shell that parses the text. Binding and checking params read the
 * input and its params, never a leaf (a sealed param is neither walked nor copied there). Anything
 * else — no leaf that large, a part that is not plain JSON data, a limit crossed — is sealed by
 * sealJson as before, so the errors, limits and values are sealJson's own.
 */
import { jsonScalarSize, jsonStringSize } from './json-size.js';
import { hasEarlierCopy, rememberCopy, sealJson } from './seal-json.js';
import { isSealed, markLazyMember, markSealed, sealedHeight, sealedSize } from './sealed-values.js';

/** Least size of a leaf, in characters of JSON (an estimate from below of its bytes). */
const LEAF_MIN_CHARS = 64 * 1024;
/** Most keys of a shell: a wide object is data to copy, not a record of a few parts. */
const SHELL_MAX_KEYS = 16;
/** Thrown by {@link plainChars} at anything JSON would not write back as it is. */
const NOT_PLAIN = Symbol('not plain');

/** The JSON text of each shell sealed here (its leaves' texts spliced in). */
const texts = new WeakMap<object, string>();

/**
 * Seals `value` as {@link sealJson} does — the same limits, errors and resulting data — keeping
 * the bulk of a large plain input as its JSON text (see the module comment), parsed once when
 * first read. The result is frozen, registered as sealed with its exact JSON size and height, and
 * remembered as the copy of `value` (an unchanged object handed in again gets it back). The caller
 * may change `value` afterwards: the text was taken before this returns.
 */
export function sealInput<T>(value: T, options: { path: string; maxDepth: number; maxBytes?: number }): T {
  if (options.maxBytes !== undefined && isMutablePlainObject(value) && !hasEarlierCopy(value)) {
    const shell = sealAsText(value, options.maxDepth, options.maxBytes);
    if (shell !== undefined) {
      rememberCopy(value, shell);
      return shell as T;
    }
  }
  return sealJson(value, options);
}

/**
 * `JSON.stringify(value)`, taking the text of a part sealed by {@link sealInput} as it is instead
 * of parsing and writing it again: for a shell, and for a sealed object holding shells (a run's
 * bound input, whose params are the input's). Undefined where JSON.stringify gives undefined.
 */
export function jsonOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const own = texts.get(value);
  if (own !== undefined) return own;
  if (!isSealed(value) || Array.isArray(value)) return JSON.stringify(value);
  const keys = Object.keys(value);
  const record = value as Record<string, unknown>;
  if (!keys.some((key) => typeof record[key] === 'object' && record[key] !== null && texts.has(record[key]))) return JSON.stringify(value);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${jsonOf(record[key])}`).join(',')}}`;
}

/** A shell for `value` with at least one leaf, or undefined (sealJson seals it then). */
function sealAsText(value: Record<string, unknown>, maxDepth: number, maxBytes: number): object | undefined {
  const plan = planShell(value, 1, maxDepth, maxBytes);
  if (plan === undefined || !plan.hasLeaf) return undefined;
  try {
    const shell = buildShell(plan, maxDepth, maxBytes);
    if (shell === undefined || sealedSize(shell)! > maxBytes) return undefined;
    return shell;
  } catch {
    // A getter that threw, a part over a limit: sealJson's walk of the whole says it as it always has.
    return undefined;
  }
}

/** What {@link buildShell} makes of an object: each member kept as a leaf, a shell, or sealed by sealJson. */
interface ShellPlan {
  value: Record<string, unknown>;
  depth: number;
  /** A leaf's `height` is the levels of objects and arrays its value spans. */
  members: { key: string; leaf: boolean; height: number; shell: ShellPlan | undefined }[];
  hasLeaf: boolean;
}

/** Plans a shell for `value` at `depth` (1 or 2); undefined when a leaf candidate is not plain data. */
function planShell(value: Record<string, unknown>, depth: number, maxDepth: number, maxBytes: number): ShellPlan | undefined {
  const plan: ShellPlan = { value, depth, members: [], hasLeaf: false };
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = value[key];
    let shell: ShellPlan | undefined;
    let leaf = false;
    let height = 0;
    // A part copied before is left to sealJson, which shares that copy when it still holds the same data.
    if (depth === 1 && isMutablePlainObject(item) && !hasEarlierCopy(item) && countKeys(item) <= SHELL_MAX_KEYS) {
      shell = planShell(item, 2, maxDepth, maxBytes);
      if (shell === undefined) return undefined;
      if (!shell.hasLeaf) shell = undefined;
    } else if (depth === 2 && (isMutablePlainObject(item) || isMutablePlainArray(item)) && !hasEarlierCopy(item)) {
      let chars: number;
      deepest = 0;
      try {
        chars = plainChars(item, depth + 1, maxDepth, maxBytes);
      } catch (error) {
        if (error === NOT_PLAIN) return undefined;
        throw error;
      }
      leaf = chars >= LEAF_MIN_CHARS;
      height = deepest - depth;
    }
    plan.members.push({ key, leaf, height, shell });
    plan.hasLeaf ||= leaf || shell !== undefined;
  }
  return plan;
}

/**
 * Characters of `value`'s JSON, counted from below (a string's length and quotes, a digit per
 * number, no escapes), after checking it is plain JSON data that JSON writes back exactly: objects
 * of Object.prototype or null, arrays of Array.prototype without holes, strings, finite numbers
 * other than -0, booleans and null, no `toJSON`; nested at most `maxDepth` levels from the input
 * (`depth` is its own). Throws NOT_PLAIN otherwise — a cycle at the depth limit, a count past
 * `maxBytes`. (A caller's getter is read here and again by JSON.stringify: one that answers
 * differently the second time is taken at its second answer.)
 */
function plainChars(value: unknown, depth: number, maxDepth: number, maxBytes: number): number {
  if (depth > maxDepth) throw NOT_PLAIN;
  if (depth > deepest) deepest = depth;
  let chars = 2;
  // JSON.stringify would write what a toJSON returns — an own one the loops below do not see
  // (not enumerable), or one a prototype was given.
  if ('toJSON' in (value as object)) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw NOT_PLAIN;
    const length = value.length;
    for (let i = 0; i < length; i++) {
      // A hole reads as undefined: not plain, as JSON would write null.
      chars += itemChars(value[i], depth, maxDepth, maxBytes) + 1;
    }
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
    for (const key in value as Record<string, unknown>) {
      if (!Object.hasOwn(value as object, key)) continue;
      chars += key.length + 4 + itemChars((value as Record<string, unknown>)[key], depth, maxDepth, maxBytes);
    }
  }
  if (chars > maxBytes) throw NOT_PLAIN;
  return chars;
}

/** The deepest level {@link plainChars} met since it was last set (a field, not a result per value). */
let deepest = 0;

/** {@link plainChars} of a member of a container at `depth`. */
function itemChars(item: unknown, depth: number, maxDepth: number, maxBytes: number): number {
  switch (typeof item) {
    case 'string':
      return item.length + 2;
    case 'number':
      if (!Number.isFinite(item) || Object.is(item, -0)) throw NOT_PLAIN;
      return 1;
    case 'boolean':
      return 4;
    case 'object':
      return item === null ? 4 : plainChars(item, depth + 1, maxDepth, maxBytes);
    default:
      throw NOT_PLAIN;
  }
}

/**
 * Makes the shell `plan` describes: a frozen object whose members are leaves (getters parsing
 * their text once), shells, or sealJson's copies; registered as sealed with its exact size and
 * height, its JSON text kept. Undefined when a member sealJson copied is not plain data.
 */
function buildShell(plan: ShellPlan, maxDepth: number, maxBytes: number): object | undefined {
  const shell: Record<string, unknown> = {};
  const pieces: string[] = [];
  let size = 2 + (plan.members.length > 0 ? plan.members.length - 1 : 0);
  let height = 0;
  for (const { key, leaf, height: leafHeight, shell: inner } of plan.members) {
    const item = plan.value[key];
    let text: string;
    let bytes: number;
    let itemHeight: number;
    if (leaf) {
      text = JSON.stringify(item);
      bytes = utf8Bytes(text);
      itemHeight = leafHeight;
      Object.defineProperty(shell, key, { get: leafGetter(text, bytes, itemHeight), enumerable: true, configurable: false });
    } else {
      let copy: unknown;
      if (inner !== undefined) {
        copy = buildShell(inner, maxDepth, maxBytes);
        if (copy === undefined) return undefined;
      } else {
        // Small, or not a shape kept as text: the same walk as any other input's, from its depth.
        copy = sealJson(item, { path: 'input', maxDepth: maxDepth - plan.depth, maxBytes });
        if (typeof copy === 'object' && copy !== null && !Object.isFrozen(copy)) return undefined;
        if (typeof copy !== 'object' && !isJsonScalar(copy)) return undefined;
      }
      text = jsonOf(copy)!;
      bytes = typeof copy === 'object' && copy !== null ? (sealedSize(copy) ?? utf8Bytes(text)) : jsonScalarSize(copy);
      itemHeight = typeof copy === 'object' && copy !== null ? (sealedHeight(copy) ?? heightOf(copy)) : 0;
      if (key === '__proto__') Object.defineProperty(shell, key, { value: copy, enumerable: true, writable: true, configurable: true });
      else shell[key] = copy;
    }
    pieces.push(`${JSON.stringify(key)}:${text}`);
    size += jsonStringSize(key) + 1 + bytes;
    if (itemHeight > height) height = itemHeight;
  }
  Object.freeze(shell);
  markSealed(shell, size, height + 1);
  if (plan.depth > 1) rememberCopy(plan.value, shell);
  texts.set(shell, `{${pieces.join(',')}}`);
  return shell;
}

/** A string, finite number (not -0), boolean or null: what JSON writes back as it is. */
function isJsonScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0));
}

/** A leaf's getter: parses `text` the first time it is read, freezes the result and registers it as sealed. */
function leafGetter(text: string, size: number, height: number): () => unknown {
  let parsed: object | undefined;
  const get = (): unknown => {
    if (parsed === undefined) {
      parsed = deepFreeze(JSON.parse(text) as object);
      markSealed(parsed, size, height);
    }
    return parsed;
  };
  markLazyMember(get);
  return get;
}

/** Levels of objects and arrays in plain data (1 for `{}`). */
function heightOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let below = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (typeof item === 'object' && item !== null) {
      const h = heightOf(item);
      if (h > below) below = h;
    }
  }
  return below + 1;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Array.isArray(value) ? value : Object.values(value)) if (typeof item === 'object' && item !== null) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

const encoder = new TextEncoder();

/**
 * The UTF-8 bytes of `text`, which JSON.stringify wrote (so no lone surrogate), without keeping
 * them: encoded into a buffer of one byte per character, the usual all-ASCII text fits whole (the
 * encoder's native loop is ~10× a regular expression's scan); the rest, if any, into one of three.
 */
function utf8Bytes(text: string): number {
  const head = encoder.encodeInto(text, new Uint8Array(text.length));
  if (head.read === text.length) return head.written;
  const rest = text.slice(head.read);
  return head.written + encoder.encodeInto(rest, new Uint8Array(rest.length * 3)).written;
}

function isMutablePlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.isFrozen(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isMutablePlainArray(value: unknown): value is unknown[] {
  return Array.isArray(value) && !Object.isFrozen(value);
}

function countKeys(value: object): number {
  let count = 0;
  for (const key in value) if (Object.hasOwn(value, key) && ++count > SHELL_MAX_KEYS) break;
  return count;
}

/** `JSON.stringify(items)` for a list of values, each written by {@link jsonOf} (`undefined` as null). */
export function jsonOfItems(items: readonly unknown[]): string {
  return `[${items.map((item) => jsonOf(item) ?? 'null').join(',')}]`;
}
