/**
 * Error answers in the Globus Flows shape: `{error: {code, detail}, debug_id}` — `detail` a string,
 * or for a request that failed validation the list of `{loc, msg, type}` the Globus SDKs read
 * (Python's `FlowsAPIError` takes `code` from `error` and its messages from `detail[].msg`). The
 * status follows flowrun's table (error-response.ts), with Globus's codes: NOT_FOUND for a run or
 * flow that is missing or that the caller may not see (the same answer either way), FORBIDDEN,
 * UNAUTHORIZED, CONFLICT, 400 BAD_REQUEST for a bad query, 422 UNPROCESSABLE_ENTITY for a bad body,
 * 501 NOT_IMPLEMENTED for an operation of the Globus API flowrun does not serve.
 */
import { FlowError, ValidationError } from '../../core/errors.js';
import { errorBody, jsonResponse, statusOf } from '../error-response.js';

/** An error body as the Globus Flows API sends it. */
export interface GlobusErrorBody {
  error: { code: string; detail: string | GlobusLocationError[] };
  debug_id: string;
}

/** One field that failed validation, as Globus lists them. */
export interface GlobusLocationError {
  loc: string[];
  msg: string;
  type: string;
}

const GLOBUS_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUESTS',
  501: 'NOT_IMPLEMENTED',
  503: 'SERVICE_UNAVAILABLE',
};

/** The error for an operation of the Globus Flows API that flowrun cannot honour: 501 NOT_IMPLEMENTED with `message`. */
export function notServed(message: string): FlowError {
  return new FlowError('NOT_IMPLEMENTED', message);
}

/**
 * The Globus answer to `error`. A ValidationError lists its issues as `detail` (status 400 when
 * one is about the request body's shape, else 400: a bad query, or an input the flow refuses); any other FlowError keeps its status and message;
 * anything else is a 500 that shows nothing of itself.
 */
export function globusErrorResponse(error: unknown, headers?: Record<string, string>): Response {
  const debugId = globalThis.crypto.randomUUID();
  if (error instanceof ValidationError && error.issues.length > 0) {
    const detail = error.issues.map((issue) => ({ loc: issue.path.split('.'), msg: issue.message, type: 'value_error' }));
    // The request body's own shape is 422 (Globus's schema validation); a query, or a run input the flow's params refuse, is 400.
    const status = detail.some((d) => d.loc[0] === 'body') ? 422 : 400;
    return jsonResponse({ error: { code: GLOBUS_CODES[status]!, detail }, debug_id: debugId } satisfies GlobusErrorBody, status, headers);
  }
  // errorBody hides what must not leak (internal errors, a store's driver messages).
  const body = errorBody(error);
  const status = statusOf(body.error.code);
  const code = GLOBUS_CODES[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
  return jsonResponse({ error: { code, detail: body.error.message }, debug_id: debugId } satisfies GlobusErrorBody, status, headers);
}
