/**
 * Checks of what expressions and mapping sources read (issue 14): a reference to a step, var or
 * output that does not exist (`steps.zzz.q`) is a definition error naming the path and the
 * closest known name — at run time it would read `undefined` and the run would go on with it.
 *
 * Only what is certainly wrong is an error. A step's expressions see the steps of its own graph
 * (each `run` of a subflow starts a frame with no step outputs, a `goto` replaces the frame), the
 * declared vars and outputs when the flow declares them (a target must name a declared one, so
 * nothing else is ever written), and the context roots (`input`, `item`, `event`, `run`,
 * `settings`, their aliases and `$`). `input`, `item`, `event`, `run` and `settings` carry data
 * only known at run time: what is read below them is not checked, except that `input.x` naming no
 * param of an action that declares params is a warning (undeclared input passes through binding).
 * JSONPath sources of `outputMappings` read the step's output and are not checked.
 */
import { joinPath } from '../describe-value.js';
import { parseExpression, type ExprNode } from '../expression/parse-expression.js';
import { jsonPathPrefix } from '../mapping.js';
import { didYouMean, suggestion } from './did-you-mean.js';
import { isObj, list, type Obj } from './field-checker.js';
import { msg, namesValue, type IssueMessage } from './messages.js';

/** What the expressions of one step graph may read. */
export interface ReferenceScope {
  /** The steps of the graph; undefined when `steps` is malformed (not checked). */
  stepNames: readonly string[] | undefined;
  /** Declared vars and outputs; undefined when undeclared (anything goes) or malformed. */
  vars: Obj | undefined;
  outputs: Obj | undefined;
  /** The action's declared params; undefined in a subflow (an action's or an event's input) or when undeclared. */
  params: Obj | undefined;
}

/** Where problems go: errors fail validation, warnings are reported beside a valid definition. */
export interface ReferenceReport {
  error(path: string, message: IssueMessage): void;
  warn(path: string, message: IssueMessage): void;
}

/** The names an expression starts from, aliases mapped to their root. */
const ROOTS: Readonly<Record<string, string>> = {
  input: 'input', vars: 'vars', flow_variables: 'vars', outputs: 'outputs', steps: 'steps', steps_output: 'steps',
  item: 'item', currentItem: 'item', event: 'event', schedule: 'schedule', run: 'run', settings: 'settings',
};

/** Checks every expression and mapping source of one step against `scope`. Never throws. */
export function checkStepReferences(step: Obj, path: string, scope: ReferenceScope, report: ReferenceReport): void {
  const check = (source: unknown, at: string, extraRoots: readonly string[] = []): void => {
    if (typeof source === 'string') checkSource(source, at, { ...scope, extraRoots }, report);
  };
  for (const key of ['expression', 'task', 'payload']) check(step[key], joinPath(path, key));
  if (Array.isArray(step.transitions)) {
    step.transitions.forEach((t, i) => isObj(t) && check(t.condition, joinPath(`${joinPath(path, 'transitions')}[${i}]`, 'condition')));
  }
  for (const key of ['match', 'inputMappings']) {
    const map = step[key];
    if (isObj(map)) for (const [name, source] of Object.entries(map)) check(source, joinPath(joinPath(path, key), name));
  }
  if (isObj(step.outputMappings)) {
    for (const [target, source] of Object.entries(step.outputMappings)) {
      // A JSONPath source reads the step's output; an expression reads the context and `output`.
      if (typeof source === 'string' && jsonPathPrefix(source) === undefined) check(source, joinPath(joinPath(path, 'outputMappings'), target), ['output']);
    }
  }
}

type SourceScope = ReferenceScope & { extraRoots: readonly string[] };

function checkSource(source: string, at: string, scope: SourceScope, report: ReferenceReport): void {
  const prefix = jsonPathPrefix(source);
  if (prefix !== undefined) {
    checkPath(['$', ...prefix], { source, at, jsonPath: true }, scope, report);
    return;
  }
  for (const names of namesRead(source)) checkPath(names, { source, at, jsonPath: false }, scope, report);
}

