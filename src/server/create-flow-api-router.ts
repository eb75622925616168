/**
 * The HTTP API of flowrun as one web-standard handler: `router.fetch(request) → Response`. It
 * mounts anywhere `fetch` handlers do — `serve()` in Node, a Next.js route handler
 * (`export const GET = router.fetch`), Bun, Deno — and tests call it without a port.
 * Routes and their contract: `routes.md` beside this file, and `GET /openapi.json`.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { FlowError, PermissionError } from '../core/errors.js';
import { isNamedIn, isSystemAdministrator } from '../core/permissions.js';
import type { Logger } from '../core/engine/types.js';
import { apiTokenAuthenticator, type Authenticate, type AuthenticatedPrincipal } from './api-tokens.js';
import { errorResponse, invalidRequest, jsonResponse, requestErrorResponse, statusOf } from './error-response.js';
import { MarkerSeal } from './marker-seal.js';
import { ServerMetrics } from './metrics.js';
import { StartRateLimiter } from './start-rate-limiter.js';
import { actingFor, type FlowApiEngine, type RouterEnv, type RouterState } from './router-context.js';
import { RunResponseCache, requestTarget, runResponseKey } from './run-response-cache.js';
import { ListingEtags, LISTING_CACHE_HEADERS, isRunListingTarget } from './listing-etags.js';
import { addDashboardRoutes, type DashboardOptions } from './dashboard-route.js';
import { notifyObservers, requestLogObserver, type MetricsSource, type ObservedRequest, type RequestObserver } from './request-observer.js';
import { addBatchRoutes } from './routes/batch-routes.js';
import { addFlowRoutes } from './routes/flow-routes.js';
import { addGovernanceRoutes } from './routes/governance-routes.js';
import { addScheduleRoutes } from './routes/schedule-routes.js';
import { addRunRoutes } from './routes/run-routes.js';
import { addStreamRoute } from './routes/stream-route.js';
import { directStart } from './direct-start.js';

/** Options of {@link createFlowApiRouter}. */
export interface FlowApiRouterOptions {
  /** The engine whose flows and runs the API serves; every call acts for the request's principal. */
  engine: FlowApiEngine;
  /**
   * Who a request comes from (a JWT verifier, a session lookup…); null answers 401. Default:
   * `Authorization: Bearer <token>` checked against the API tokens in the engine's stores.
   */
  authenticate?: Authenticate;
  /** Largest request body in bytes (default 1 MiB); a larger one answers 413 PAYLOAD_TOO_LARGE. */
  maxBodyBytes?: number;
  /** Interval of the SSE heartbeat comment (default 15,000 ms). */
  heartbeatMs?: number;
  /**
   * How often an open event stream re-checks that its reader may still read the run (default
   * 5,000 ms). A reader that lost access (removed from the run's monitors or from a group, a
   * revoked role) gets an `error` event with RUN_NOT_FOUND and the stream ends.
   */
  accessRecheckMs?: number;
  /**
   * Who may read `GET /metrics`: `'admin'` (default) system administrators only (see
   * `administrators`), `'open'` every authenticated principal, `'off'` nobody (the route is not served).
   */
  metrics?: MetricsAccess;
  /**
   * Who may read `/metrics` when it is `'admin'`, besides the system administrators the stores
   * mark (`engine.principals.setAdministrator`): principal ids, or groups whose members may
   * (default `['admin']`, the user `flowrun serve` creates). Only `/metrics` reads this list.
   */
  administrators?: readonly string[];
  /**
   * The path the API is mounted under, when the host does not strip it (a Next.js catch-all route
   * `app/api/flowrun/[...path]/route.ts` → `basePath: '/api/flowrun'`). Default: the root.
   */
  basePath?: string;
  /**
   * Where the router logs: one `info` line per request (method, route pattern, status, duration in
   * ms, principal id — never a token, a body, a query or an id in the path; a 304 at `debug`) and every unexpected
   * error (answered as INTERNAL) at `error`. `requestLog: false` keeps the errors only.
   */
  logger?: Logger;
  /** Log one line per request (default true when there is a `logger`). */
  requestLog?: boolean;
  /** Told of every answered request and event stream (metrics, tracing); see request-observer.ts. */
  observers?: readonly RequestObserver[];
  /**
   * What `GET /metrics` serves (e.g. `PrometheusMetrics` of `flowrun`: engine, store and HTTP
   * metrics from a prom-client registry of its own). Default: the router's own plain counters.
   */
  metricsSource?: MetricsSource;
  /**
   * Also serve the dashboard (the browser app of this package) at `{basePath}/ui/` — or at
   * `path` — and redirect `GET {basePath}/` there. The page needs no credentials; it asks for an
   * API token and reads everything through this API, so it shows what that token may see.
   * `true` serves the build shipped in the package; `{dir}` another build. Needs `node:fs`.
   * @example
   * // app/api/flowrun/[...path]/route.ts (Next.js): the dashboard at /api/flowrun/ui/
   * const router = createFlowApiRouter({ engine, basePath: '/api/flowrun', dashboard: true });
   * export const GET = router.fetch, POST = router.fetch, PATCH = router.fetch;
   */
  dashboard?: boolean | DashboardOptions;
}

