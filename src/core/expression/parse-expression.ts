/**
 * Parsing: expression text → a small tree of {@link ExprNode}s that the evaluator trusts. jsep
 * does the tokenizing and precedence; this file adds the flow language's words (`is`, `is not`,
 * `and`, `or`, `not`), strings with `${}` inside, and then checks every construct against the
 * whitelist, so a definition with `this`, a call to `eval` or `x.constructor` is refused when it is
 * validated rather than when it runs.
 *
 * jsep keeps its operators and hooks in one module-wide table, so loading this file adds them
 * for every jsep user in the process (jsonpath-plus bundles its own copy and is not affected).
 */
import jsep from 'jsep';
import jsepObject from '@jsep-plugin/object';
import { FlowError, ValidationError } from '../errors.js';
import { DEFAULT_LIMITS, excerpt } from './budget.js';
import { FUNCTIONS, METHOD_NAMES, NAMESPACES } from './builtins.js';
import { issueOf, msg, renderMessage, type IssueMessage, type LocalizableMessage } from '../validation/messages.js';
import { isBlockedKey } from './values.js';

/** The binary operators after aliases are resolved (`and` → `&&`, `or` → `||`). */
export type BinaryOperator =
  | '+' | '-' | '*' | '/' | '%'
  | '==' | '!=' | '===' | '!==' | '<' | '<=' | '>' | '>='
  | '&&' | '||' | '??' | 'is' | 'is not';

/** A checked expression tree. A run of binary operators is one `chain`, evaluated left to right without recursion. */
export type ExprNode =
  | { kind: 'literal'; value: unknown }
  | { kind: 'name'; name: string }
  | { kind: 'member'; object: ExprNode; key: string | ExprNode }
  | { kind: 'chain'; first: ExprNode; rest: { op: BinaryOperator; operand: ExprNode }[] }
  | { kind: 'unary'; op: '!' | '-' | '+'; operand: ExprNode }
  | { kind: 'conditional'; test: ExprNode; then: ExprNode; otherwise: ExprNode }
  | { kind: 'array'; elements: ExprNode[] }
  | { kind: 'object'; entries: { key: string | ExprNode; value: ExprNode }[] }
  | { kind: 'template'; parts: (string | ExprNode)[] }
  | { kind: 'call'; name: string; args: ExprNode[] }
  | { kind: 'method'; receiver: ExprNode; name: string; args: ExprNode[] };

/** A parsed expression and how deeply its tree nests. */
export interface ParsedExpression {
  readonly root: ExprNode;
  readonly depth: number;
}

/** The deepest nesting the parser accepts, brackets or tree levels (the default `maxDepth`). */
export const MAX_NESTING = DEFAULT_LIMITS.maxDepth;

const BINARY_OPERATORS: ReadonlyMap<string, BinaryOperator> = new Map<string, BinaryOperator>([
  ...(['+', '-', '*', '/', '%', '==', '!=', '===', '!==', '<', '<=', '>', '>=', '&&', '||', '??', 'is'] as const).map(
    (op): [string, BinaryOperator] => [op, op],
  ),
  ['and', '&&'],
  ['or', '||'],
]);
const UNARY_OPERATORS: ReadonlyMap<string, '!' | '-' | '+'> = new Map([['!', '!'], ['not', '!'], ['-', '-'], ['+', '+']]);

const QUOTES = new Set([34, 39, 96]); // " ' `
const ESCAPES: ReadonlyMap<string, string> = new Map([['n', '\n'], ['r', '\r'], ['t', '\t'], ['b', '\b'], ['f', '\f'], ['v', '\v'], ['0', '\0']]);

/** A string literal with `${…}` inside (jsep has no node for it). */
interface TemplateString extends jsep.Expression {
  type: 'TemplateString';
  parts: (string | jsep.Expression)[];
}

/**
 * Reads a quoted string (any of the three quotes). `${expr}` inside makes it a template whose
 * parts are parsed right here, so the expression may itself contain quotes; `\${` is a literal `${`.
 */
