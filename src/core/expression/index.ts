/**
 * The expression language of flows: a safe subset of JavaScript for conditions, computed values,
 * object templates and `${}` text (DESIGN.md §2).
 *
 * - Literals: numbers, strings in any quotes (a string containing `${expr}` is a template, `\${`
 *   is a literal `${`), `true`, `false`, `null`, `undefined`, arrays and objects
 *   (`{report: "x" + a, "quoted key": 1, [computed]: 2}`).
 * - Names are looked up in the scope; a name the scope lacks throws `INVALID_EXPRESSION`
 *   (a typo must not read as "absent"). Member access (`a.b`, `a["b"]`, `a[0]`) reads own data
 *   properties only and yields `undefined` on `null`/`undefined`, like `?.`, so optional inputs
 *   read as `undefined`. `__proto__`, `constructor`, `prototype` and friends are refused.
 * - Operators: `+ - * / %`, `== != === !== < <= > >=`, `&& || ! ??`, `?:`; the words `and`, `or`,
 *   `not` are aliases of `&& || !`; `a is b` is deep equality and `a is not b` its negation
 *   (`not` right after `is` always negates the comparison; write `a is !b` to compare with a negation).
 *   `==` coerces only between primitives; arithmetic and `<` refuse arrays and objects.
 * - Calls: `String Number Boolean len JSON.stringify JSON.parse Math.min/max/round/floor/ceil/abs
 *   Object.keys/values`, string methods `toUpperCase toLowerCase trim includes startsWith endsWith
 *   indexOf slice split replace repeat` (`replace` takes its replacement literally), array methods
 *   `includes indexOf join slice concat`. On `null`/`undefined` a method yields `undefined`, `len`
 *   gives 0 and `Object.keys/values` give `[]`; `len` of an object counts its keys.
 * - Nothing else: no `this`, `new`, assignment, arrow functions, or any other call; no clock.
 *   Every evaluation is bounded by {@link ExpressionLimits}.
 */
import { FlowError, ValidationError } from '../errors.js';
import { checkValueBytes } from '../json-size.js';
import { Budget, excerpt, type ExpressionLimits } from './budget.js';
import { evaluateNode, type ExpressionScope } from './evaluate-node.js';
import { MAX_NESTING, parseExpression, scanNesting, type ParsedExpression } from './parse-expression.js';
import { toText } from './values.js';
import { messageOf, msg, renderMessage, type IssueMessage } from '../validation/messages.js';

export type { ExpressionLimits } from './budget.js';
export type { ExpressionScope } from './evaluate-node.js';

/** A compiled expression: parse once, evaluate against many scopes. */
export interface Expression {
  /** The text it was compiled from. */
  readonly source: string;
  /**
   * Evaluates against `scope` within `limits`. Throws `FlowError('INVALID_EXPRESSION')` for a
   * runtime error (unknown name, wrong type, a failing built-in), `FlowError('EXPRESSION_LIMIT')`
   * when a limit is exceeded and `LIMIT_EXCEEDED` when the result is larger than `maxResultBytes`
   * of JSON; never runs code outside the whitelist. Without `limits`, those the scope carries
   * ({@link withLimits}) apply, else the defaults.
   */
  evaluate(scope: ExpressionScope, limits?: ExpressionLimits): unknown;
}

/** A Map that forgets its oldest entry when full, so caching by user-supplied text stays bounded. */
class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: V): void {
    // Very long texts are compiled every time rather than pinned in memory.
    if (key.length > 10_000) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
  }
}

class CompiledExpression implements Expression {
  constructor(
    readonly source: string,
    private readonly parsed: ParsedExpression,
  ) {}

  evaluate(scope: ExpressionScope, limits: ExpressionLimits | undefined = scopeLimits(scope)): unknown {
    const budget = new Budget(this.source, limits);
    const result = this.evaluateWithin(scope, budget);
    // A string is measured only when it could be over the bound (6 bytes per character at most).
    if ((typeof result === 'object' && result !== null) || (typeof result === 'string' && result.length * 6 + 2 > budget.maxResultBytes)) checkValueBytes(result, budget.maxResultBytes, `the result of expression "${excerpt(this.source)}"`);
    return result;
  }

  /** Evaluates sharing a budget with others (the `${}` parts of one interpolated text). */
  evaluateWithin(scope: ExpressionScope, budget: Budget): unknown {
    budget.source = this.source;
    budget.checkDepth(this.parsed.depth);
    try {
      return evaluateNode(this.parsed.root, scope, budget);
    } catch (error) {
      if (error instanceof FlowError) throw error;
      // Stack exhaustion inside a native (JSON.stringify of deeply nested data) or a throwing getter in host data.
      if (error instanceof RangeError) throw budget.limit('maxDepth', budget.maxDepth, `levels of nesting (${error.message})`);
      throw budget.fail(error instanceof Error ? error.message : String(error));
    }
  }
}