/** Who may read `/metrics`; see {@link FlowApiRouterOptions.metrics}. */
export type MetricsAccess = 'admin' | 'open' | 'off';

/** A web-standard handler of the flowrun API. */
export interface FlowApiRouter {
  /** Answers one request. Bound: `export const GET = router.fetch` works. Never rejects. */
  readonly fetch: (request: Request) => Promise<Response>;
  /**
   * The answer `fetch` would give, when it can be given in the caller's own turn without reading
   * the store (a `GET /runs/{id}` cached for this principal, still current); undefined otherwise —
   * then call `fetch`. Bound; never throws. `serve()` tries it first, so the HTTP adapter writes
   * such an answer at once instead of through a promise.
   */
  readonly answerNow?: (request: Request) => Response | undefined;
  /** Ends every open event stream and refuses new ones (503 UNAVAILABLE); clients may reconnect elsewhere with Last-Event-ID. */
  close(): void;
  /** Open event streams (tests, graceful shutdown). */
  readonly openStreams: number;
}

/**
 * Creates the API router over an engine. Every response is JSON (except the event stream and
 * `/metrics`); every error is `{error: {code, message, details}}` with the status of its code
 * (`error-response.ts`). Requests need credentials except `GET /health` (liveness: the process
 * answers) and `GET /ready` (readiness: the store answers too; 503 STORE_ERROR while it does not).
 * Every 5xx answer is logged (`logger.error`) with the request's method and path and the error —
 * never its body, query or headers.
 */
