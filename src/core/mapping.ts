/**
 * Context mappings of steps (DESIGN.md §2): how a step's input is built from the context
 * (`literals` + `inputMappings`) and how its output is copied back (`outputMappings`).
 *
 * A mapping source that starts with `$` is JSONPath; anything else is an expression. A definite
 * path (`$.vars.x`, `$['a b'][0]`) is read here with own-property reads and yields one value or
 * `undefined`; any other path (wildcards, filters, slices, unions, `..`) goes to jsonpath-plus and
 * yields the array of matches. Filters run in the expression language, never through eval/Function.
 *
 * Values crossing a mapping are copied, so a module that mutates its input, or a later write to
 * one variable, cannot change another part of the context behind the run's back: what is in memory
 * is what a resumed run would rebuild from the store.
 */
import { JSONPath } from 'jsonpath-plus';
import { FlowError } from './errors.js';
import { expressionProblem, evaluateExpression, withLimits, type ExpressionLimits, type ExpressionScope } from './expression/index.js';
import { isBlockedKey, readOwn } from './expression/values.js';
import { DEFAULT_BUDGETS } from './budgets.js';
import { checkValueBytes } from './json-size.js';
import { msg, renderMessage, type IssueMessage, type LocalizableMessage } from './validation/messages.js';

/** What a step sees: the context roots of its frame (DESIGN.md §2). */
export interface StepContext {
  input: unknown;
  vars: Record<string, unknown>;
  outputs: Record<string, unknown>;
  steps: Record<string, unknown>;
  item?: unknown;
  event?: unknown;
  /** The schedule slot that started the run (`{id, scheduledTime, previousTime}`), if a schedule did. */
  schedule?: unknown;
  run?: unknown;
  settings?: unknown;
  /** The bounds of every expression evaluated in this context (the engine's budgets); defaults when absent. */
  limits?: ExpressionLimits;
}

const ALIASES: readonly (readonly [alias: string, root: keyof StepContext])[] = [
  ['flow_variables', 'vars'],
  ['steps_output', 'steps'],
  ['currentItem', 'item'],
];

function buildScope(ctx: StepContext, extra: Record<string, unknown> = {}): ExpressionScope {
  const { input, vars, outputs, steps, item, event, schedule, run, settings } = ctx;
  const scope: ExpressionScope = { input, vars, outputs, steps, item, event, schedule, run, settings, ...extra };
  // Aliases and `$` are not enumerable: `$.*` and `$..x` then see each value once and never loop through `$`.
  for (const [alias, root] of ALIASES) Object.defineProperty(scope, alias, { value: ctx[root], enumerable: false });
  Object.defineProperty(scope, '$', { value: scope, enumerable: false });
  return ctx.limits ? withLimits(scope, ctx.limits) : scope;
}

/**
 * Builds the scope that expressions and JSONPath read: every root (`input`, `vars`, `outputs`,
 * `steps`, `item`, `event`, `schedule`, `run`, `settings`), the aliases `flow_variables`, `steps_output` and
 * `currentItem` pointing at the same objects, and `$` pointing at the scope itself. Aliases and
 * `$` are non-enumerable, so wildcards list each root once. A root without a value is still a
 * known name: `event.order_id` outside an event-started run is `undefined`, not an error.
 */
export function contextScope(ctx: StepContext): ExpressionScope {
  return buildScope(ctx);
}

type PathSegment = { kind: 'name'; name: string } | { kind: 'filter'; body: string } | { kind: 'other' };

const NAME_STOP = new Set(['.', '[', '^', '~']);
const BAD_NAME = /[\s\]()'",?@:]/;

