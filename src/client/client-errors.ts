/**
 * The client's errors: a FlowError rebuilt from a server's `{error: {code, message, details}}`
 * body (the same subclasses the engine throws in-process, so `err.code` and `instanceof` read
 * alike on both sides of HTTP), and the codes of the failures that never reached a server.
 */
import {
  CanceledError,
  ConflictError,
  FlowError,
  NotFoundError,
  PermissionError,
  TimeoutError,
  ValidationError,
  type ValidationIssue,
} from '../core/errors.js';

/** The server could not be reached, or the connection broke before an answer came. */
export const NETWORK_ERROR = 'NETWORK_ERROR';
/** The server answered with something that is not flowrun's JSON (a proxy's error page, a wrong URL). */
export const UNEXPECTED_RESPONSE = 'UNEXPECTED_RESPONSE';

const NOT_FOUND_CODES = ['FLOW_NOT_FOUND', 'ACTION_NOT_FOUND', 'SUBFLOW_NOT_FOUND', 'RUN_NOT_FOUND', 'PRINCIPAL_NOT_FOUND', 'MODULE_NOT_FOUND'] as const;
type NotFoundCode = (typeof NOT_FOUND_CODES)[number];
const VALIDATION_CODES = ['INVALID_DEFINITION', 'INVALID_INPUT', 'INVALID_EXPRESSION'] as const;
type ValidationCode = (typeof VALIDATION_CODES)[number];

/** What the request was about, so a rebuilt error names its run even when the body does not. */
export interface ErrorContext {
  runId?: string;
}

/**
 * Rebuilds the FlowError of an error body: ValidationError (with its `issues`), NotFoundError,
 * ConflictError, PermissionError, TimeoutError, CanceledError by code, a plain FlowError for any
 * other code. `details` and, when known, `runId` and `stepId` are kept.
 */
export function errorFromBody(body: { code: string; message?: string; details?: Record<string, unknown> }, context: ErrorContext = {}): FlowError {
  const details = body.details && typeof body.details === 'object' ? body.details : {};
  const message = typeof body.message === 'string' ? body.message : body.code;
  const runId = typeof details.runId === 'string' ? details.runId : context.runId;
  const stepId = typeof details.stepId === 'string' ? details.stepId : undefined;
  const options = { details, ...(runId !== undefined ? { runId } : {}), ...(stepId !== undefined ? { stepId } : {}) };
  const code = body.code;
  if ((VALIDATION_CODES as readonly string[]).includes(code) && Array.isArray(details.issues)) {
    const { issues, ...rest } = details;
    return new ValidationError(code as ValidationCode, (issues as unknown[]).filter(isIssue), { ...options, details: rest });
  }
  if ((NOT_FOUND_CODES as readonly string[]).includes(code)) return new NotFoundError(code as NotFoundCode, message, options);
  if (code === 'CONFLICT' || code === 'LEASE_LOST') return new ConflictError(message, { ...options, code });
  if (code === 'PERMISSION_DENIED') return new PermissionError(message, options);
  if (code === 'TIMEOUT') return new TimeoutError(message, options);
  if (code === 'CANCELED') return new CanceledError(message, options);
  return new FlowError(code, message, options);
}

/**
 * Reads a failed response into a FlowError. A body that is not flowrun's error shape becomes
 * UNEXPECTED_RESPONSE with the HTTP status and the start of the body in `details`.
 */
export async function errorFromResponse(response: Response, context: ErrorContext = {}): Promise<FlowError> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const error = parsed?.error;
    if (error && typeof error.code === 'string') {
      return errorFromBody(
        {
          code: error.code,
          ...(typeof error.message === 'string' ? { message: error.message } : {}),
          ...(error.details && typeof error.details === 'object' ? { details: error.details as Record<string, unknown> } : {}),
        },
        context,
      );
    }
  } catch {
    // Not JSON: reported below with the status.
  }
  return unexpectedResponse(response.status, text);
}

/** The error for a response flowrun cannot read. */
export function unexpectedResponse(status: number, text: string): FlowError {
  return new FlowError(UNEXPECTED_RESPONSE, `the server answered HTTP ${status} without a flowrun JSON body`, {
    details: { status, body: text.slice(0, 200) },
  });
}

/** The error for a request that got no answer. */
export function networkError(url: string, cause: unknown): FlowError {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : cause.message) : String(cause);
  return new FlowError(NETWORK_ERROR, `cannot reach ${url}: ${reason}`, { cause, details: { url } });
}

/**
 * True when `error` says a run does not exist — or exists but the caller may not see it: the
 * server answers both alike (RUN_NOT_FOUND), so a client cannot learn about runs it may not read.
 *
 * @example
 * try { await client.getRun(id); } catch (err) { if (isRunNotFoundError(err)) return null; throw err; }
 */
export function isRunNotFoundError(error: unknown): boolean {
  return error instanceof FlowError ? error.code === 'RUN_NOT_FOUND' : (error as { code?: unknown } | null)?.code === 'RUN_NOT_FOUND';
}

function isIssue(value: unknown): value is ValidationIssue {
  return typeof value === 'object' && value !== null && typeof (value as ValidationIssue).path === 'string' && typeof (value as ValidationIssue).message === 'string';
}
