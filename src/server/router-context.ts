/**
 * What every route handler shares: the engine subset the router serves, the principal of the
 * request, and the router's own state (open streams, counters, limits).
 */
import type { Engine } from '../core/engine/engine.js';
import type { Logger } from '../core/engine/types.js';
import type { RunRecord } from '../core/run.js';
import type { Authenticate, AuthenticatedPrincipal } from './api-tokens.js';
import type { PrincipalRef } from '../core/engine/access/authorize.js';
import type { ListApprovalsOptions, PendingApprovalPage } from '../core/engine/governance/pending-approvals.js';
import type { ServerMetrics } from './metrics.js';
import type { RequestObserver } from './request-observer.js';
import type { MarkerSeal } from './marker-seal.js';
import type { RunResponseCache } from './run-response-cache.js';
import type { ListingEtags } from './listing-etags.js';
import type { StartRateLimiter } from './start-rate-limiter.js';

/**
 * The engine methods the router calls. An `Engine` has them all; `publishEvent`, `approve` and
 * `reject` are routed when the engine has them and answer 501 NOT_IMPLEMENTED otherwise.
 */
export type FlowApiEngine = Pick<
  Engine,
  'startRun' | 'getRun' | 'listRuns' | 'updateRun' | 'cancelRun' | 'getRunLogs' | 'getRunEvents' | 'watchRun' | 'deployFlow' | 'publishFlow' | 'listFlows' | 'getFlow' | 'loadFlow' | 'waitForRun' | 'store' | 'clock' | 'access' | 'derivedRunIds' | 'budgets' | 'schedules'
> &
  Partial<GovernanceEngine> &
  Partial<Pick<Engine, 'tracing'>>;

/** A subscriber an event did not start, and why (see `SkippedSubscriber` of the engine). */
export interface SkippedSubscriberView {
  flowId: string;
  flowVersion: number;
  subscription: string;
  code: string;
  message: string;
}

/** Events and approvals (publish, decide, list what waits): routed when the engine has them (an older engine answers 501 NOT_IMPLEMENTED). */
export interface GovernanceEngine {
  publishEvent(name: string, payload?: unknown, options?: { eventId?: string; userId?: string; userGroups?: readonly string[] }): Promise<{ eventId: string; runIds: string[]; resumedRunIds?: string[]; skipped?: SkippedSubscriberView[] }>;
  approve(runId: string, options: { stepId: string; comment?: string; as?: PrincipalRef }): Promise<RunRecord>;
  reject(runId: string, options: { stepId: string; comment?: string; as?: PrincipalRef }): Promise<RunRecord>;
  listApprovals(options: ListApprovalsOptions): Promise<PendingApprovalPage>;
}

/** The router's shared state, one per router. */
export interface RouterState {
  engine: FlowApiEngine;
  metrics: ServerMetrics;
  /** Told of answered requests and event streams (the request log, metrics, tracing). */
  observers: readonly RequestObserver[];
  /** Aborts every open SSE stream (graceful close). */
  streams: Set<AbortController>;
  heartbeatMs: number;
  /** How often an open event stream checks that its reader may still read the run. */
  accessRecheckMs: number;
  /** The router's authentication: an open stream asks it again at every recheck (a revoked token ends it). */
  authenticate: Authenticate;
  /** Set by the router's close(): no new event stream starts. */
  closing: boolean;
  logger: Logger | undefined;
  /** Starts per principal per second (`maxStartsPerSecond`): start routes take from it before starting anything. */
  starts: StartRateLimiter;
  /** Seals the markers listings hand out and opens those that come back (marker-seal.ts). */
  markers: MarkerSeal;
  /** Answers of `GET /runs/{id}` served again while the store is unchanged; null when the store cannot tell. */
  runResponses: RunResponseCache | null;
  /** Entity tags of `GET /runs` answers (304 while the store is unchanged); null when the store cannot tell. */
  listingEtags: ListingEtags | null;
}

/** Hono's per-request variables. */
export interface RouterEnv {
  Variables: { principal: AuthenticatedPrincipal };
}

/**
 * Who the request acts for, as the engine takes it: the authenticated id, with the groups the
 * identity provider asserted (an `authenticate` hook's `groups`) counted beside the stored ones.
 */
export function actingFor(principal: AuthenticatedPrincipal): PrincipalRef {
  return principal.groups && principal.groups.length > 0 ? { id: principal.userId, groups: principal.groups } : principal.userId;
}

/** A run as the API returns it: the record without its execution state and lease bookkeeping. */
export type RunView = Omit<RunRecord, 'state' | 'leaseOwner' | 'leaseExpiresAt' | 'fencingToken' | 'readyAt' | 'version' | 'traceContext'>;

/** The API form of a run record. */
export function toRunView(run: Omit<RunRecord, 'state'> & { state?: unknown }): RunView {
  // The trace context is for the processes that execute the run (core/tracing.ts), not part of the API.
  const { state: _state, leaseOwner: _owner, leaseExpiresAt: _expires, fencingToken: _token, readyAt: _ready, version: _version, traceContext: _trace, ...view } = run;
  return view;
}
