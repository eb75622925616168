/**
 * Sealing a value where it enters the engine (a run's input, an event's payload): one walk that
 * checks its nesting, copies it, freezes the copy and measures its JSON size, so nothing after
 * that walks it again — stores share it rather than copy it, budgets read its size
 * (sealed-values.ts). An object handed in again that still holds what it held when it was copied
 * gets that copy back: a caller running many flows over one document pays one copy of it.
 */
import { ValidationError } from './errors.js';
import { assertNestingWithin, describePath, findTooDeep } from './json-depth.js';
import { jsonScalarSize, jsonSize, jsonStringSize } from './json-size.js';
import { markSealed, sealedHeight, sealedSize } from './sealed-values.js';

/**
 * Sealed objects and arrays smaller than this (JSON bytes) are frozen but not registered: a
 * registry entry costs more than copying or measuring them again, and the big value above them
 * — which is what the registry saves walking — is registered.
 */
const REGISTERED_MIN_BYTES = 1024;

/**
 * The last registered copy made of each object or array a caller handed in, held weakly both ways:
 * an entry lives no longer than the caller's object, and keeps no copy alive that nothing else
 * (a run, a store) still holds.
 */
const copies = new WeakMap<object, WeakRef<object>>();

/**
 * True when `value` was copied before and that copy is still held: sealJson then compares it with
 * that copy (and shares it, or what of it is unchanged) rather than copying it whole.
 */
export function hasEarlierCopy(value: object): boolean {
  return copies.get(value)?.deref() !== undefined;
}

/**
 * Records `copy`, sealed (frozen, registered) by another way than sealJson's walk, as the copy of
 * `value`: sealJson handed `value` again, unchanged, gives `copy` back.
 */
export function rememberCopy(value: object, copy: object): void {
  copies.set(value, new WeakRef(copy));
}

/** What the walk learnt of the value it visited last (kept in fields, not one object per value). */
interface Walk {
  readonly maxDepth: number;
  readonly maxBytes: number;
  /** JSON bytes seen so far: the walk gives up past `maxBytes`. */
  seen: number;
  size: number;
  height: number;
  /** Plain data without `undefined`: the copy is frozen. */
  ok: boolean;
  /** Earlier copies may be compared and shared (false in a walk started inside another). */
  readonly reuses: boolean;
}

/** True while a {@link sealJson} walk runs. */
let sealing = false;

/**
 * Returns a deep copy of `value`, frozen (and, when it is large, registered as sealed), after
 * checking that it nests no deeper than `maxDepth` — in one walk. Throws ValidationError
 * INVALID_INPUT naming where the limit was crossed, as assertNestingWithin does.
 *
 * Parts already sealed are kept as they are, and so are parts the caller froze all the way down.
 * A part copied before (a registered copy, one of at least REGISTERED_MIN_BYTES) that still holds
 * exactly the data of that copy — the same keys in the same order, the same scalars by `Object.is`
 * — is given that copy again while something (a run, a store) still holds it, found by a
 * comparison that allocates nothing; any difference and
 * it is copied anew, so what a caller changes between runs is seen by the next run and never by an
 * earlier one. Parts that are not plain JSON data (a Date, a Map,
 * an `undefined` property, a function) are copied as cloneJson copies them and left unfrozen,
 * and so is every object above them: they are copied again wherever a copy is taken, as before.
 * A value larger than `maxBytes` of JSON (a budget it would exceed anyway, or shared references
 * that would make a copy explode) is only checked for its nesting and returned as it is.
 */
export function sealJson<T>(value: T, options: { path: string; maxDepth: number; maxBytes?: number }): T {
  // The comparisons' state is this module's: a walk started from inside another (a getter of the
  // value that seals something) copies without comparing.
  const outer = sealing;
  const walk: Walk = { maxDepth: options.maxDepth, maxBytes: options.maxBytes ?? Number.POSITIVE_INFINITY, seen: 0, size: 0, height: 0, ok: true, reuses: !outer };
  sealing = true;
  try {
    return visit(value, 1, walk) as T;
  } catch (error) {
    if (error === TOO_LARGE) {
      assertNestingWithin(value, options);
      return value;
    }
    if (error !== TOO_DEEP) throw error;
    const path = findTooDeep(value, options.maxDepth) ?? [];
    throw new ValidationError('INVALID_INPUT', [{ path: describePath(options.path, path), message: `is nested more than ${options.maxDepth} levels deep (the limit of maxNestingDepth)` }], {
      details: { limit: options.maxDepth },
    });
  } finally {
    sealing = outer;
    // What the comparisons found holds the caller's objects: let them go with the walk.
    if (!outer && differing.size > 0) differing.clear();
  }
}

