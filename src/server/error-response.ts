/**
 * The one table from error codes to HTTP statuses, and the one error body every route answers
 * with: `{error: {code, message, details}}`. A client rebuilds the FlowError from `code`.
 * Errors without a known code are INTERNAL (500) and never show their message or stack.
 */
import { HTTPException } from 'hono/http-exception';
import { FlowError, ValidationError } from '../core/errors.js';

/** An error body as every route sends it. */
export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

/** HTTP status of each error code a route can answer with; any other code is 500. */
export const ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  INVALID_INPUT: 400,
  INVALID_DEFINITION: 400,
  INVALID_EXPRESSION: 400,
  VALIDATION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  FLOW_NOT_FOUND: 404,
  ACTION_NOT_FOUND: 404,
  SUBFLOW_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  SCHEDULE_NOT_FOUND: 404,
  PRINCIPAL_NOT_FOUND: 404,
  MODULE_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TIMEOUT: 408,
  CONFLICT: 409,
  LIMIT_EXCEEDED: 429,
  LEASE_LOST: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CANCELED: 499,
  NOT_IMPLEMENTED: 501,
  ENGINE_CLOSED: 503,
  UNAVAILABLE: 503,
  STORE_ERROR: 503,
  // The run's stored data is damaged: a server-side fault that retrying will not fix (logged).
  RUN_DATA_UNREADABLE: 500,
  INTERNAL: 500,
});

/** The status of a code: from {@link ERROR_STATUS}, else 500. */
export function statusOf(code: string): number {
  return ERROR_STATUS[code] ?? 500;
}

/**
 * The body of an error. A FlowError keeps its code, message and details; anything else (a bug,
 * a driver error) becomes INTERNAL with a fixed message, so no internals leak.
 */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof FlowError && Object.hasOwn(ERROR_STATUS, error.code) && error.code !== 'INTERNAL') {
    // A store error's message may quote the driver (SQL, hosts): its code is enough.
    if (error.code === 'STORE_ERROR') return { error: { code: error.code, message: 'the store is unavailable', details: {} } };
    const where = { ...(error.runId !== undefined ? { runId: error.runId } : {}), ...(error.stepId !== undefined ? { stepId: error.stepId } : {}) };
    return { error: { code: error.code, message: error.message, details: { ...where, ...error.details } } };
  }
  return { error: { code: 'INTERNAL', message: 'internal error', details: {} } };
}

/** A JSON Response for an error, with the status of its code. */
export function errorResponse(error: unknown, headers?: Record<string, string>): Response {
  const body = errorBody(error);
  return jsonResponse(body, statusOf(body.error.code), headers);
}

/** A JSON Response. */
export function jsonResponse(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

/**
 * The answer to an error thrown while answering a request: a FlowError by its code, an HTTP error
 * Hono raised itself (malformed JSON, a body over the limit) by its status, anything else 500; a
 * budget that refills (maxStartsPerSecond) says when to come back (`Retry-After`). Logs nothing.
 */
export function requestErrorResponse(error: unknown): Response {
  if (error instanceof HTTPException) return errorResponse(httpError(error.status, error.message));
  const retryAfter = error instanceof FlowError ? error.details?.retryAfterSeconds : undefined;
  return errorResponse(error, typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : undefined);
}

/** The error of a request that breaks its route's schema: each bad field named (`body.flowId`, `query.limit`, `path.id`). */
export function invalidRequest(target: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): ValidationError {
  const where = target === 'json' ? 'body' : target === 'param' ? 'path' : target;
  return new ValidationError('INVALID_INPUT', issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message })));
}

/** The FlowError of an HTTP error Hono raised itself (malformed JSON, a body over the limit). */
function httpError(status: number, message: string): FlowError {
  if (status === 413) return new FlowError('PAYLOAD_TOO_LARGE', 'the request body is too large');
  if (status === 400) return new ValidationError('INVALID_INPUT', [{ path: 'body', message: /json/i.test(message) ? 'is not valid JSON' : message }]);
  if (status === 415) return new FlowError('UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON (Content-Type: application/json)');
  if (status === 401) return new FlowError('UNAUTHENTICATED', 'missing or invalid credentials');
  return new FlowError(status === 404 ? 'ROUTE_NOT_FOUND' : 'INTERNAL', status === 404 ? 'no such route' : 'internal error');
}
