/**
 * The size of a value as it would be stored: the UTF-8 bytes of its JSON, counted without building
 * that JSON. Budgets (budgets.ts) compare it with their bound before anything is written.
 */
import { limitExceeded } from './budgets.js';
import { sealedSize } from './sealed-values.js';

/**
 * Counts the UTF-8 bytes of `JSON.stringify(value)` — `null` for a value JSON drops at the top —
 * stopping as soon as the count passes `max`: the result is then some number above `max`, not the
 * full size. Shared references count every time they occur, as a store writes them every time;
 * a cycle counts until `max`. The walk is iterative (no stack to blow, whatever the nesting) and
 * visits at most about `max` values, because each adds at least one byte. A container met again
 * in a large walk is measured once and its size added each time it recurs, so a value that holds
 * one array 2^40 times over (`[d, d]` nested forty times) costs about forty measures, not 2^40
 * visits — a hostile flow cannot make the measure itself hold the event loop.
 */
export function jsonSize(value: unknown, max = Number.POSITIVE_INFINITY): number {
  return measure(value, max, { seen: null, sizes: null, open: null, visits: 0, depth: 0 });
}

/** What one {@link jsonSize} walk remembers of the containers it met. */
interface Walk {
  /** Containers met, once the walk is large enough for repeats to matter (null before). */
  seen: Set<object> | null;
  /** Exact sizes of containers met more than once (null until one is). */
  sizes: Map<object, number> | null;
  /** Containers being measured by an enclosing {@link measure}: met again, they are a cycle. */
  open: Set<object> | null;
  visits: number;
  depth: number;
}

/** Containers visited before a walk starts remembering them: small values pay nothing for it. */
const REMEMBER_AFTER = 1024;
/** Nested measures of recurring containers at most; deeper ones are walked like the rest. */
const MAX_MEASURE_DEPTH = 64;

function measure(value: unknown, max: number, walk: Walk): number {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    // A string takes at least its length plus the quotes: one too long for what is left stops here, unscanned.
    if (typeof current === 'string' && current.length + 2 > max - size) return size + current.length + 2;
    size += scalarSize(current);
    if (typeof current === 'object' && current !== null && !(current instanceof Date)) {
      // A sealed value (seal-json.ts) was measured when it was sealed, and cannot have changed since.
      const sealed = sealedSize(current);
      if (sealed !== undefined) size += sealed;
      else size += containerBytes(current, max - size, walk, pending);
    }
    if (size > max) return size;
  }
  return size;
}

/** Bytes of a container's own JSON, its members pushed to `pending` — or, when it recurs, its whole size, measured once. */
function containerBytes(current: object, left: number, walk: Walk, pending: unknown[]): number {
  walk.visits += 1;
  if (walk.seen === null) {
    if (walk.visits > REMEMBER_AFTER) walk.seen = new Set();
    return containerSize(current, pending);
  }
  const known = walk.sizes?.get(current);
  if (known !== undefined) return known;
  if (!walk.seen.has(current) || walk.open?.has(current) || walk.depth >= MAX_MEASURE_DEPTH) {
    walk.seen.add(current);
    return containerSize(current, pending);
  }
  // Met before and not part of a cycle: measure it whole, once, and remember its size if complete.
  const open = (walk.open ??= new Set());
  open.add(current);
  walk.depth += 1;
  const whole = measure(current, left, walk);
  walk.depth -= 1;
  open.delete(current);
  if (whole <= left) (walk.sizes ??= new Map()).set(current, whole);
  return whole;
}

/** The UTF-8 bytes of a value's JSON when it is not an object or array (a string, number, boolean, null; 4 for what JSON writes as `null`). */
export function jsonScalarSize(value: unknown): number {
  return scalarSize(value);
}

/** The UTF-8 bytes of a string's JSON literal: its quotes, escapes and characters. */
export function jsonStringSize(text: string): number {
  return stringSize(text);
}