/** Where {@link withLimits} keeps a scope's limits: a symbol, so no expression can name or list it. */
const SCOPE_LIMITS = Symbol('flowrun.expressionLimits');

/**
 * Attaches `limits` to `scope` (hidden: not enumerable, not a name expressions can read), so every
 * evaluation against this scope that is given no limits of its own uses them. The engine puts its
 * budgets on each step's scope this way; returns `scope`.
 */
export function withLimits<S extends ExpressionScope>(scope: S, limits: ExpressionLimits): S {
  Object.defineProperty(scope, SCOPE_LIMITS, { value: limits, enumerable: false });
  return scope;
}

function scopeLimits(scope: ExpressionScope): ExpressionLimits | undefined {
  return (scope as { [SCOPE_LIMITS]?: ExpressionLimits })[SCOPE_LIMITS];
}

const expressions = new BoundedCache<CompiledExpression>(10_000);
const interpolations = new BoundedCache<(string | CompiledExpression)[]>(10_000);

/**
 * Compiles an expression. The result is cached by source text (10,000 entries), so calling this
 * for every step execution is cheap. Throws `ValidationError('INVALID_EXPRESSION')` whose message
 * says what is wrong and at which column, or `FlowError('EXPRESSION_LIMIT')` when the source nests
 * deeper than 64 levels.
 *
 * @example compileExpression('input.report_type is "summary"').evaluate({ input }) // → true / false
 */
export function compileExpression(source: string): Expression {
  return compile(source);
}

function compile(source: string): CompiledExpression {
  if (typeof source !== 'string') {
    throw new ValidationError('INVALID_EXPRESSION', [{ path: '', message: `an expression must be a string, got ${typeof source}` }]);
  }
  const cached = expressions.get(source);
  if (cached) return cached;
  const compiled = new CompiledExpression(source, parseExpression(source));
  expressions.set(source, compiled);
  return compiled;
}

/**
 * Checks that an expression compiles: `undefined` when it does, else the message (with its column),
 * for definition validation to report.
 */
export function checkExpression(source: string): string | undefined {
  const problem = expressionProblem(source);
  return problem === undefined ? undefined : renderMessage(problem);
}

/**
 * As {@link checkExpression}, the problem as a keyed message (validation/messages.ts) when it has
 * one, so a front end can say it in another language; its English rendering is checkExpression's.
 */
export function expressionProblem(source: string): IssueMessage | undefined {
  try {
    compile(source);
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError && error.issues.length === 1) return messageOf(error.issues[0]!);
    if (error instanceof FlowError && error.code === 'EXPRESSION_LIMIT') return msg('exprIn', { problem: msg('exprTooDeep', { bound: MAX_NESTING }), source: excerpt(source) });
    return error instanceof Error ? error.message : String(error);
  }
}

/** Compiles (cached) and evaluates an expression in one call; throws as {@link Expression.evaluate} does. */
export function evaluateExpression(source: string, scope: ExpressionScope, limits?: ExpressionLimits): unknown {
  return compile(source).evaluate(scope, limits);
}

/** Splits plain text into literal pieces and compiled `${}` parts. */
function compileInterpolation(text: string): (string | CompiledExpression)[] {
  const cached = interpolations.get(text);
  if (cached) return cached;
  const parts: (string | CompiledExpression)[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    if (text.startsWith('\\${', index)) {
      literal += '${';
      index += 3;
    } else if (text.startsWith('${', index)) {
      const end = scanNesting(text, index + 2, true);
      if (end < 0) throw new ValidationError('INVALID_EXPRESSION', [{ path: '', message: `unclosed "\${" at column ${index + 1} in "${excerpt(text)}"` }]);
      try {
        parts.push(literal, compile(text.slice(index + 2, end)));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new ValidationError('INVALID_EXPRESSION', [{ path: '', message: `in \${} at column ${index + 1}: ${error.message}` }]);
      }
      literal = '';
      index = end + 1;
    } else {
      literal += text.charAt(index++);
    }
  }
  parts.push(literal);
  interpolations.set(text, parts);
  return parts;
}

/**
 * Replaces every `${expr}` in plain text with the expression's value as text (`String()` rules:
 * an object gives `[object Object]`, so use `JSON.stringify` for data); `\${` stays a literal `${`
 * and nothing else in the text is an escape. All parts share one budget, and the whole result is
 * held to `maxStringLength`.
 *
 * @example interpolate('Order ${event.order_id} for ${input.customer.name}', scope)
 */
export function interpolate(text: string, scope: ExpressionScope, limits: ExpressionLimits | undefined = scopeLimits(scope)): string {
  const parts = compileInterpolation(text);
  const budget = new Budget(text, limits);
  let result = '';
  for (const part of parts) {
    const piece = typeof part === 'string' ? part : toText(part.evaluateWithin(scope, budget), budget);
    budget.checkString(result.length + piece.length);
    result += piece;
  }
  return result;
}

