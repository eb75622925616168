/**
 * `flowrun/client`: the typed client of a flowrun server. Web-standard only (fetch), so it runs
 * in browsers, Node, Bun, Deno and edge runtimes.
 *
 * @example
 * import { createClient, isRunNotFoundError } from 'flowrun/client';
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8080', token });
 */
export { createClient, FlowClient } from './create-client.js';
export { isRunNotFoundError, errorFromBody, NETWORK_ERROR, UNEXPECTED_RESPONSE } from './client-errors.js';
export { FlowError, ValidationError, NotFoundError, ConflictError, PermissionError, TimeoutError, CanceledError } from '../core/errors.js';
export type * from './client-types.js';