function gobbleString(this: jsep.HookScope, env: { node?: jsep.Expression }): void {
  const quote = this.code;
  if (!QUOTES.has(quote)) return;
  const start = this.index++;
  const parts: (string | jsep.Expression)[] = [];
  let text = '';
  for (;;) {
    if (this.index >= this.expr.length) this.throwError(`Unclosed quote ${String.fromCharCode(quote)}`);
    const ch = this.expr.charAt(this.index);
    if (this.code === quote) {
      this.index++;
      break;
    }
    if (ch === '\\') {
      text += readEscape(this);
    } else if (ch === '$' && this.expr.charAt(this.index + 1) === '{') {
      this.index += 2;
      parts.push(text);
      text = '';
      const inner = this.gobbleExpression() as jsep.Expression | false;
      if (!inner) this.throwError('Expected an expression inside ${}');
      if (this.code !== 125) this.throwError('Expected } to close ${');
      this.index++;
      parts.push(inner);
    } else {
      text += ch;
      this.index++;
    }
  }
  parts.push(text);
  const node: jsep.Expression =
    parts.length === 1 ? { type: 'Literal', value: text, raw: this.expr.slice(start, this.index) } : ({ type: 'TemplateString', parts } as TemplateString);
  env.node = this.gobbleTokenProperty(node);
}

function readEscape(scope: jsep.HookScope): string {
  const ch = scope.expr.charAt(scope.index + 1);
  scope.index += 2;
  const simple = ESCAPES.get(ch);
  if (simple !== undefined) return simple;
  if (ch !== 'x' && ch !== 'u') return ch;
  const pattern = ch === 'x' ? /^[0-9a-fA-F]{2}/ : /^(?:[0-9a-fA-F]{4}|\{[0-9a-fA-F]{1,6}\})/;
  const digits = pattern.exec(scope.expr.slice(scope.index, scope.index + 8))?.[0];
  if (!digits) scope.throwError(`Invalid \\${ch} escape`);
  const code = Number.parseInt(digits.replace(/[{}]/g, ''), 16);
  if (code > 0x10ffff) scope.throwError('Invalid \\u escape');
  scope.index += digits.length;
  return String.fromCodePoint(code);
}

jsep.plugins.register(jsepObject, {
  name: 'flowrun-strings',
  init: () => jsep.hooks.add('gobble-token', gobbleString),
});
jsep.addBinaryOp('is', 6); // same precedence as ==
jsep.addBinaryOp('and', 2); // as &&
jsep.addBinaryOp('or', 1); // as ||
jsep.addUnaryOp('not'); // as !

/**
 * Walks source text tracking quotes, brackets and `${`, and throws `EXPRESSION_LIMIT` once they
 * nest deeper than {@link MAX_NESTING}: jsep parses recursively, so `((((…))))` ten thousand deep
 * must be refused before it reaches it. With `untilBrace`, returns the index of the `}` that
 * closes an enclosing `${` (or -1); otherwise `source.length`. Mismatched brackets are left for
 * jsep to report.
 */
export function scanNesting(source: string, start: number, untilBrace: boolean): number {
  const stack: string[] = [];
  for (let i = start; i < source.length; i++) {
    const ch = source.charAt(i);
    const top = stack[stack.length - 1];
    if (top === '"' || top === "'" || top === '`') {
      if (ch === '\\') i++;
      else if (ch === top) stack.pop();
      else if (ch === '$' && source.charAt(i + 1) === '{') {
        stack.push('${');
        i++;
      }
    } else if (ch === '"' || ch === "'" || ch === '`' || ch === '(' || ch === '[' || ch === '{') {
      stack.push(ch);
    } else if (ch === ')' || ch === ']' || ch === '}') {
      if (stack.length === 0) return untilBrace ? (ch === '}' ? i : -1) : source.length;
      stack.pop();
    }
    if (stack.length > MAX_NESTING) {
      throw new FlowError('EXPRESSION_LIMIT', `expression exceeded maxDepth: more than ${MAX_NESTING} levels of nesting at column ${i + 1} in "${excerpt(source)}"`, {
        details: { limit: 'maxDepth', bound: MAX_NESTING, expression: source },
      });
    }
  }
  return untilBrace ? -1 : source.length;
}