/** Index of the `)` matching the `(` at `open`, skipping quoted text; -1 when unclosed. */
function matchParen(path: string, open: number): number {
  let depth = 0;
  for (let i = open; i < path.length; i++) {
    const ch = path.charAt(i);
    if (ch === "'" || ch === '"') {
      for (i++; i < path.length && path.charAt(i) !== ch; i++) if (path.charAt(i) === '\\') i++;
    } else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Splits a JSONPath into segments, or returns what is wrong with it. `offset` is subtracted from
 * the columns in messages (for targets written without the leading `$.`).
 */
function tokenizePath(path: string, offset = 0): PathSegment[] | LocalizableMessage {
  if (!path.startsWith('$')) return msg('pathStartsWithDollar');
  const at = (i: number): number => i + 1 - offset;
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const ch = path.charAt(i);
    if (ch === '.') {
      if (path.charAt(i + 1) === '.') {
        segments.push({ kind: 'other' });
        i++;
        if (path.charAt(i + 1) === '[') {
          i++;
          continue;
        }
      }
      let end = ++i;
      while (end < path.length && !NAME_STOP.has(path.charAt(end))) end++;
      const name = path.slice(i, end);
      if (name === '*') segments.push({ kind: 'other' });
      else if (!name || BAD_NAME.test(name)) return name ? msg('pathExpectedNameGot', { column: at(i), name }) : msg('pathExpectedName', { column: at(i) });
      else segments.push({ kind: 'name', name });
      i = end;
    } else if (ch === '[') {
      const next = path.charAt(i + 1);
      if (next === "'" || next === '"') {
        const close = path.indexOf(next, i + 2);
        if (close < 0 || path.charAt(close + 1) !== ']') return msg('pathUnclosed', { token: `[${next}`, column: at(i) });
        segments.push({ kind: 'name', name: path.slice(i + 2, close) });
        i = close + 2;
      } else if (next === '(' || path.startsWith('?(', i + 1)) {
        const open = next === '(' ? i + 1 : i + 2;
        const close = matchParen(path, open);
        if (close < 0 || path.charAt(close + 1) !== ']') return msg('pathUnclosedFilter', { column: at(i) });
        segments.push({ kind: 'filter', body: path.slice(open + 1, close) });
        i = close + 2;
      } else {
        const close = path.indexOf(']', i);
        const inner = close < 0 ? '' : path.slice(i + 1, close).trim();
        if (!inner) return close < 0 ? msg('pathUnclosed', { token: '[', column: at(i) }) : msg('pathEmptyBrackets', { column: at(i) });
        // `*`, slices `1:3`, unions `0,2`, negative indexes: jsonpath-plus handles them.
        const isSelector = inner === '*' || inner.includes(':') || inner.includes(',') || /^-\d+$/.test(inner);
        segments.push(isSelector ? { kind: 'other' } : { kind: 'name', name: /^\d+$/.test(inner) ? String(Number(inner)) : inner });
        i = close + 1;
      }
    } else if (ch === '^' || ch === '~') {
      segments.push({ kind: 'other' });
      i++;
    } else {
      return msg('pathUnexpected', { char: ch, column: at(i) });
    }
  }
  const blocked = segments.find((s) => s.kind === 'name' && isBlockedKey(s.name));
  if (blocked?.kind === 'name') return msg('pathNotAccessible', { name: blocked.name });
  return segments;
}

function definiteNames(segments: PathSegment[]): string[] | undefined {
  const names: string[] = [];
  for (const segment of segments) {
    if (segment.kind !== 'name') return undefined;
    names.push(segment.name);
  }
  return names;
}

/** jsonpath-plus hands filters over with `@` rewritten to these sandbox names. */
function filterScript(body: string): string {
  return body
    .replaceAll('@parentProperty', '_$_parentProperty')
    .replaceAll('@parent', '_$_parent')
    .replaceAll('@property', '_$_property')
    .replaceAll('@root', '_$_root')
    .replaceAll('@path', '_$_path')
    .replace(/@([.\s)[])/g, '_$_v$1');
}

// jsonpath-plus rethrows filter errors as plain Errors, losing the code (e.g. EXPRESSION_LIMIT), so
// the filter parks the original on the sandbox of the call. The key is registry-wide because
// jsonpath-plus caches the filter callback globally, possibly from another copy of this module.
const FILTER_FAILURE = Symbol.for('flowrun.mapping.filterFailure');

function evaluateFilter(code: string, sandbox: object): unknown {
  try {
    return evaluateExpression(code, sandbox as ExpressionScope);
  } catch (error) {
    if (error instanceof FlowError) (sandbox as Record<symbol, unknown>)[FILTER_FAILURE] = error;
    throw error;
  }
}

function resolvePath(path: string, root: unknown): unknown {
  const segments = tokenizePath(path);
  if (!Array.isArray(segments)) throw new FlowError('INVALID_EXPRESSION', `invalid JSONPath "${path}": ${renderMessage(segments)}`);
  const names = definiteNames(segments);
  if (names) return names.reduce<unknown>((value, name) => (value === null || value === undefined ? undefined : readOwn(value, name)), root);
  if (root === undefined) return [];
  const sandbox: Record<symbol, unknown> = {};
  try {
    // The declared type of `sandbox` (a Map) is wrong: jsonpath-plus uses the object as the filter's scope.
    return JSONPath({ path, json: root as object, wrap: true, eval: evaluateFilter, sandbox: sandbox as unknown as Map<string, unknown> }) as unknown[];
  } catch (error) {
    const failure = sandbox[FILTER_FAILURE];
    if (failure instanceof FlowError) throw failure;
    throw new FlowError('INVALID_EXPRESSION', `JSONPath "${path}" failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function isJsonPath(source: string): boolean {
  return source.trimStart().startsWith('$');
}

/**
 * The property names a JSONPath source starts with, up to its first wildcard, filter, slice, union
 * or `..` (`$.steps.check.q` → `steps`, `check`, `q`); undefined for an expression or a path that
 * does not parse. Definition validation checks the names a source reads through it.
 */
export function jsonPathPrefix(source: string): string[] | undefined {
  if (!isJsonPath(source)) return undefined;
  const segments = tokenizePath(source.trim());
  if (!Array.isArray(segments)) return undefined;
  const names: string[] = [];
  for (const segment of segments) {
    if (segment.kind !== 'name') break;
    names.push(segment.name);
  }
  return names;
}

/**
 * Resolves a mapping source against a scope: a source starting with `$` is JSONPath (a definite
 * path gives its value or `undefined`, any other path the array of matches, e.g.
 * `$.input.items[?(@.qty > 1)]`); anything else is an expression. Throws `INVALID_EXPRESSION`
 * or `EXPRESSION_LIMIT` as {@link evaluateExpression} does.
 */
export function resolveSource(source: string, scope: ExpressionScope): unknown {
  return isJsonPath(source) ? resolvePath(source.trim(), scope) : evaluateExpression(source, scope);
}

/**
 * Checks a mapping source without running it: `undefined` when it is a valid JSONPath (filters
 * included) or expression, else the message, for definition validation.
 */
export function checkMappingSource(source: string): string | undefined {
  const problem = mappingSourceProblem(source);
  return problem === undefined ? undefined : renderMessage(problem);
}

/** As {@link checkMappingSource}, the problem as a keyed message (validation/messages.ts) when it has one. */
export function mappingSourceProblem(source: string): IssueMessage | undefined {
  if (!isJsonPath(source)) return expressionProblem(source);
  const segments = tokenizePath(source.trim());
  if (!Array.isArray(segments)) return msg('invalidJsonPath', { source, problem: segments });
  for (const segment of segments) {
    if (segment.kind !== 'filter') continue;
    const problem = expressionProblem(filterScript(segment.body));
    if (problem) return msg('invalidJsonPathFilter', { source, problem });
  }
  return undefined;
}

/**
 * Parses a context target: `$.vars.x`, `$.flow_variables.x`, `vars.x.y`, `$.outputs.lines`,
 * `$['vars']['a b']` → the root (`flow_variables` normalized to `vars`) and the path below it.
 * Returns an error message for any other root, a wildcard/filter/slice, an empty path, or a
 * prototype key (`__proto__`, `constructor`, `prototype`).
 */
export function parseContextTarget(target: string): { root: 'vars' | 'outputs'; path: string[] } | string {
  const parsed = readContextTarget(target);
  return 'key' in parsed ? renderMessage(parsed) : parsed;
}

/** As {@link parseContextTarget}, what is wrong as a keyed message (validation/messages.ts). */
export function readContextTarget(target: string): { root: 'vars' | 'outputs'; path: string[] } | LocalizableMessage {
  const trimmed = typeof target === 'string' ? target.trim() : '';
  if (!trimmed) return msg('targetEmpty');
  const prefixed = !trimmed.startsWith('$');
  const segments = tokenizePath(prefixed ? `$.${trimmed}` : trimmed, prefixed ? 2 : 0);
  if (!Array.isArray(segments)) return msg('targetInvalid', { target, problem: segments });
  const names = definiteNames(segments);
  if (!names) return msg('targetNotOnePlace', { target });
  const [first, ...path] = names;
  const root = first === 'vars' || first === 'flow_variables' ? 'vars' : first === 'outputs' ? 'outputs' : undefined;
  if (!root) return first === undefined ? msg('targetRoot', { target }) : msg('targetRootNot', { target, first });
  if (path.length === 0) return msg('targetNoVariable', { target, root });
  return { root, path };
}

/** Deep-copies data crossing a mapping; a function or other non-data value is refused. */
function copyData(value: unknown, what: string): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw new FlowError('INVALID_INPUT', `${what}: a ${typeof value} is not data`);
    return value;
  }
  try {
    return structuredClone(value);
  } catch (error) {
    throw new FlowError('INVALID_INPUT', `${what}: the value is not data (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

/** Sets `segments` below `root`, replacing missing or non-object intermediate values with `{}`. */
function setPath(root: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = root;
  for (const key of segments.slice(0, -1)) {
    let next = readOwn(node, key);
    if (typeof next !== 'object' || next === null) {
      next = {};
      node[key] = next;
    }
    node = next as Record<string, unknown>;
  }
  // Segments were checked against isBlockedKey, so this creates or replaces an own data property.
  node[segments[segments.length - 1] as string] = value;
}

/**
 * Writes a copy of `value` at a context target (`$.vars.x.y`, `outputs.lines`), creating
 * intermediate objects (a non-object in the way is replaced). Throws
 * `FlowError('INVALID_DEFINITION')` for a target {@link parseContextTarget} rejects, which
 * includes any `__proto__`/`constructor`/`prototype` segment.
 */
export function writeContextTarget(ctx: StepContext, target: string, value: unknown): void {
  const { root, path } = checkedTarget(target);
  setPath(ctx[root], path, copyData(value, `target "${target}"`));
}

function checkedTarget(target: string): { root: 'vars' | 'outputs'; path: string[] } {
  const parsed = parseContextTarget(target);
  if (typeof parsed === 'string') throw new FlowError('INVALID_DEFINITION', parsed);
  return parsed;
}

/**
 * Sets a dotted path in a step input (`initialContextData.orderDetails`), creating intermediate
 * objects and replacing a non-object in the way (a mapping wins over a literal). Throws
 * `FlowError('INVALID_DEFINITION')` for an empty segment or a prototype key.
 */
export function setInputPath(obj: Record<string, unknown>, dottedPath: string, value: unknown): void {
  const segments = dottedPath.split('.');
  if (segments.some((segment) => segment === '')) {
    throw new FlowError('INVALID_DEFINITION', `input mapping target "${dottedPath}" has an empty segment`);
  }
  const blocked = segments.find(isBlockedKey);
  if (blocked !== undefined) throw new FlowError('INVALID_DEFINITION', `input mapping target "${dottedPath}" may not contain "${blocked}"`);
  setPath(obj, segments, value);
}

function inMapping<T>(where: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof FlowError)) throw error;
    throw new FlowError(error.code, `${where}: ${error.message}`, { cause: error, ...(error.details ? { details: error.details } : {}) });
  }
}

/**
 * Builds a step's input: a deep copy of `literals`, then each `inputMappings` entry
 * (dotted target ← source resolved with {@link resolveSource}) applied on top, so a mapping wins
 * over a literal on the same path and literals elsewhere in the same object are kept.
 *
 * @example buildStepInput({ literals: { flowVersion: 'LATEST_PUBLISHED' },
 *   inputMappings: { 'initialContextData.orderDetails': '$.currentItem' } }, contextScope(ctx))
 */
export function buildStepInput(
  step: { literals?: Record<string, unknown>; inputMappings?: Record<string, string> },
  scope: ExpressionScope,
): Record<string, unknown> {
  const input = step.literals ? (copyData(step.literals, 'literals') as Record<string, unknown>) : {};
  for (const [target, source] of Object.entries(step.inputMappings ?? {})) {
    inMapping(`inputMappings["${target}"]`, () => setInputPath(input, target, copyData(resolveSource(source, scope), target)));
  }
  return input;
}

/**
 * Copies parts of a step's output into the context. For each `target → source`: a `$` source is
 * JSONPath over the OUTPUT (`"$.flow_variables.child_flow_id": "$.startedFlowExecutionId"`); any
 * other source is an expression over the context scope plus `output`. All sources are resolved
 * and all targets checked before anything is written, so a failing mapping writes nothing. Each
 * value is held to `ctx.limits.maxResultBytes` of JSON (LIMIT_EXCEEDED). Returns the bytes written.
 */
export function applyOutputMappings(step: { outputMappings?: Record<string, string> }, output: unknown, ctx: StepContext): number {
  const entries = Object.entries(step.outputMappings ?? {});
  if (entries.length === 0) return 0;
  const maxBytes = ctx.limits?.maxResultBytes ?? DEFAULT_BUDGETS.maxValueBytes;
  let bytes = 0;
  const scope = buildScope(ctx, { output });
  const writes = entries.map(([target, source]) =>
    inMapping(`outputMappings["${target}"]`, () => {
      const { root, path } = checkedTarget(target);
      const value = isJsonPath(source) ? resolvePath(source.trim(), output) : evaluateExpression(source, scope);
      bytes += checkValueBytes(value, maxBytes, `the value mapped to "${target}"`);
      return { root, path, value: copyData(value, `target "${target}"`) };
    }),
  );
  for (const { root, path, value } of writes) setPath(ctx[root], path, value);
  return bytes;
}
