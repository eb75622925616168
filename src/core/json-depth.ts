/**
 * The nesting limit of the values flowrun accepts: run inputs, event payloads, flow definitions
 * and module results. A value nested deeper than the limit is refused where it enters, before
 * anything is stored, because deeper values break whatever later walks them recursively
 * (copies, JSON.stringify of an HTTP answer, PostgreSQL's JSON parser).
 */
import { FlowError, ValidationError, type ValidationIssue } from './errors.js';

/** The default nesting limit: a value may hold objects and arrays 100 levels deep (`runtimeConfig.maxNestingDepth`). */
export const DEFAULT_MAX_NESTING_DEPTH = 100;

/**
 * The deepest nesting flowrun's recursive code (copies in json.ts, definition validation) is ever
 * given; also the largest `maxNestingDepth` accepted. Past it, a walk could exhaust the stack.
 */
export const MAX_WALKED_DEPTH = 1000;

/** How many leading path segments a too-deep path shows before it is abbreviated. */
const SHOWN_SEGMENTS = 6;

interface Frame {
  readonly node: object;
  readonly keys: readonly string[] | null;
  readonly length: number;
  next: number;
}

/**
 * The path (keys and indexes) to the first object or array nested deeper than `maxDepth`, or
 * null when `value` fits. A top-level object is at depth 1; primitives add no depth.
 *
 * Iterative, so a hostile 100,000-level value is checked without growing the call stack, and
 * bounded: an object reached again through a shared reference is walked again only when it is
 * reached deeper than before, so each object is entered at most `maxDepth` times (a cycle ends
 * as "too deep" instead of looping). Objects other than plain objects and arrays (a Date, a Map)
 * count as leaves, as JSON writes them.
 */
export function findTooDeep(value: unknown, maxDepth: number): (string | number)[] | null {
  if (!isNested(value)) return null;
  const enteredAt = new Map<object, number>();
  const frames: Frame[] = [];
  const path: (string | number)[] = [];
  const enter = (node: object): boolean => {
    const depth = frames.length + 1;
    if (depth > maxDepth) return true;
    const before = enteredAt.get(node);
    if (before !== undefined && before >= depth) {
      path.pop(); // already walked at least this deep: nothing new below it
      return false;
    }
    enteredAt.set(node, depth);
    const keys = Array.isArray(node) ? null : Object.keys(node);
    frames.push({ node, keys, length: keys ? keys.length : (node as unknown[]).length, next: 0 });
    return false;
  };
  if (enter(value)) return [];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.next >= frame.length) {
      frames.pop();
      path.pop();
      continue;
    }
    const index = frame.next++;
    const key = frame.keys ? frame.keys[index]! : index;
    const child = frame.keys ? (frame.node as Record<string, unknown>)[key as string] : (frame.node as unknown[])[index];
    if (!isNested(child)) continue;
    path.push(key);
    if (enter(child)) return path;
  }
  return null;
}

/**
 * A readable, bounded rendering of a path under `root`: `input.a.b[0].c`, abbreviated past a few
 * segments to `input.a.a.a.a.a.a…(101 levels)`.
 */
export function describePath(root: string, path: readonly (string | number)[]): string {
  const segment = (key: string | number): string => (typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]`);
  const shown = path.slice(0, SHOWN_SEGMENTS).map(segment).join('');
  const text = `${root}${shown}`.replace(/^\./, '');
  return path.length > SHOWN_SEGMENTS ? `${text}…(${path.length} levels)` : text;
}

/** The validation issue of a value nested deeper than `maxDepth` (its path under `path`), or null when it fits. */
export function nestingIssue(value: unknown, options: { path: string; maxDepth: number }): ValidationIssue | null {
  const found = findTooDeep(value, options.maxDepth);
  if (found === null) return null;
  return { path: describePath(options.path, found), message: `is nested more than ${options.maxDepth} levels deep (the limit of maxNestingDepth)` };
}

/**
 * Throws ValidationError INVALID_INPUT, naming where the limit was crossed, when `value` is nested
 * deeper than `maxDepth`. Called where caller-supplied values enter, before anything is stored.
 */
export function assertNestingWithin(value: unknown, options: { path: string; maxDepth: number }): void {
  const issue = nestingIssue(value, options);
  if (issue) throw new ValidationError('INVALID_INPUT', [issue], { details: { limit: options.maxDepth } });
}

/** Levels a flow definition's own structure adds above the values it holds (`actions.main.steps.x.literals` and the like). */
export const DEFINITION_STRUCTURE_LEVELS = 8;

/**
 * Throws INVALID_INPUT when a flow definition nests deeper than `maxDepth` plus
 * {@link DEFINITION_STRUCTURE_LEVELS}: the values a definition holds (literals, defaults,
 * schemas) may nest as deep as any other value, below the definition's own structure.
 */
export function assertDefinitionNesting(definition: unknown, options: { path: string; maxDepth: number }): void {
  assertNestingWithin(definition, { path: options.path, maxDepth: options.maxDepth + DEFINITION_STRUCTURE_LEVELS });
}

/**
 * A FlowError NESTING_TOO_DEEP for a value a step produced (a module's result or write, an EMIT
 * payload) that is nested deeper than `maxDepth`, or null when it fits. The step fails with it
 * and the value is not stored.
 */
export function nestingTooDeepError(value: unknown, options: { what: string; path: string; maxDepth: number; runId?: string; stepId?: string }): FlowError | null {
  const found = findTooDeep(value, options.maxDepth);
  if (found === null) return null;
  const where = describePath(options.path, found);
  return new FlowError('NESTING_TOO_DEEP', `${options.what} is nested more than ${options.maxDepth} levels deep (at ${where}); the limit is maxNestingDepth`, {
    details: { limit: options.maxDepth, path: where },
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
    ...(options.stepId !== undefined ? { stepId: options.stepId } : {}),
  });
}

/** Checks a `maxNestingDepth` option: a whole number of levels from 1 to {@link MAX_WALKED_DEPTH} minus the room a run's state needs around its values. */
export function checkMaxNestingDepth(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_NESTING_DEPTH;
  const most = MAX_WALKED_DEPTH - 2 * DEFINITION_STRUCTURE_LEVELS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > most) {
    throw new ValidationError('INVALID_INPUT', [{ path: 'runtimeConfig.maxNestingDepth', message: `must be a whole number of levels from 1 to ${most}, got ${JSON.stringify(value)}` }]);
  }
  return value;
}

function isNested(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
