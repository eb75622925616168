/**
 * The Globus Flows REST API over flowrun, as one web-standard handler: a client of the Globus
 * Flows service (`@globus/sdk`, Python's `globus-sdk`, `globus-cli`) configured with this
 * handler's origin as its Flows base URL (`GLOBUS_SDK_SERVICE_URL_FLOWS`) starts, lists, reads,
 * updates and cancels flowrun runs and reads flowrun flows. Runs and flows are flowrun's own,
 * seen through a mapping (globus-run-view.ts, globus-flow-view.ts, globus-principals.ts): a run
 * started here is an ordinary flowrun run, and the other way round. Serve it at the root of an
 * origin: the SDKs resolve every path against the origin of their base URL.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { FlowError } from '../../core/errors.js';
import type { Logger } from '../../core/engine/types.js';
import { apiTokenAuthenticator, type Authenticate } from '../api-tokens.js';
import { statusOf } from '../error-response.js';
import { MarkerSeal } from '../marker-seal.js';
import { notifyObservers, requestLogObserver, type ObservedRequest, type RequestObserver } from '../request-observer.js';
import type { FlowApiEngine } from '../router-context.js';
import { StartRateLimiter } from '../start-rate-limiter.js';
import type { GlobusEnv, GlobusState } from './globus-context.js';
import { globusErrorResponse } from './globus-errors.js';
import { addGlobusFlowRoutes } from './globus-flow-routes.js';
import { addGlobusRunRoutes } from './globus-run-routes.js';

/** Options of {@link createGlobusFlowsHandler}: those of `createFlowApiRouter` it shares. */
export interface GlobusFlowsHandlerOptions {
  /** The engine whose flows and runs are served; every call acts for the request's principal. */
  engine: FlowApiEngine;
  /**
   * Who a request comes from; null answers 401. Default: `Authorization: Bearer <token>` checked
   * against the API tokens in the engine's stores — a flowrun token, the same as for flowrun's API.
   */
  authenticate?: Authenticate;
  /** Largest request body in bytes (default 1 MiB); a larger one answers 413. */
  maxBodyBytes?: number;
  /** Where unexpected errors (answered 500) are reported, and one line per request unless `requestLog` is false. */
  logger?: Logger;
  /** One `request` line per answered request at `info` through `logger` (default true), as flowrun's router logs. */
  requestLog?: boolean;
  /**
   * Told of every answered request (e.g. `flowrun/metrics`' PrometheusMetrics). Routes are named
   * `globus <pattern>` (`globus /runs/:runId`), so they never mix with flowrun's own routes.
   */
  observers?: readonly RequestObserver[];
}

/** A web-standard handler of the Globus Flows API; `serve({router})` of `flowrun/server` puts it on a port. */
export interface GlobusFlowsHandler {
  /** Answers one request. Bound; never rejects. */
  readonly fetch: (request: Request) => Promise<Response>;
  /** Nothing to end (the handler holds no streams); here so `serve()` takes it like a router. */
  close(): void;
  /** Always 0: the Globus API has no event streams. */
  readonly openStreams: number;
}

/**
 * Creates the Globus Flows handler over an engine. Operations served: `POST /flows/{flow_id}/run`,
 * `GET /runs`, `GET /flows/{flow_id}/runs`, `GET|PUT /runs/{run_id}`, `POST
 * /runs/{run_id}/cancel`, `POST /runs/{run_id}/release` (a 409 for a run that has not ended;
 * flowrun does not release one run on request: 501), `GET /runs/{run_id}/log`, `GET
 * /runs/{run_id}/definition`, `GET /flows`, `GET /flows/{flow_id}`. Deploying, updating and
 * deleting flows, resuming a run and batch updates answer 501 NOT_IMPLEMENTED saying why. Every
 * error is Globus-shaped (globus-errors.ts); starts count against the same per-principal budget
 * (`maxStartsPerSecond`) as flowrun's routes, in the same buckets (one limiter per engine).
 */