/** Where a word first appears in the source (1-based), for errors about nodes jsep gives no position. */
function columnOf(source: string, word: string): number | undefined {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`).exec(source) ?? new RegExp(escaped).exec(source);
  return match ? match.index + 1 : undefined;
}

/** `problem at column N in expression "source"`, keyed (validation/messages.ts) so a front end can translate it. */
function invalid(source: string, problem: IssueMessage, column: number | undefined): ValidationError {
  const values = { problem, source: excerpt(source) };
  const message = column === undefined ? msg('exprIn', values) : msg('exprAt', { ...values, column });
  return new ValidationError('INVALID_EXPRESSION', [issueOf('', message)]);
}

/**
 * jsep's messages (and this file's hooks', thrown through jsep) as keyed messages. A message of
 * another shape stays English text; so does one whose rendering would not give back jsep's own
 * words, so the English message is always exactly what jsep said.
 */
const JSEP_MESSAGES: [RegExp, (m: RegExpExecArray) => LocalizableMessage][] = [
  [/^Unexpected period$/, () => msg('jsepUnexpectedPeriod')],
  [/^Unexpected token (.+)$/s, (m) => msg('jsepUnexpectedToken', { token: m[1]! })],
  [/^Unexpected "(.*)"$/s, (m) => msg('jsepUnexpectedQuoted', { token: m[1]! })],
  [/^Unexpected (.+)$/s, (m) => msg('jsepUnexpected', { token: m[1]! })],
  [/^Unexpected $/, () => msg('jsepUnexpectedEnd')],
  [/^Expected expression after (.+)$/s, (m) => msg('jsepExpectedAfter', { token: m[1]! })],
  [/^Expected expression$/, () => msg('jsepExpectedExpression')],
  [/^Expected comma$/, () => msg('jsepExpectedComma')],
  [/^Expected exponent \((.*)\)$/s, (m) => msg('jsepExpectedExponent', { text: m[1]! })],
  [/^Expected an expression inside \$\{\}$/, () => msg('exprEmptyInterpolation')],
  [/^Expected \} to close \$\{$/, () => msg('exprUnclosedInterpolation')],
  [/^Expected (\S)$/, (m) => msg('jsepExpected', { token: m[1]! })],
  [/^Unclosed quote after "(.*)"$/s, (m) => msg('jsepUnclosedQuoteAfter', { text: m[1]! })],
  [/^Unclosed quote (.)$/, (m) => msg('exprUnclosedQuote', { quote: m[1]! })],
  [/^Unclosed (.)$/, (m) => msg('jsepUnclosed', { token: m[1]! })],
  [/^Variable names cannot start with a number \((.*)\)$/s, (m) => msg('jsepNameStartsWithDigit', { text: m[1]! })],
  [/^missing unaryOp argument$/, () => msg('jsepMissingOperand')],
  [/^unexpected object property$/, () => msg('jsepObjectProperty')],
  [/^missing \}$/, () => msg('jsepMissingBrace')],
  [/^Invalid \\([xu]) escape$/, (m) => msg('exprInvalidEscape', { letter: m[1]! })],
];

function jsepProblem(description: string): IssueMessage {
  for (const [pattern, keyed] of JSEP_MESSAGES) {
    const match = pattern.exec(description);
    if (!match) continue;
    const message = keyed(match);
    return renderMessage(message) === description ? message : description;
  }
  return description;
}

/**
 * `a is not b`: jsep reads `not` as a prefix of the right operand, so the leftmost leaf of that
 * operand is a `not`. Returns the operand without it (editing the freshly parsed tree), or
 * `undefined` when there is none.
 * `a is !b` keeps its meaning, comparing with a negation.
 */
function stripLeadingNot(node: jsep.Expression): jsep.Expression | undefined {
  let parent: jsep.BinaryExpression | undefined;
  let current = node;
  while (current.type === 'BinaryExpression') {
    parent = current as jsep.BinaryExpression;
    current = parent.left;
  }
  if (current.type !== 'UnaryExpression' || (current as jsep.UnaryExpression).operator !== 'not') return undefined;
  const argument = (current as jsep.UnaryExpression).argument;
  if (!parent) return argument;
  parent.left = argument;
  return node;
}

class Converter {
  depth = 0;
  constructor(private readonly source: string) {}

  private fail(problem: IssueMessage, word?: string): ValidationError {
    return invalid(this.source, problem, word === undefined ? undefined : columnOf(this.source, word));
  }

  private staticKey(key: string): string {
    if (isBlockedKey(key)) throw this.fail(msg('exprBlockedProperty', { name: key }), key);
    return key;
  }

  convert(e: jsep.Expression, depth: number): ExprNode {
    if (depth > MAX_NESTING) {
      throw new FlowError('EXPRESSION_LIMIT', `expression exceeded maxDepth: more than ${MAX_NESTING} levels of nesting in "${excerpt(this.source)}"`, {
        details: { limit: 'maxDepth', bound: MAX_NESTING, expression: this.source },
      });
    }
    this.depth = Math.max(this.depth, depth);
    const next = depth + 1;
    switch (e.type) {
      case 'Literal':
        return { kind: 'literal', value: (e as jsep.Literal).value };
      case 'TemplateString':
        return { kind: 'template', parts: (e as TemplateString).parts.map((p) => (typeof p === 'string' ? p : this.convert(p, next))) };
      case 'Identifier': {
        const name = (e as jsep.Identifier).name;
        if (name === 'undefined') return { kind: 'literal', value: undefined };
        return { kind: 'name', name: this.staticKey(name) };
      }
      case 'MemberExpression': {
        const { object, property, computed } = e as jsep.MemberExpression;
        const literal = computed && property.type === 'Literal' ? (property as jsep.Literal).value : undefined;
        const key = !computed
          ? this.staticKey((property as jsep.Identifier).name)
          : typeof literal === 'string' || typeof literal === 'number'
            ? this.staticKey(String(literal))
            : this.convert(property, next);
        return { kind: 'member', object: this.convert(object, next), key };
      }
      case 'BinaryExpression':
        return this.chain(e as jsep.BinaryExpression, depth);
      case 'UnaryExpression': {
        const { operator, argument } = e as jsep.UnaryExpression;
        const op = UNARY_OPERATORS.get(operator);
        if (!op) throw this.fail(msg('exprOperator', { operator }), operator);
        return { kind: 'unary', op, operand: this.convert(argument, next) };
      }
      case 'ConditionalExpression': {
        const { test, consequent, alternate } = e as jsep.ConditionalExpression;
        return { kind: 'conditional', test: this.convert(test, next), then: this.convert(consequent, next), otherwise: this.convert(alternate, next) };
      }
      case 'ArrayExpression':
        return {
          kind: 'array',
          elements: (e as jsep.ArrayExpression).elements.map((item) => {
            if (!item) throw this.fail(msg('exprEmptySlot'), ',,');
            return this.convert(item, next);
          }),
        };
      case 'ObjectExpression':
        return this.object(e, next);
      case 'CallExpression':
        return this.call(e as jsep.CallExpression, next);
      case 'ThisExpression':
        throw this.fail(msg('exprThis'), 'this');
      case 'Compound': {
        const body = (e as jsep.Compound).body;
        if (body.length === 0) throw this.fail(msg('exprEmpty'));
        const first = body[0];
        if (first?.type === 'Identifier' && (first as jsep.Identifier).name === 'new') throw this.fail(msg('exprNew'), 'new');
        throw this.fail(msg('exprTwoExpressions'));
      }
      case 'SequenceExpression':
        throw this.fail(msg('exprComma'));
      default:
        throw this.fail(msg('exprUnsupported', { syntax: e.type }));
    }
  }

  /** Flattens the left spine of binary operators, so `a + b + … + z` costs no recursion. */
  private chain(e: jsep.BinaryExpression, depth: number): ExprNode {
    const links: jsep.BinaryExpression[] = [];
    let node: jsep.Expression = e;
    while (node.type === 'BinaryExpression') {
      links.push(node as jsep.BinaryExpression);
      node = (node as jsep.BinaryExpression).left;
    }
    const first = this.convert(node, depth + 1);
    const rest = links.reverse().map((link) => {
      let op = BINARY_OPERATORS.get(link.operator);
      if (!op) throw this.fail(msg('exprOperator', { operator: link.operator }), link.operator);
      let right = link.right;
      if (op === 'is') {
        const negated = stripLeadingNot(right);
        if (negated) [op, right] = ['is not', negated];
      }
      return { op, operand: this.convert(right, depth + 1) };
    });
    return { kind: 'chain', first, rest };
  }

  private object(e: jsep.Expression, depth: number): ExprNode {
    const properties = e.properties as jsep.Expression[];
    const entries = properties.map((p) => {
      if (p.type !== 'Property') throw this.fail(msg('exprObjectEntry'));
      const key = p.key as jsep.Expression;
      const value = (p.value ?? key) as jsep.Expression;
      if (p.computed) {
        const literal = key.type === 'Literal' ? (key as jsep.Literal).value : undefined;
        const dynamic = typeof literal === 'string' || typeof literal === 'number' ? this.staticKey(String(literal)) : this.convert(key, depth);
        return { key: dynamic, value: this.convert(value, depth) };
      }
      if (key.type === 'Identifier') return { key: this.staticKey((key as jsep.Identifier).name), value: this.convert(value, depth) };
      if (key.type === 'Literal') return { key: this.staticKey(String((key as jsep.Literal).value)), value: this.convert(value, depth) };
      if (key.type === 'TemplateString') return { key: this.convert(key, depth), value: this.convert(value, depth) };
      throw this.fail(msg('exprObjectKey'));
    });
    return { kind: 'object', entries };
  }

  private call(e: jsep.CallExpression, depth: number): ExprNode {
    const args = (): ExprNode[] => e.arguments.map((arg) => this.convert(arg, depth));
    const callee = e.callee;
    if (callee.type === 'Identifier') {
      const name = (callee as jsep.Identifier).name;
      return { kind: 'call', name: this.builtin(name, e.arguments.length), args: args() };
    }
    if (callee.type === 'MemberExpression' && !(callee as jsep.MemberExpression).computed) {
      const { object, property } = callee as jsep.MemberExpression;
      const name = (property as jsep.Identifier).name;
      if (object.type === 'Identifier' && NAMESPACES.has((object as jsep.Identifier).name)) {
        return { kind: 'call', name: this.builtin(`${(object as jsep.Identifier).name}.${name}`, e.arguments.length), args: args() };
      }
      this.staticKey(name);
      if (!METHOD_NAMES.has(name)) {
        throw this.fail(msg('exprMethod', { name, allowed: [...METHOD_NAMES].join(', ') }), name);
      }
      return { kind: 'method', receiver: this.convert(object, depth), name, args: args() };
    }
    throw this.fail(msg('exprCallByName'), '(');
  }

  private builtin(name: string, argCount: number): string {
    const builtin = FUNCTIONS.get(name);
    if (!builtin) {
      throw this.fail(msg('exprFunction', { name, allowed: [...FUNCTIONS.keys()].join(', ') }), name.split('.').pop() ?? name);
    }
    if (argCount < builtin.minArgs || argCount > builtin.maxArgs) {
      const expected = builtin.minArgs === builtin.maxArgs ? builtin.minArgs : msg('arityRange', { min: builtin.minArgs, max: builtin.maxArgs });
      throw this.fail(msg('exprArity', { name, expected, count: argCount }), name.split('.').pop() ?? name);
    }
    return name;
  }
}

/**
 * Parses and checks an expression. Throws `ValidationError('INVALID_EXPRESSION')` naming the
 * problem and its column, or `FlowError('EXPRESSION_LIMIT')` for nesting past {@link MAX_NESTING}.
 */
export function parseExpression(source: string): ParsedExpression {
  scanNesting(source, 0, false);
  let tree: jsep.Expression;
  try {
    tree = jsep(source);
  } catch (error) {
    // A stack overflow can still come from long runs of prefix operators (`!!!!…x`).
    if (error instanceof RangeError) {
      throw new FlowError('EXPRESSION_LIMIT', `expression exceeded maxDepth: it nests too deeply in "${excerpt(source)}"`, {
        details: { limit: 'maxDepth', bound: MAX_NESTING, expression: source },
      });
    }
    const { description, index } = error as { description?: unknown; index?: unknown };
    const problem = typeof description === 'string' ? jsepProblem(description) : String(error);
    throw invalid(source, problem, typeof index === 'number' ? index + 1 : undefined);
  }
  const converter = new Converter(source);
  const root = converter.convert(tree, 1);
  return { root, depth: converter.depth };
}
