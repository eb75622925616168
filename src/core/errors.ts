/**
 * Errors of flowrun. Every error a user can see is a {@link FlowError} with a string `code`
 * that callers test (`err.code === 'FLOW_NOT_FOUND'`), never the class or the message.
 * The same codes travel through stores, HTTP and the CLI, so the set below is the contract.
 */
import type { LocalizableMessage } from './validation/messages.js';

/** The error codes flowrun itself produces. Modules and FAIL steps may use any other string. */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'INVALID_DEFINITION',
  'INVALID_EXPRESSION',
  'EXPRESSION_LIMIT',
  'FLOW_NOT_FOUND',
  'ACTION_NOT_FOUND',
  'SUBFLOW_NOT_FOUND',
  'RUN_NOT_FOUND',
  'PRINCIPAL_NOT_FOUND',
  'MODULE_NOT_FOUND',
  'MODULE_FAILED',
  'MODULE_INVALID_OUTPUT',
  'MODEL_NOT_CONFIGURED',
  'MODEL_FAILED',
  'ASK_INVALID_OUTPUT',
  'FLOW_DEPTH_EXCEEDED',
  'LIMIT_EXCEEDED',
  'NESTING_TOO_DEEP',
  'RUN_DATA_UNREADABLE',
  'PERMISSION_DENIED',
  'GOVERNANCE_DENIED',
  'GOVERNANCE_REJECTED',
  'GOVERNANCE_FAILED',
  'CONFLICT',
  'LEASE_LOST',
  'TIMEOUT',
  'CANCELED',
  'STEP_FAILED',
  'CHILD_FAILED',
  'ENGINE_CLOSED',
  'STORE_ERROR',
  'INTERNAL',
] as const;

/** A code produced by flowrun itself (see {@link ERROR_CODES}). */
export type FlowErrorCode = (typeof ERROR_CODES)[number];

/** Ids that locate an error in a run, when it has them. */
export interface FlowErrorOptions {
  cause?: unknown;
  runId?: string;
  stepId?: string;
  details?: Record<string, unknown>;
}

/**
 * The base error: a string `code`, a message that names what was wrong, and where it happened.
 * Thrown at the edges (bad options, unknown ids); inside a run a failing step is recorded as
 * data (`runError`) and reaches callers as `result.error`, not as a rejection.
 */
export class FlowError extends Error {
  readonly code: string;
  readonly runId: string | undefined;
  readonly stepId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: FlowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FlowError';
    this.code = code;
    this.runId = options.runId;
    this.stepId = options.stepId;
    this.details = options.details;
  }

  /** The `{code, description}` form recorded on a run (`runError`). */
  toRunError(): RunErrorInfo {
    return { code: this.code, description: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** The error recorded on a run or a step: plain data, safe to persist and send. */
export interface RunErrorInfo {
  code: string;
  description: string;
  details?: Record<string, unknown>;
  stepId?: string;
}

/** One problem found in a definition or an input: where (`path`) and what. */
export interface ValidationIssue {
  path: string;
  message: string;
  /**
   * The same message as a key and values, for front ends that say it in another language
   * (validation/messages.ts). Not enumerable: JSON and equality see `{path, message}` only.
   */
  readonly localizable?: LocalizableMessage;
}

/** A definition or input that does not hold; `issues` lists every problem at once. */
export class ValidationError extends FlowError {
  readonly issues: ValidationIssue[];
  constructor(code: 'INVALID_DEFINITION' | 'INVALID_INPUT' | 'INVALID_EXPRESSION', issues: ValidationIssue[], options: FlowErrorOptions = {}) {
    const shown = issues.slice(0, 5).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    super(code, `${shown.join('; ')}${more}`, { ...options, details: { ...options.details, issues } });
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** A flow, action, subflow, run or module that does not exist (or that the caller may not see). */
export class NotFoundError extends FlowError {
  constructor(
    code: 'FLOW_NOT_FOUND' | 'ACTION_NOT_FOUND' | 'SUBFLOW_NOT_FOUND' | 'RUN_NOT_FOUND' | 'PRINCIPAL_NOT_FOUND' | 'MODULE_NOT_FOUND' | 'SCHEDULE_NOT_FOUND',
    message: string,
    options: FlowErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'NotFoundError';
  }
}

/** A write that lost a race: a duplicate id, a stale lease, a run that already ended. */
export class ConflictError extends FlowError {
  constructor(message: string, options: FlowErrorOptions & { code?: 'CONFLICT' | 'LEASE_LOST' } = {}) {
    super(options.code ?? 'CONFLICT', message, options);
    this.name = 'ConflictError';
  }
}

/** The principal may not do this. */
export class PermissionError extends FlowError {
  constructor(message: string, options: FlowErrorOptions = {}) {
    super('PERMISSION_DENIED', message, options);
    this.name = 'PermissionError';
  }
}

/** A run or step went past its deadline. */
export class TimeoutError extends FlowError {
  constructor(message: string, options: FlowErrorOptions = {}) {
    super('TIMEOUT', message, options);
    this.name = 'TimeoutError';
  }
}

/** A run was canceled, or the caller's signal aborted. */
export class CanceledError extends FlowError {
  constructor(message: string, options: FlowErrorOptions = {}) {
    super('CANCELED', message, options);
    this.name = 'CanceledError';
  }
}

/** A step failed; `retryable` says whether a `retry` policy may try it again. */
export class StepFailedError extends FlowError {
  readonly retryable: boolean;
  constructor(code: string, message: string, options: FlowErrorOptions & { retryable?: boolean } = {}) {
    super(code, message, options);
    this.name = 'StepFailedError';
    this.retryable = options.retryable ?? true;
  }
}

/** Turns anything thrown (by a module, a listener, a library) into a FlowError, keeping a code when it has one. */
export function toFlowError(error: unknown, fallbackCode = 'INTERNAL'): FlowError {
  if (error instanceof FlowError) return error;
  if (error instanceof Error) {
    const raw = (error as { code?: unknown }).code;
    const code = typeof raw === 'string' && raw !== '' ? raw : fallbackCode;
    return new FlowError(code, error.message, { cause: error });
  }
  return new FlowError(fallbackCode, String(error));
}

/** Rebuilds a FlowError from recorded data (a run's `runError`). */
export function fromRunError(info: RunErrorInfo, runId?: string): FlowError {
  return new FlowError(info.code, info.description, {
    ...(runId ? { runId } : {}),
    ...(info.stepId ? { stepId: info.stepId } : {}),
    ...(info.details ? { details: info.details } : {}),
  });
}
