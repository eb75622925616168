/**
 * `flowrun/server`: the HTTP API as a web-standard `fetch` handler (with the dashboard when its
 * `dashboard` option asks), `serve()` for Node, and
 * API tokens. See `routes.md` for the routes.
 */
export { createFlowApiRouter, type FlowApiRouter, type FlowApiRouterOptions } from './create-flow-api-router.js';
export type { DashboardOptions } from './dashboard-route.js';
export { serve, type ServeOptions, type RunningServer } from './listen.js';
export { newApiToken, hashApiToken, bearerToken, apiTokenAuthenticator, API_TOKEN_PREFIX, type Authenticate, type RememberingAuthenticate, type AuthenticatedPrincipal, type ApiTokenLookup, type StoredApiToken } from './api-tokens.js';
export { ERROR_STATUS, statusOf, errorBody, type ErrorBody } from './error-response.js';
export type { FlowApiEngine, RunView } from './router-context.js';
export type { ObservedRequest, RequestObserver, MetricsSource } from './request-observer.js';
export type { BatchResult } from './routes/batch-routes.js';
export { createGlobusFlowsHandler, type GlobusFlowsHandler, type GlobusFlowsHandlerOptions } from './globus/create-globus-flows-handler.js';