export function createFlowApiRouter(options: FlowApiRouterOptions): FlowApiRouter {
  const { engine } = options;
  const defaultAuthenticate = options.authenticate ? null : apiTokenAuthenticator(engine.store, () => engine.clock.now());
  const authenticate: Authenticate = options.authenticate ?? defaultAuthenticate!;
  /** Who a request comes from without a turn through a promise, where the default authenticator can tell. */
  const authenticateNow = defaultAuthenticate?.now;
  const starts = StartRateLimiter.of(engine, { startsPerSecond: engine.budgets.maxStartsPerSecond, now: () => engine.clock.now() });
  const runResponses = RunResponseCache.over(engine.store);
  const listingEtags = ListingEtags.over(engine.store);
  const observers: RequestObserver[] = [...(options.observers ?? [])];
  if (options.logger && options.requestLog !== false) observers.push(requestLogObserver(options.logger));
  const state: RouterState = { engine, metrics: new ServerMetrics(), observers, streams: new Set(), closing: false, heartbeatMs: options.heartbeatMs ?? 15_000, accessRecheckMs: options.accessRecheckMs ?? 5_000, authenticate, logger: options.logger, starts, runResponses, listingEtags, markers: new MarkerSeal(() => engine.store.getStoreSecret()) };
  /** Who a request was found to come from before it reached the routes (a cached answer was looked for): not asked twice. */
  const authenticated = new WeakMap<Request, AuthenticatedPrincipal | null>();
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  /** The route pattern and principal of a request Hono answered, for its observers (set once it is answered). */
  const answered = new WeakMap<Request, Pick<ObservedRequest, 'route' | 'principalId'>>();

  const app = new OpenAPIHono<RouterEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      throw invalidRequest(result.target, result.error.issues);
    },
  });

  /** The answer to an error thrown while answering a request of `method` to `path`; a 5xx is logged. */
  const failed = (error: unknown, method: string, path: string): Response => {
    if (!(error instanceof HTTPException) && (!(error instanceof FlowError) || statusOf(error.code) >= 500)) {
      const status = error instanceof FlowError ? statusOf(error.code) : 500;
      options.logger?.error({ err: error, method, path: loggablePath(path), status }, 'request failed');
    }
    return requestErrorResponse(error);
  };
  app.onError((error, c) => failed(error, c.req.method, c.req.path));
  const startDirectly = directStart({ state, maxBodyBytes, authenticated, failed: (error, request) => failed(error, request.method, new URL(request.url).pathname) });
  app.notFound((c) => {
    const path = c.req.path.length > 200 ? `${c.req.path.slice(0, 200)}…` : c.req.path;
    return errorResponse(new FlowError('ROUTE_NOT_FOUND', `no route ${c.req.method} ${path}`, { details: { method: c.req.method, path } }));
  });

  // First of all middleware, so it sees every answer: the pattern of the route that gave it (a
  // middleware's `*` means no route matched) and who asked. Only when someone observes requests or
  // traces them (a server span is named after its route pattern, never a path with ids).
  if (observers.length > 0 || engine.tracing) {
    app.use('*', async (c, next) => {
      const raw = c.req.raw; // the request as fetch got it: bodyLimit may replace c.req.raw
      await next();
      const route = routePath(c);
      answered.set(raw, { route: route === '*' || route === '' || route === '/*' ? 'unmatched' : route, principalId: c.get('principal')?.userId ?? null });
    });
  }
  app.get('/health', (c) => c.json({ ok: true }));
  app.get('/ready', async (c) => {
    try {
      await engine.store.ping();
    } catch (error) {
      options.logger?.warn({ err: error, method: 'GET', path: '/ready' }, 'not ready: the store does not answer');
      // 503 STORE_ERROR; the answer says the store is down, not why (errorBody hides a store error's message).
      return errorResponse(new FlowError('STORE_ERROR', 'not ready: the store does not answer', { cause: error }));
    }
    return c.json({ ok: true });
  });
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  // Before authentication: the page itself is public; what it shows comes through the API.
  if (options.dashboard) addDashboardRoutes(app, options.dashboard === true ? {} : options.dashboard, basePath);

  app.use('*', async (c, next) => {
    const principal = authenticated.has(c.req.raw) ? authenticated.get(c.req.raw) : await authenticate(c.req.raw);
    if (!principal || typeof principal.userId !== 'string' || principal.userId === '') {
      return errorResponse(new FlowError('UNAUTHENTICATED', 'missing or invalid credentials: send Authorization: Bearer <token>'), { 'www-authenticate': 'Bearer' });
    }
    c.set('principal', principal);
    await next();
  });
  const tooLarge = () => errorResponse(new FlowError('PAYLOAD_TOO_LARGE', `request bodies are limited to ${maxBodyBytes} bytes`, { details: { maxBytes: maxBodyBytes } }));
  const countBody = bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge });
  app.use('*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    // A declared length is enough (the HTTP parser holds the body to it), and checking it leaves the
    // body untouched: Node adapters then read it directly instead of through a web stream.
    // Without one (chunked), the body is counted as it is read.
    const declared = c.req.header('content-length');
    if (declared === undefined) return countBody(c, next);
    if (!/^\d+$/.test(declared) || Number(declared) > maxBodyBytes) return tooLarge();
    return next();
  });

  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'flowrun', version: '1' }, security: [{ bearer: [] }] });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const metricsAccess = options.metrics ?? 'admin';
  const administrators = options.administrators ?? ['admin'];
  if (metricsAccess !== 'off') {
    app.get('/metrics', async (c) => {
      const principal = metricsAccess === 'admin' ? await engine.access.principal(actingFor(c.get('principal'))) : null;
      if (principal && !isSystemAdministrator(principal) && !isNamedIn(principal, administrators)) {
        throw new PermissionError('/metrics is for system administrators (the router\'s `metrics` option may open it)', { details: { path: '/metrics' } });
      }
      if (options.metricsSource) return new Response(await options.metricsSource.metrics(), { headers: { 'content-type': options.metricsSource.contentType } });
      return new Response(state.metrics.render(), { headers: { 'content-type': 'text/plain; version=0.0.4' } });
    });
  }

  addFlowRoutes(app, state);
  addBatchRoutes(app, state); // before the run routes: `/runs/batch/cancel` also matches `/runs/{id}/cancel`
  addStreamRoute(app, state);
  addGovernanceRoutes(app, state);
  addScheduleRoutes(app, state); // issue 17
  addRunRoutes(app, state);

  /**
   * The answer cached for a `GET` of a run (run-response-cache.ts), or null: the request then goes
   * through the routes, which find the same principal here. Only the run route stores answers, so
   * a target found cached is one the routes would answer with that route.
   */
  const cachedRunAnswer = async (request: Request): Promise<Response | null> => {
    if (request.method !== 'GET' || !runResponses || runResponses.isEmpty) return null;
    const target = requestTarget(request.url);
    if (!target.startsWith('/runs/')) return null;
    try {
      const principal = await authenticate(request);
      authenticated.set(request, principal);
      if (!principal || typeof principal.userId !== 'string' || principal.userId === '') return null;
      const body = await runResponses.find(runResponseKey(principal, target));
      return body === undefined ? null : runAnswer(body);
    } catch {
      // The routes answer it, and report what failed (a store that went away, a throwing hook).
      authenticated.delete(request);
      return null;
    }
  };

  /**
   * 304 for a `GET /runs` whose `If-None-Match` names the tag its answer would carry now
   * (listing-etags.ts), or null: the routes answer it in full, with a fresh tag.
   */
  const unchangedListing = async (request: Request): Promise<Response | null> => {
    const ifNoneMatch = request.headers.get('if-none-match');
    if (request.method !== 'GET' || !listingEtags || !ifNoneMatch) return null;
    const target = requestTarget(request.url);
    if (!isRunListingTarget(target)) return null;
    try {
      const principal = await authenticate(request);
      authenticated.set(request, principal);
      if (!principal || typeof principal.userId !== 'string' || principal.userId === '') return null;
      if (!(await listingEtags.unchanged(ifNoneMatch, principal, target))) return null;
      return new Response(null, { status: 304, headers: { etag: ifNoneMatch.trim(), ...LISTING_CACHE_HEADERS } });
    } catch {
      authenticated.delete(request);
      return null;
    }
  };

  const fetch = (request: Request): Promise<Response> => {
    const tracing = engine.tracing;
    if (!tracing) return answer(request);
    return tracing.serveHttp(request, () => answer(request), () => {
      const route = answered.get(request)?.route;
      return route === 'unmatched' ? undefined : route;
    });
  };

  const answer = async (request: Request): Promise<Response> => {
    const startedAt = observers.length > 0 ? performance.now() : 0;
    let response: Response;
    let seen: Pick<ObservedRequest, 'route' | 'principalId'> | undefined;
    try {
      const inner = basePath ? underBasePath(request, basePath) : request;
      if (!inner) response = errorResponse(new FlowError('ROUTE_NOT_FOUND', `no route outside ${basePath}`));
      else {
        // The two answers given before Hono routes (cached) are of known routes.
        // Each looked for only where it can answer: an async call that returns null still costs the request a turn through a promise.
        const early = (inner.method === 'GET' && listingEtags ? await unchangedListing(inner) : null) ?? (inner.method === 'GET' && runResponses && !runResponses.isEmpty ? await cachedRunAnswer(inner) : null);
        if (early) seen = { route: early.status === 304 ? '/runs' : '/runs/:id', principalId: authenticated.get(inner)?.userId ?? null };
        const direct = early || inner.method !== 'POST' ? null : startDirectly(inner);
        const started = direct && (await direct);
        if (started) seen = { route: '/runs', principalId: started.principalId };
        response = early ?? started?.response ?? (await app.fetch(inner));
        seen ??= answered.get(inner);
        // Under the request fetch was given (a base path makes another; cached answers skip Hono), for the tracing span's name.
        if (seen && engine.tracing && answered.get(request) !== seen) answered.set(request, seen);
      }
    } catch (error) {
      // Hono answers errors through onError; this is the last line for anything that escapes it.
      options.logger?.error({ err: error, method: request.method, path: loggablePath(new URL(request.url).pathname), status: 500 }, 'request failed outside the router');
      response = jsonResponse({ error: { code: 'INTERNAL', message: 'internal error', details: {} } }, 500);
    }
    state.metrics.countResponse(response.status);
    if (observers.length > 0) {
      const observed: ObservedRequest = { method: request.method, route: seen?.route ?? 'unmatched', status: response.status, durationMs: performance.now() - startedAt, principalId: seen?.principalId ?? null };
      notifyObservers(observers, (o) => o.requestEnded?.(observed));
    }
    return response;
  };

  /**
   * A cached run answer given in the request's own turn: the generation read now, the principal
   * from a token the default authenticator found under it, the answer kept under it. Whatever is
   * missing (another authenticator, a commit being made durable, a token or answer not seen under
   * this generation) leaves it to `fetch`, which checks the same things through the store.
   */
  const answerNow = (request: Request): Response | undefined => {
    const tracing = engine.tracing;
    if (request.method !== 'GET' || !runResponses || runResponses.isEmpty || !authenticateNow || (tracing && !tracing.servedHttp)) return undefined;
    try {
      let target = requestTarget(request.url);
      if (basePath) target = target.startsWith(`${basePath}/`) ? target.slice(basePath.length) : '';
      if (!target.startsWith('/runs/')) return undefined;
      const startedAt = observers.length > 0 || tracing ? performance.now() : 0;
      const generation = engine.store.readGenerationNow?.();
      if (generation === undefined) return undefined;
      const principal = authenticateNow(request, generation);
      if (!principal) return undefined;
      const body = runResponses.findNow(generation, runResponseKey(principal, target));
      if (body === undefined) return undefined;
      state.metrics.countResponse(200);
      tracing?.servedHttp!(request, 200, '/runs/:id', performance.timeOrigin + startedAt);
      if (observers.length > 0) {
        const observed: ObservedRequest = { method: 'GET', route: '/runs/:id', status: 200, durationMs: performance.now() - startedAt, principalId: principal.userId };
        notifyObservers(observers, (o) => o.requestEnded?.(observed));
      }
      return runAnswer(body);
    } catch {
      return undefined; // fetch answers it, and reports what failed
    }
  };

  return {
    fetch,
    answerNow,
    close: () => {
      state.closing = true;
      for (const controller of [...state.streams]) controller.abort();
    },
    get openStreams() {
      return state.streams.size;
    },
  };
}

/** A path fit for a log line: bounded, without the query (which may carry user data). */
function loggablePath(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/** A cached run answer (run-response-cache.ts) as the run route gives it. */
function runAnswer(body: string): Response {
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}

/** The request with `basePath` cut from its path; null for a path outside it. */
function underBasePath(request: Request, basePath: string): Request | null {
  const url = new URL(request.url);
  if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return null;
  url.pathname = url.pathname.slice(basePath.length) || '/';
  return new Request(url, { method: request.method, headers: request.headers, body: request.body, signal: request.signal, duplex: 'half' } as RequestInit);
}