/** The name chains each expression reads, by source: inline flows are validated at every start. */
const readsBySource = new Map<string, string[][]>();

function namesRead(source: string): string[][] {
  const cached = readsBySource.get(source);
  if (cached) return cached;
  const reads: string[][] = [];
  try {
    walk(parseExpression(source).root, (names) => reads.push(names));
  } catch {
    return reads; // Reported by the expression check.
  }
  // Bounded like the expression cache; very long sources are not kept.
  if (source.length <= 10_000) {
    if (readsBySource.size >= 10_000) readsBySource.delete(readsBySource.keys().next().value as string);
    readsBySource.set(source, reads);
  }
  return reads;
}

/** Calls `visit` with the names of every `name.key.key` chain in the tree (static keys only, up to the first computed one). */
function walk(node: ExprNode, visit: (names: string[]) => void): void {
  const stack: ExprNode[] = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    switch (n.kind) {
      case 'name':
        visit([n.name]);
        break;
      case 'member': {
        const keys: string[] = [];
        let base: ExprNode = n;
        while (base.kind === 'member') {
          if (typeof base.key === 'string') keys.unshift(base.key);
          else {
            stack.push(base.key);
            keys.length = 0; // Only the static keys right after the name are known.
          }
          base = base.object;
        }
        if (base.kind === 'name') visit([base.name, ...keys]);
        else stack.push(base);
        break;
      }
      case 'chain':
        stack.push(n.first, ...n.rest.map((r) => r.operand));
        break;
      case 'unary':
        stack.push(n.operand);
        break;
      case 'conditional':
        stack.push(n.test, n.then, n.otherwise);
        break;
      case 'array':
        stack.push(...n.elements);
        break;
      case 'object':
        for (const e of n.entries) stack.push(...(typeof e.key === 'string' ? [] : [e.key]), e.value);
        break;
      case 'template':
        for (const p of n.parts) if (typeof p !== 'string') stack.push(p);
        break;
      case 'call':
        stack.push(...n.args);
        break;
      case 'method':
        stack.push(n.receiver, ...n.args);
        break;
      case 'literal':
        break;
    }
  }
}

function checkPath(names: string[], where: { source: string; at: string; jsonPath: boolean }, scope: SourceScope, report: ReferenceReport): void {
  let [first, ...rest] = names;
  if (first === '$') {
    if (rest.length === 0) return;
    [first, ...rest] = rest;
  }
  if (first === undefined) return;
  const quoted = `"${where.source.length > 80 ? `${where.source.slice(0, 77)}…` : where.source}"`;
  const knownRoots = [...Object.keys(ROOTS), ...scope.extraRoots];
  if (!Object.hasOwn(ROOTS, first)) {
    if (scope.extraRoots.includes(first)) return;
    const values = { name: first, source: quoted, suggestion: suggestion(first, knownRoots), roots: namesValue(knownRoots) };
    report.error(where.at, msg(where.jsonPath ? 'unknownRoot' : 'unknownName', values));
    return;
  }
  const root = ROOTS[first]!;
  const name = rest[0];
  if (name === undefined) return;
  const written = `${first}.${name}`;
  if (root === 'steps' && scope.stepNames && !scope.stepNames.includes(name)) {
    report.error(where.at, msg('noSuchStep', { written, source: quoted, suggestion: suggestion(name, scope.stepNames), known: namesValue(scope.stepNames) }));
  } else if ((root === 'vars' || root === 'outputs') && scope[root] && !Object.hasOwn(scope[root], name)) {
    const declared = Object.keys(scope[root]);
    const kind = root === 'vars' ? 'var' : 'output';
    report.error(where.at, `"${written}" in ${quoted} names no declared ${kind}${didYouMean(name, declared)}; declared ${kind}s: ${list(declared)}`);
  } else if (root === 'input' && scope.params && !Object.hasOwn(scope.params, name)) {
    const params = Object.keys(scope.params);
    report.warn(where.at, msg('noSuchParam', { written, source: quoted, suggestion: suggestion(name, params), known: namesValue(params) }));
  }
}