/** A string, finite or not number, boolean or null: copied as it is. */
function isPlainScalar(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Thrown inside the walk when the limit is crossed; the error the caller sees is built from a second, iterative walk. */
const TOO_DEEP = Symbol('too deep');
/** Thrown inside the walk past `maxBytes`. */
const TOO_LARGE = Symbol('too large');

function visit(value: unknown, depth: number, walk: Walk): unknown {
  if (typeof value !== 'object' || value === null) {
    walk.size = jsonScalarSize(value);
    walk.height = 0;
    walk.ok = value !== undefined && typeof value !== 'function' && typeof value !== 'symbol' && typeof value !== 'bigint';
    if ((walk.seen += walk.size) > walk.maxBytes) throw TOO_LARGE;
    return value;
  }
  const frozen = Object.isFrozen(value);
  const known = frozen ? sealedSize(value) : undefined;
  if (known !== undefined) {
    walk.size = known;
    walk.height = sealedHeight(value)!;
    walk.ok = true;
    if (depth + walk.height - 1 > walk.maxDepth) throw TOO_DEEP;
    if ((walk.seen += known) > walk.maxBytes) throw TOO_LARGE;
    return value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  const isArray = Array.isArray(value);
  if (!isArray && proto !== Object.prototype && proto !== null) {
    // Not plain data: measured and copied as before, never shared.
    walk.size = jsonSize(value);
    walk.height = 1;
    walk.ok = false;
    if ((walk.seen += walk.size) > walk.maxBytes) throw TOO_LARGE;
    return structuredClone(value);
  }
  if (depth > walk.maxDepth) throw TOO_DEEP;
  // Frozen by its caller, all the way down: nobody can change it, so it is shared, not copied.
  if (frozen) {
    const seen = walk.seen;
    if (measureFrozen(value, depth, walk)) return value;
    walk.seen = seen;
  }
  // Copied before and still holding exactly what it held then: that copy is what copying it again
  // would give, so it is shared. A comparison that matches allocates nothing, where a copy of a
  // large document is most of a short run's cost (and, kept by a run, of the collector's).
  const earlier = walk.reuses ? copies.get(value)?.deref() : undefined;
  if (earlier !== undefined && !differing.has(value) && holdsCopied(value, earlier)) {
    walk.size = sealedSize(earlier)!;
    walk.height = sealedHeight(earlier)!;
    walk.ok = true;
    if (depth + walk.height - 1 > walk.maxDepth) throw TOO_DEEP;
    if ((walk.seen += walk.size) > walk.maxBytes) throw TOO_LARGE;
    return earlier;
  }
  // A comparison found where it differs from an earlier copy: the members before that are the
  // same, and that copy's are shared (measured, not copied) — a change at the end of a document
  // costs the comparison and a copy of what changed, not of the whole.
  // Empty unless a comparison in this walk found a difference: most walks never look it up.
  const difference = walk.reuses && differing.size > 0 ? differing.get(value) : undefined;
  const prior = difference?.copy as Record<string, unknown> | undefined;
  const sameBelow = difference?.at ?? 0;
  if (prior === undefined) {
    const copy = isArray ? copyArray(value, depth, walk) : undefined;
    if (copy !== undefined) return copy;
  }
  // Its brackets: every object or array counts, so a value doubling empty arrays stops too.
  if ((walk.seen += 2) > walk.maxBytes) throw TOO_LARGE;
  let size = 2;
  /** Bytes of the scalars counted here rather than by a visit. */
  let inline = 0;
  let height = 0;
  let ok = true;
  let copy: unknown[] | Record<string, unknown>;
  if (isArray) {
    const length = value.length;
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const item: unknown = value[i];
      if (isPlainScalar(item)) {
        // Strings, numbers, booleans, null: inline, the bulk of a document.
        out[i] = item;
        const bytes = jsonScalarSize(item);
        size += bytes;
        inline += bytes;
        continue;
      }
      out[i] = visit(i < sameBelow ? prior![i] : item, depth + 1, walk);
      size += walk.size;
      if (walk.height > height) height = walk.height;
      ok &&= walk.ok;
    }
    size += length > 0 ? length - 1 : 0;
    copy = out;
  } else {
    const out: Record<string, unknown> = {};
    let members = 0;
    let position = -1;
    for (const key in value) {
      // hasOwnProperty.call on a for-in key is what V8 optimizes away for an object with an enum cache.
      if (!hasOwnProperty.call(value, key)) continue;
      position += 1;
      const item = (value as Record<string, unknown>)[key];
      // Like JSON and cloneJson: functions are not data; undefined keeps its key (and the object is not sealed).
      if (typeof item === 'function' || typeof item === 'symbol') {
        ok = false;
        continue;
      }
      const plain = isPlainScalar(item);
      const copied = plain ? item : visit(position < sameBelow ? prior![key] : item, depth + 1, walk);
      if (key === '__proto__') Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true });
      else out[key] = copied;
      if (item !== undefined) {
        const bytes = plain ? jsonScalarSize(item) : walk.size;
        size += keyBytes(key, position, depth) + 1 + bytes;
        if (plain) inline += bytes;
        members += 1;
      }
      if (plain) continue;
      if (walk.height > height) height = walk.height;
      ok &&= walk.ok;
    }
    size += members > 0 ? members - 1 : 0;
    copy = out;
  }
  return finish(value, copy, size, height + 1, ok, inline, walk);
}