export function createGlobusFlowsHandler(options: GlobusFlowsHandlerOptions): GlobusFlowsHandler {
  const { engine } = options;
  const authenticate = options.authenticate ?? apiTokenAuthenticator(engine.store, () => engine.clock.now());
  const state: GlobusState = {
    engine,
    markers: new MarkerSeal(() => engine.store.getStoreSecret()),
    starts: StartRateLimiter.of(engine, { startsPerSecond: engine.budgets.maxStartsPerSecond, now: () => engine.clock.now() }),
    logger: options.logger,
  };
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const observers: RequestObserver[] = [...(options.observers ?? [])];
  if (options.logger && options.requestLog !== false) observers.push(requestLogObserver(options.logger));
  const tracing = engine.tracing;
  /** The route pattern and principal of a request Hono answered (set once it is answered). */
  const answered = new WeakMap<Request, Pick<ObservedRequest, 'route' | 'principalId'>>();
  const app = new Hono<GlobusEnv>();

  app.onError((error, c) => {
    if (error instanceof HTTPException) return globusErrorResponse(new FlowError(error.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_INPUT', error.message));
    if (!(error instanceof FlowError) || statusOf(error.code) >= 500) {
      options.logger?.error({ err: error, method: c.req.method, path: c.req.path.slice(0, 200), status: error instanceof FlowError ? statusOf(error.code) : 500 }, 'globus request failed');
    }
    const retryAfter = error instanceof FlowError ? error.details?.retryAfterSeconds : undefined;
    return globusErrorResponse(error, typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : undefined);
  });
  app.notFound((c) => globusErrorResponse(new FlowError('ROUTE_NOT_FOUND', `flowrun serves no ${c.req.method} ${c.req.path.slice(0, 200)} of the Globus Flows API`)));

  // First of all middleware, so it sees every answer (a `*` pattern means no route matched).
  if (observers.length > 0 || tracing) {
    app.use('*', async (c, next) => {
      const raw = c.req.raw; // bodyLimit may replace c.req.raw
      await next();
      // Without the patterns' regular expressions: `/flows/:flowId{.+}/run` is named `/flows/:flowId/run`.
      const route = routePath(c).replace(/\{[^}]*\}/g, '');
      answered.set(raw, { route: route === '*' || route === '' || route === '/*' ? 'unmatched' : `globus ${route}`, principalId: c.get('principal')?.userId ?? null });
    });
  }
  app.use('*', async (c, next) => {
    const principal = await authenticate(c.req.raw);
    if (!principal || typeof principal.userId !== 'string' || principal.userId === '') {
      return globusErrorResponse(new FlowError('UNAUTHENTICATED', 'missing or invalid credentials: send Authorization: Bearer <flowrun API token>'), { 'www-authenticate': 'Bearer' });
    }
    c.set('principal', principal);
    await next();
  });
  const tooLarge = () => globusErrorResponse(new FlowError('PAYLOAD_TOO_LARGE', `request bodies are limited to ${maxBodyBytes} bytes`));
  app.use('*', bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge }));

  addGlobusRunRoutes(app, state);
  addGlobusFlowRoutes(app, state);
  app.post('/batch/runs', () => {
    throw new FlowError('NOT_IMPLEMENTED', 'flowrun does not update runs in batches here: update each run with PUT /runs/{run_id}');
  });

  const answer = async (request: Request): Promise<Response> => {
    const startedAt = observers.length > 0 ? performance.now() : 0;
    let response: Response;
    try {
      response = await app.fetch(request);
    } catch (error) {
      options.logger?.error({ err: error, method: request.method, status: 500 }, 'globus request failed outside the handler');
      response = globusErrorResponse(error);
    }
    if (observers.length > 0) {
      const seen = answered.get(request);
      const observed: ObservedRequest = { method: request.method, route: seen?.route ?? 'unmatched', status: response.status, durationMs: performance.now() - startedAt, principalId: seen?.principalId ?? null };
      notifyObservers(observers, (o) => o.requestEnded?.(observed));
    }
    return response;
  };
  const fetch = (request: Request): Promise<Response> => {
    if (!tracing) return answer(request);
    return tracing.serveHttp(request, () => answer(request), () => {
      const route = answered.get(request)?.route;
      return route === 'unmatched' ? undefined : route;
    });
  };
  return { fetch, close: () => {}, openStreams: 0 };
}
