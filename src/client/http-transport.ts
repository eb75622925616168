/**
 * How the client talks to a server: one JSON request at a time through `fetch`, with the token
 * and the caller's headers, errors rebuilt from the server's body. Web-standard only (fetch,
 * Request, URL), so the client runs in browsers, Node, Bun, Deno and edge runtimes.
 */
import { CanceledError, TimeoutError, ValidationError } from '../core/errors.js';
import { errorFromResponse, networkError, unexpectedResponse, type ErrorContext } from './client-errors.js';
import type { ClientOptions } from './client-types.js';

/** A query string's values; undefined ones are left out. */
export type Query = Record<string, string | number | undefined>;

/** One request of the client. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path below the base URL, with its segments already encoded. */
  path: string;
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Names the run of the request in rebuilt errors. */
  context?: ErrorContext;
  /**
   * Safe to send twice (default: GET only). Such a request is sent once more, at once, when the
   * first attempt got no answer at all: a kept-alive connection the server closed meanwhile (a
   * restart, a proxy's idle timeout) fails the request that picks it up before anything is read.
   */
  idempotent?: boolean;
  /** Exempt from the client's `timeoutMs` (a start that waits for its run to end). */
  untimed?: boolean;
}

/** Sends requests to one server. */
export class HttpTransport {
  readonly baseUrl: string;
  readonly #fetch: (request: Request) => Promise<Response>;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number | undefined;

  constructor(options: ClientOptions) {
    if (typeof options !== 'object' || options === null) invalid('', 'createClient needs {baseUrl, token?, fetch?, headers?}');
    this.baseUrl = checkBaseUrl(options.baseUrl);
    if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '' || /\s/.test(options.token))) {
      invalid('token', 'must be a non-empty string without spaces');
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') invalid('fetch', 'must be a function (request) => Promise<Response>');
    // Bound late: tests and polyfills may replace globalThis.fetch after the client is made.
    this.#fetch = options.fetch ?? ((request) => globalThis.fetch(request));
    this.#headers = { ...options.headers, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) invalid('timeoutMs', `must be a positive number of milliseconds, got ${JSON.stringify(options.timeoutMs)}`);
    this.#timeoutMs = options.timeoutMs;
  }

  /** The full URL of a path and query. */
  url(path: string, query: Query = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  /**
   * Sends a request and returns the response as it came, once its status is a success; a failure
   * status throws the FlowError of its body. No answer at all throws NETWORK_ERROR, an aborted
   * `signal` CANCELED.
   */
  async send(request: HttpRequest): Promise<Response> {
    const url = this.url(request.path, request.query);
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers, ...request.headers };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const body = request.body !== undefined ? JSON.stringify(request.body) : undefined;
    const attempts = (request.idempotent ?? request.method === 'GET') ? 2 : 1;
    let response: Response | undefined;
    for (let attempt = 1; response === undefined; attempt++) {
      try {
        response = await this.#fetch(
          new Request(url, { method: request.method, headers, ...(body !== undefined ? { body } : {}), ...(request.signal ? { signal: request.signal } : {}) }),
        );
      } catch (error) {
        if (request.signal?.aborted) throw new CanceledError(`request ${request.method} ${request.path} was aborted`, { cause: error, ...request.context });
        if (attempt >= attempts) throw networkError(url, error);
      }
    }
    if (!response.ok) throw await errorFromResponse(response, request.context);
    return response;
  }

  /**
   * Sends a request and reads its JSON answer. With the client's `timeoutMs`, a request that has
   * no complete answer in time is abandoned with TIMEOUT (what it asked for may still happen).
   */
  async json<T>(request: HttpRequest): Promise<T> {
    const timeoutMs = request.untimed ? undefined : this.#timeoutMs;
    if (timeoutMs === undefined) return this.#json<T>(request);
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timer.signal]) : timer.signal;
    try {
      return await this.#json<T>({ ...request, signal });
    } catch (error) {
      if (timer.signal.aborted && !request.signal?.aborted) {
        throw new TimeoutError(`${request.method} ${request.path} got no answer within ${timeoutMs} ms`, { cause: error, ...request.context });
      }
      throw error;
    } finally {
      clearTimeout(handle);
    }
  }

  async #json<T>(request: HttpRequest): Promise<T> {
    const response = await this.send(request);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (request.signal?.aborted) throw new CanceledError(`request ${request.method} ${request.path} was aborted`, { cause: error, ...request.context });
      throw networkError(this.url(request.path, request.query), error);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw unexpectedResponse(response.status, text);
    }
  }
}

/** A path segment: ids are URL-encoded, so `orders/process` is one segment. */
export function segment(value: string, field: string): string {
  if (typeof value !== 'string' || value === '') invalid(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return encodeURIComponent(value);
}

/** Throws INVALID_INPUT naming the field: the client validates at the edge and fails fast. */
export function invalid(path: string, message: string): never {
  throw new ValidationError('INVALID_INPUT', [{ path, message }]);
}

function checkBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string') invalid('baseUrl', `must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    invalid('baseUrl', `must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid('baseUrl', `must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  // Paths are appended: `https://host/api/` and `https://host/api` mean the same base.
  return baseUrl.replace(/\/+$/, '');
}