/**
 * Ends {@link visit}'s copy of `value`: counts the scalars counted inline toward the walk's bound,
 * freezes the copy when it is plain data (registering it when large), and leaves its sizes in `walk`.
 */
function finish<C extends object>(value: object, copy: C, size: number, height: number, ok: boolean, inline: number, walk: Walk): C {
  if ((walk.seen += inline) > walk.maxBytes) throw TOO_LARGE;
  if (ok) {
    Object.freeze(copy);
    if (size >= REGISTERED_MIN_BYTES) {
      markSealed(copy, size, height);
      copies.set(value, new WeakRef(copy));
    }
  }
  walk.size = size;
  walk.height = height;
  walk.ok = ok;
  return copy;
}

const arraySlice = Array.prototype.slice;
const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * {@link visit}'s copy of a plain array with nothing to share from an earlier copy: copied at once
 * by `slice` (a block copy, where a document's arrays of strings and numbers are most of it), then
 * its objects replaced by their copies and its scalars measured in one loop. Undefined when `slice`
 * made something else than a plain array (a `constructor` of the caller's): the general path copies it.
 */
function copyArray(value: unknown[], depth: number, walk: Walk): unknown[] | undefined {
  if (Object.getPrototypeOf(value) !== Array.prototype) return undefined;
  const out = arraySlice.call(value) as unknown[];
  if (Object.getPrototypeOf(out) !== Array.prototype) return undefined;
  if ((walk.seen += 2) > walk.maxBytes) throw TOO_LARGE;
  const length = out.length;
  let size = length > 0 ? length + 1 : 2;
  let inline = 0;
  let height = 0;
  let ok = true;
  for (let i = 0; i < length; i++) {
    const item = out[i];
    let bytes: number;
    if (typeof item === 'string') bytes = jsonStringSize(item);
    else if (typeof item === 'number' || typeof item === 'boolean' || item === null) bytes = jsonScalarSize(item);
    else {
      // Objects, and what JSON writes as null here (undefined, a hole, a function): visit decides.
      out[i] = visit(item, depth + 1, walk);
      size += walk.size;
      if (walk.height > height) height = walk.height;
      ok &&= walk.ok;
      continue;
    }
    size += bytes;
    inline += bytes;
  }
  return finish(value, out, size, height + 1, ok, inline, walk);
}

/**
 * The JSON bytes of the keys met at each position of an object at each depth, as pairs `[key,
 * bytes, …]`: the objects of one array usually have the same keys in the same order, so a key is
 * measured once per position rather than once per object.
 */
const keyBytesMemo: unknown[][] = [];
/** Positions remembered per depth at most: a very wide object measures the rest of its keys. */
const MEMO_POSITIONS = 64;
/** Longest key remembered (UTF-16 units). */
const MEMO_KEY_LENGTH = 64;

/** The JSON bytes of `key`, met at `position` among an object's keys at `depth`: looked up in {@link keyBytesMemo} first. */
function keyBytes(key: string, position: number, depth: number): number {
  const memo = (keyBytesMemo[depth] ??= []);
  const at = 2 * position;
  if (memo[at] === key) return memo[at + 1] as number;
  const bytes = jsonStringSize(key);
  // Only short keys are kept: the memo holds them for as long as the process lives.
  if (position < MEMO_POSITIONS && key.length <= MEMO_KEY_LENGTH) {
    memo[at] = key;
    memo[at + 1] = bytes;
  }
  return bytes;
}

/**
 * Measures a frozen array or plain object whose every part is frozen plain JSON data, and
 * registers it (when large) as sealed, leaving the sizes in `walk` as {@link visit} does; false as
 * soon as a part is not (mutable, not plain data, `undefined`), and the caller copies it instead
 * (frozen parts measured before that stay registered: they are sealed). A frozen object's getters are its caller's: they are read here
 * once, like any property, and the value is taken to be what they returned.
 */
function measureFrozen(value: object, depth: number, walk: Walk): boolean {
  if (depth > walk.maxDepth) throw TOO_DEEP;
  if ((walk.seen += 2) > walk.maxBytes) throw TOO_LARGE;
  let size = 2;
  let height = 0;
  let members = 0;
  const isArray = Array.isArray(value);
  const keys = isArray ? null : Object.keys(value);
  const count = isArray ? (value as unknown[]).length : keys!.length;
  for (let i = 0; i < count; i++) {
    const key = isArray ? null : keys![i]!;
    const item: unknown = isArray ? (value as unknown[])[i] : (value as Record<string, unknown>)[key!];
    let bytes: number;
    if (isPlainScalar(item)) {
      bytes = jsonScalarSize(item);
      if ((walk.seen += bytes) > walk.maxBytes) throw TOO_LARGE;
    } else {
      if (typeof item !== 'object' || item === undefined) return false;
      const known = sealedSize(item);
      if (known !== undefined) {
        bytes = known;
        const itemHeight = sealedHeight(item)!;
        if (depth + itemHeight > walk.maxDepth) throw TOO_DEEP;
        if ((walk.seen += known) > walk.maxBytes) throw TOO_LARGE;
        if (itemHeight > height) height = itemHeight;
      } else {
        const proto = Object.getPrototypeOf(item) as unknown;
        if (!Object.isFrozen(item) || (!Array.isArray(item) && proto !== Object.prototype && proto !== null)) return false;
        if (!measureFrozen(item, depth + 1, walk)) return false;
        bytes = walk.size;
        if (walk.height > height) height = walk.height;
      }
    }
    size += bytes + (key === null ? 0 : jsonScalarSize(key) + 1);
    members += 1;
  }
  size += members > 0 ? members - 1 : 0;
  height += 1;
  if (size >= REGISTERED_MIN_BYTES) markSealed(value, size, height);
  walk.size = size;
  walk.height = height;
  walk.ok = true;
  return true;
}

/**
 * Key lists of the objects {@link sameData} is comparing, each nested call's above its caller's
 * (`keysTop` is the end of the innermost): one array for every call, written over, not reallocated.
 */
const keyLists: string[] = [];
let keysTop = 0;

/**
 * The caller's objects and arrays that a comparison in this walk found to differ from a copy
 * (the path down to the difference), with that copy and how many of their members (array items,
 * or keys in order) came before the difference. Met again below, they are not compared again —
 * a change deep in a document costs one comparison, not one per level — and those members are
 * shared from that copy.
 */
const differing = new Map<object, { copy: object; at: number }>();

/** {@link sameData} for a value and the copy made of it earlier. */
function holdsCopied(value: object, copy: object): boolean {
  // A getter that threw in an earlier comparison left its lists behind; a very wide object's are let go.
  keysTop = 0;
  if (keyLists.length > 4096) keyLists.length = 0;
  return sameData(value, copy);
}

/** True when `value` is `copy`, or holds the same data ({@link sameData}); scalars by `Object.is`, so -0 is not 0. */
function same(value: unknown, copy: unknown): boolean {
  return typeof copy === 'object' && copy !== null ? value === copy || sameData(value, copy) : Object.is(value, copy);
}

/**
 * True when `value` holds exactly the data of `copy`, a sealed array or object copied from it
 * earlier: arrays of the same length, the same own enumerable keys in the same order, the same
 * scalars (`Object.is`), and nothing that a copy would not hold as it is (a function, `undefined`,
 * an object that is not plain data). It walks `copy`'s shape, so it ends however `value` is shaped
 * (a cycle included). Each property of `value` is read at most once, as copying it reads it (a
 * getter is read again by the copy taken after a difference).
 */
function sameData(value: unknown, copy: object): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(copy)) {
    if (!Array.isArray(value)) return differs(value, copy, 0);
    // Up to the end of the shorter: a list grown by a few items shares what it held.
    const length = Math.min(value.length, copy.length);
    for (let i = 0; i < length; i++) if (!same(value[i], copy[i])) return differs(value, copy, i);
    return value.length === copy.length || differs(value, copy, length);
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value) || (proto !== Object.prototype && proto !== null)) return differs(value, copy, 0);
  const base = keysTop;
  for (const key in copy) if (Object.hasOwn(copy, key)) keyLists[keysTop++] = key;
  const count = keysTop - base;
  let matched = 0;
  let equal = true;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (matched === count || keyLists[base + matched] !== key || !same((value as Record<string, unknown>)[key], (copy as Record<string, unknown>)[key])) {
      equal = false;
      break;
    }
    matched += 1;
  }
  keysTop = base;
  return (equal && matched === count) || differs(value, copy, matched);
}

/** Notes in {@link differing} that `value` holds what `copy` holds up to its `at`th member, and not after; false. */
function differs(value: object, copy: object, at: number): false {
  differing.set(value, { copy, at });
  return false;
}
