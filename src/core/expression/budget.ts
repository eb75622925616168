/**
 * The bounds of one evaluation. Expressions come from flow definitions that anyone allowed to
 * deploy may write, so every evaluation runs against a budget: AST visits, the size of strings
 * and arrays it produces, and how deeply it nests. Exceeding one is an `EXPRESSION_LIMIT` error.
 */
import { DEFAULT_BUDGETS } from '../budgets.js';
import { FlowError } from '../errors.js';

/**
 * Bounds the work and memory of one evaluation; every field is optional and falls back to the
 * default shown. Exceeding a bound throws `FlowError('EXPRESSION_LIMIT')` naming it.
 */
export interface ExpressionLimits {
  /** AST node visits per evaluation (default 100_000). */
  maxSteps?: number;
  /** Length of any string the expression produces: `+`, templates, `join`, `repeat`, `JSON.stringify`… (default 1_000_000). */
  maxStringLength?: number;
  /** Length of any array the expression produces: literals, `split`, `concat`, `Object.keys`… (default 100_000). */
  maxArrayLength?: number;
  /**
   * Nesting of the expression and of the data that `is`, `String` and `join` walk (default 64).
   * `compileExpression` itself refuses source nested deeper than 64, so a larger value has no effect.
   */
  maxDepth?: number;
  /**
   * Size of the result as JSON, in bytes (default: the `maxValueBytes` budget, 1 MiB), measured
   * without building it: `[vars.d, vars.d]` is cheap to evaluate but writes `vars.d` twice.
   * Exceeding it throws `LIMIT_EXCEEDED` (`details.limit: 'maxValueBytes'`), like any write over the budget.
   */
  maxResultBytes?: number;
}

/** The limits applied when a caller gives none. */
export const DEFAULT_LIMITS: Readonly<Required<ExpressionLimits>> = Object.freeze({
  maxSteps: 100_000,
  maxStringLength: 1_000_000,
  maxArrayLength: 100_000,
  maxDepth: 64,
  maxResultBytes: DEFAULT_BUDGETS.maxValueBytes,
});

/** Shortens a source text for an error message. */
export function excerpt(source: string): string {
  return source.length > 80 ? `${source.slice(0, 77)}...` : source;
}

/** Counts steps and checks sizes for one evaluation; also builds its errors, which name the source. */
export class Budget {
  readonly maxSteps: number;
  readonly maxStringLength: number;
  readonly maxArrayLength: number;
  readonly maxDepth: number;
  readonly maxResultBytes: number;
  /** The expression being evaluated; `interpolate` switches it per `${}` so errors point at the right one. */
  source: string;
  private steps = 0;

  constructor(source: string, limits: ExpressionLimits = {}) {
    this.source = source;
    this.maxSteps = limits.maxSteps ?? DEFAULT_LIMITS.maxSteps;
    this.maxStringLength = limits.maxStringLength ?? DEFAULT_LIMITS.maxStringLength;
    this.maxArrayLength = limits.maxArrayLength ?? DEFAULT_LIMITS.maxArrayLength;
    this.maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth;
    this.maxResultBytes = limits.maxResultBytes ?? DEFAULT_LIMITS.maxResultBytes;
  }

  /** Counts one AST visit. */
  step(): void {
    if (++this.steps > this.maxSteps) throw this.limit('maxSteps', this.maxSteps, 'steps');
  }

  checkString(length: number): void {
    if (length > this.maxStringLength) throw this.limit('maxStringLength', this.maxStringLength, `characters (a string of ${length})`);
  }

  checkArray(length: number): void {
    if (length > this.maxArrayLength) throw this.limit('maxArrayLength', this.maxArrayLength, `elements (an array of ${length})`);
  }

  checkDepth(depth: number): void {
    if (depth > this.maxDepth) throw this.limit('maxDepth', this.maxDepth, 'levels of nesting');
  }

  /** Checks a value an operation produced against the size limits. */
  checkProduced(value: unknown): void {
    if (typeof value === 'string') this.checkString(value.length);
    else if (Array.isArray(value)) this.checkArray(value.length);
  }

  limit(name: Exclude<keyof ExpressionLimits, 'maxResultBytes'>, bound: number, unit: string): FlowError {
    return new FlowError('EXPRESSION_LIMIT', `expression exceeded ${name}: more than ${bound} ${unit} in "${excerpt(this.source)}"`, {
      details: { limit: name, bound, expression: this.source },
    });
  }

  /** A runtime error of the expression: a wrong type, an unknown name, a failing built-in. */
  fail(message: string): FlowError {
    return new FlowError('INVALID_EXPRESSION', `${message} in expression "${excerpt(this.source)}"`, {
      details: { expression: this.source },
    });
  }
}