/** Bytes of a value that is not a container; 0 for arrays and objects (their parts are counted apart). */
function scalarSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringSize(value);
    case 'number':
      return Number.isFinite(value) ? numberSize(value) : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'bigint':
      return String(value).length;
    case 'object':
      if (value === null) return 4;
      // A Date writes its ISO string (or null when invalid).
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 4 : 26;
      return 0;
    default:
      // undefined, functions and symbols: dropped from objects, null in arrays and at the top.
      return 4;
  }
}

/** Brackets, separators and keys of an array or object; pushes its members to be counted. */
function containerSize(value: object, pending: unknown[]): number {
  if (Array.isArray(value)) {
    const length = value.length;
    for (let i = 0; i < length; i++) pending.push(value[i]);
    return 2 + (length > 0 ? length - 1 : 0);
  }
  let size = 2;
  let members = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    size += stringSize(key) + 1;
    members += 1;
    pending.push(member);
  }
  return size + (members > 0 ? members - 1 : 0);
}

function numberSize(value: number): number {
  // Whole numbers below 10^15 print as their digits (and a sign): counted without building the string.
  if (Number.isInteger(value) && value > -1e15 && value < 1e15) {
    let digits = value < 0 ? 2 : 1;
    for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    return digits;
  }
  return decimalSize(value) ?? String(value).length;
}

/** Powers of ten for {@link decimalSize}'s fractional digits. */
const SCALES = [10, 100, 1000];

/**
 * Bytes of a number with one to three fractional digits (prices, ratios) written in plain
 * decimal, without building its string (`String` is most of a document's measuring otherwise);
 * undefined for any other number. `m / 10^k === value` means the k-digit decimal reads back as
 * `value`, and the first such k is the shortest, which is what JSON writes.
 */
function decimalSize(value: number): number | undefined {
  const magnitude = Math.abs(value);
  if (!(magnitude >= 0.001 && magnitude < 1e12)) return undefined;
  for (let k = 0; k < SCALES.length; k++) {
    const scale = SCALES[k]!;
    const scaled = Math.round(magnitude * scale);
    if (scaled / scale !== magnitude) continue;
    const whole = (scaled - (scaled % scale)) / scale;
    let digits = (value < 0 ? 2 : 1) + 1 + (k + 1);
    for (let rest = whole; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    return digits;
  }
  return undefined;
}

/** Bytes beyond the first that JSON writes for each ASCII character: escapes (`\n`, `\u0001`). */
const ASCII_EXTRA = new Uint8Array(0x80);
for (let code = 0; code < 0x20; code++) ASCII_EXTRA[code] = 5;
for (const code of [0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x22, 0x5c]) ASCII_EXTRA[code] = 1;

/** Bytes of a JSON string literal: quotes, escapes, and UTF-8 for the rest (a lone surrogate is escaped). */
function stringSize(text: string): number {
  const length = text.length;
  // One byte per character to start with, and what a character takes beyond that added: a table for ASCII, the bulk of text.
  let size = 2 + length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) size += ASCII_EXTRA[code]!;
    else if (code < 0x800) size += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        // Two units, four bytes.
        size += 2;
        i += 1;
      } else size += 5;
    } else if (code >= 0xdc00 && code <= 0xdfff) size += 5;
    else size += 2;
  }
  return size;
}

/**
 * Checks that a value a step is about to write fits `maxValueBytes`; returns its size. Throws
 * LIMIT_EXCEEDED (`details: {limit: 'maxValueBytes', max, value}`, where `value` is the count at
 * which measuring stopped, past `max`) naming `what` was written; nothing is built or written.
 */
export function checkValueBytes(value: unknown, max: number, what: string): number {
  const size = jsonSize(value, max);
  if (size > max) throw limitExceeded('maxValueBytes', max, size, `${what} is larger than ${max} bytes of JSON`);
  return size;
}
