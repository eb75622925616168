/**
 * The evaluator: a walk over the checked tree from `parse-expression.ts`. It reads the scope as
 * data (own properties only), calls nothing but the built-ins, and charges every visit to the
 * budget. Recursion follows the tree, whose depth the parser already bounded.
 */
import type { Budget } from './budget.js';
import { callFunction, callMethod, toNumber } from './builtins.js';
import type { BinaryOperator, ExprNode } from './parse-expression.js';
import { deepEqual, describeType, hasOwn, isBlockedKey, readOwn, toText } from './values.js';

/** The names an expression can read: `input`, `vars`, `steps`… mapped to their values. */
export type ExpressionScope = Record<string, unknown>;

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

function isPrimitive(value: unknown): value is Primitive {
  return (typeof value !== 'object' || value === null) && typeof value !== 'function';
}

function toKey(value: unknown, budget: Budget): string {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw budget.fail(`a property name must be a string or a number, got ${describeType(value)}`);
  if (isBlockedKey(value)) throw budget.fail(`property "${value}" is not accessible`);
  return value;
}

function add(left: unknown, right: unknown, budget: Budget): unknown {
  if (typeof left === 'number' && typeof right === 'number') return left + right;
  if (typeof left === 'string' || typeof right === 'string' || !isPrimitive(left) || !isPrimitive(right)) {
    const a = toText(left, budget);
    const b = toText(right, budget);
    // Checked before concatenating, so a doubling loop stops at the limit instead of past it.
    budget.checkString(a.length + b.length);
    return a + b;
  }
  return toNumber(left, '+', budget) + toNumber(right, '+', budget);
}

function compare(op: '<' | '<=' | '>' | '>=', left: unknown, right: unknown, budget: Budget): boolean {
  if (!isPrimitive(left) || !isPrimitive(right)) {
    throw budget.fail(`cannot compare ${describeType(left)} with ${describeType(right)} using ${op}`);
  }
  // Primitives compare as in JavaScript: strings by code unit, everything else as numbers.
  const [a, b] = [left as number, right as number];
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
  }
}

function binary(op: BinaryOperator, left: unknown, right: unknown, budget: Budget): unknown {
  switch (op) {
    case '+': return add(left, right, budget);
    case '-': return toNumber(left, '-', budget) - toNumber(right, '-', budget);
    case '*': return toNumber(left, '*', budget) * toNumber(right, '*', budget);
    case '/': return toNumber(left, '/', budget) / toNumber(right, '/', budget);
    case '%': return toNumber(left, '%', budget) % toNumber(right, '%', budget);
    // Loose equality only between primitives (`1 == "1"`); objects never coerce, they compare by identity.
    case '==': return isPrimitive(left) && isPrimitive(right) ? left == right : left === right;
    case '!=': return isPrimitive(left) && isPrimitive(right) ? left != right : left !== right;
    case '===': return left === right;
    case '!==': return left !== right;
    case 'is': return deepEqual(left, right, budget);
    case 'is not': return !deepEqual(left, right, budget);
    case '<': case '<=': case '>': case '>=': return compare(op, left, right, budget);
    // Short-circuit operators never reach here; see evaluateChain.
    case '&&': case '||': case '??': return undefined;
  }
}

function evaluateChain(node: Extract<ExprNode, { kind: 'chain' }>, scope: ExpressionScope, budget: Budget): unknown {
  let value = evaluateNode(node.first, scope, budget);
  for (const { op, operand } of node.rest) {
    if (op === '&&') {
      if (value) value = evaluateNode(operand, scope, budget);
    } else if (op === '||') {
      if (!value) value = evaluateNode(operand, scope, budget);
    } else if (op === '??') {
      if (value === null || value === undefined) value = evaluateNode(operand, scope, budget);
    } else {
      value = binary(op, value, evaluateNode(operand, scope, budget), budget);
    }
  }
  return value;
}

/**
 * Evaluates one node against the scope. An unknown top-level name throws `INVALID_EXPRESSION`
 * (a typo must not read as "absent"); a member of `null`/`undefined` is `undefined`, as with `?.`.
 */
export function evaluateNode(node: ExprNode, scope: ExpressionScope, budget: Budget): unknown {
  budget.step();
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'name':
      if (!hasOwn(scope, node.name)) {
        const known = Object.keys(scope).slice(0, 12).join(', ');
        throw budget.fail(`unknown name "${node.name}"${known ? ` (known names: ${known})` : ''}`);
      }
      return readOwn(scope, node.name);
    case 'member': {
      const target = evaluateNode(node.object, scope, budget);
      const key = typeof node.key === 'string' ? node.key : toKey(evaluateNode(node.key, scope, budget), budget);
      return target === null || target === undefined ? undefined : readOwn(target, key);
    }
    case 'chain':
      return evaluateChain(node, scope, budget);
    case 'unary': {
      const operand = evaluateNode(node.operand, scope, budget);
      if (node.op === '!') return !operand;
      const number = toNumber(operand, node.op, budget);
      return node.op === '-' ? -number : number;
    }
    case 'conditional':
      return evaluateNode(node.test, scope, budget) ? evaluateNode(node.then, scope, budget) : evaluateNode(node.otherwise, scope, budget);
    case 'array':
      budget.checkArray(node.elements.length);
      return node.elements.map((element) => evaluateNode(element, scope, budget));
    case 'object': {
      const result: Record<string, unknown> = {};
      for (const entry of node.entries) {
        // toKey refuses `__proto__`, so this assignment always creates an own data property.
        const key = typeof entry.key === 'string' ? entry.key : toKey(evaluateNode(entry.key, scope, budget), budget);
        result[key] = evaluateNode(entry.value, scope, budget);
      }
      return result;
    }
    case 'template': {
      let text = '';
      for (const part of node.parts) {
        const piece = typeof part === 'string' ? part : toText(evaluateNode(part, scope, budget), budget);
        budget.checkString(text.length + piece.length);
        text += piece;
      }
      return text;
    }
    case 'call':
      return callFunction(node.name, node.args.map((arg) => evaluateNode(arg, scope, budget)), budget);
    case 'method': {
      const receiver = evaluateNode(node.receiver, scope, budget);
      return callMethod(receiver, node.name, node.args.map((arg) => evaluateNode(arg, scope, budget)), budget);
    }
  }
}
