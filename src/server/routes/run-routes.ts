/**
 * Run routes: start, list, read, update, cancel, logs, children and persisted events. Every call
 * acts for the request's principal (`as`), so a run it may not read answers RUN_NOT_FOUND exactly
 * like a missing one, and a run it may read but not manage answers PERMISSION_DENIED.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { FlowError, ValidationError, type ValidationIssue } from '../../core/errors.js';
import { RUN_STATUSES, type RunEvent, type RunStatus } from '../../core/run.js';
import type { RunFilter } from '../../core/store.js';
import { type RouterEnv, type RouterState, actingFor } from '../router-context.js';
import { dayOrTimeBound } from '../day-bounds.js';
import { RunDetails, type RunDetailsView } from '../run-details.js';
import type { AuthenticatedPrincipal } from '../api-tokens.js';
import { childCountsOf, type ChildCount } from '../child-counts.js';
import type { PrincipalRef } from '../../core/engine/access/authorize.js';
import { requestTarget, runResponseKey } from '../run-response-cache.js';
import { LISTING_CACHE_HEADERS } from '../listing-etags.js';
import { CancelRunBody, ChildrenQuery, EventsQuery, GetRunQuery, ListRunsQuery, LogEntrySchema, LogsQuery, RunEventSchema, RunIdParam, RunPageSchema, RunSchema, StartRunBody, UpdateRunBody } from '../schemas.js';
import { startRunFor } from '../start-run.js';
import { errorResponses, jsonBody, ok } from './route-helpers.js';

/** The largest page any listing returns, whatever `limit` asks. */
export const MAX_PAGE = 1000;

const runBody = z.object({ run: RunSchema });

/**
 * What `POST /runs` answers for a valid body from an authenticated principal: the start budget
 * taken, the run started (or found by its idempotency key, or waited for with `wait`, which the
 * request's abort ends), described for that principal. The route and the router's direct path
 * (direct-start.ts) both answer through it. Throws what the start throws.
 */
export async function startAnswer(state: RouterState, body: StartRunBody, principal: AuthenticatedPrincipal, request: Request): Promise<{ run: RunDetailsView; status: 200 | 201 }> {
  state.starts.take(principal.userId, 1);
  // The signal only with `wait`: a Node adapter makes an AbortController for the first to ask for it.
  const started = await startRunFor(state.engine, body, principal, body.wait ? request.signal : undefined);
  if (started.created) state.metrics.runsStarted++;
  const run = await new RunDetails(state.engine, actingFor(principal)).describe(started.run);
  return { run, status: started.created && !body.wait ? 201 : 200 };
}

/** Registers the run routes (batch routes must be registered before these: `/runs/batch/…` also matches `/runs/{id}/…`). */
export function addRunRoutes(app: OpenAPIHono<RouterEnv>, state: RouterState): void {
  const { engine } = state;
  /** The runs, each with its `childCount` when `wanted`. */
  const withChildCounts = async <R extends { runId: string }>(wanted: boolean, as: PrincipalRef, runs: R[]): Promise<(R & Partial<ChildCount>)[]> => {
    if (!wanted) return runs;
    const counts = await childCountsOf(engine, as, runs.map((run) => run.runId));
    return runs.map((run, i) => ({ ...run, ...counts[i] }));
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs',
      tags: ['runs'],
      summary: 'Start a run',
      request: { body: jsonBody(StartRunBody) },
      responses: { 201: ok(runBody, 'started: the run as first recorded — ACTIVE, or already SUCCEEDED or FAILED when steps that only compute ended it at once'), 200: ok(runBody, 'ended (with `wait`), or the run an earlier request with the same idempotencyKey started'), ...errorResponses },
    }),
    async (c) => {
      const { run, status } = await startAnswer(state, c.req.valid('json'), c.get('principal'), c.req.raw);
      return c.json({ run: run as z.infer<typeof RunSchema> }, status);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/runs', tags: ['runs'], summary: 'List the runs the caller may read', request: { query: ListRunsQuery }, responses: { 200: ok(RunPageSchema, 'a page of runs'), ...errorResponses } }),
    async (c) => {
      // Read before anything the answer is built from: the answer's tag names it (listing-etags.ts).
      const generation = await state.listingEtags?.generation();
      const query = c.req.valid('query');
      const as = actingFor(c.get('principal'));
      const filter = runFilterOf(query);
      if (filter.marker !== undefined) filter.marker = await state.markers.open(filter.marker);
      const page = await engine.listRuns(filter, { as, ...listingOf(query) }).catch(markerError);
      const runs = await withChildCounts(query.childCounts === 'true', as, await new RunDetails(engine, as).describeAll(page.runs));
      const total = page.total === undefined ? {} : { total: page.total, totalIsEstimate: page.totalIsEstimate === true };
      const tag = generation === undefined ? {} : { etag: await state.listingEtags!.tag(generation, c.get('principal'), requestTarget(c.req.url)), ...LISTING_CACHE_HEADERS };
      return c.json({ runs: runs as z.infer<typeof RunSchema>[], hasNextPage: page.hasNextPage, marker: await state.markers.seal(page.marker), ...total }, 200, tag);
    },
  );

  app.openapi(createRoute({ method: 'get', path: '/runs/{id}', tags: ['runs'], summary: 'A run', request: { params: RunIdParam, query: GetRunQuery }, responses: { 200: ok(runBody, 'the run'), ...errorResponses } }), async (c) => {
    // Read before anything the answer is built from: the answer is kept under it (run-response-cache.ts).
    const generation = await state.runResponses?.generation();
    const as = actingFor(c.get('principal'));
    const run = await engine.getRun(c.req.valid('param').id, { as });
    const view = await new RunDetails(engine, as).describe(run, { withDefinition: c.req.valid('query').include === 'flowDefinition' });
    const body = JSON.stringify({ run: view });
    if (generation !== undefined) state.runResponses!.keep(generation, runResponseKey(c.get('principal'), requestTarget(c.req.url)), body);
    // The answer c.json would give, from the string already made; typed as c.json's (it is the same body).
    return c.body(body, 200, { 'content-type': 'application/json' }) as never;
  });

  app.openapi(
    createRoute({ method: 'patch', path: '/runs/{id}', tags: ['runs'], summary: "Change a run's label and tags", request: { params: RunIdParam, body: jsonBody(UpdateRunBody) }, responses: { 200: ok(runBody, 'the run'), ...errorResponses } }),
    async (c) => {
      const body = c.req.valid('json');
      const changes = { ...(body.label !== undefined ? { label: body.label } : {}), ...(body.tags !== undefined ? { tags: body.tags } : {}) };
      const as = actingFor(c.get('principal'));
      const run = await engine.updateRun(c.req.valid('param').id, changes, { as });
      return c.json({ run: (await new RunDetails(engine, as).describe(run)) as z.infer<typeof RunSchema> }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/cancel',
      tags: ['runs'],
      summary: 'Cancel a run and its synchronous children; with `{"tree": true}`, everything it started, launches included',
      request: { params: RunIdParam, body: { content: { 'application/json': { schema: CancelRunBody } }, required: false } },
      responses: { 200: ok(runBody, 'the run'), ...errorResponses },
    }),
    async (c) => {
      // The body is optional: a bare POST cancels the run and its synchronous children.
      const text = await c.req.text();
      const body = text.trim() === '' ? {} : parseCancelBody(text);
      const as = actingFor(c.get('principal'));
      const run = await engine.cancelRun(c.req.valid('param').id, { as, tree: body.tree === true });
      return c.json({ run: (await new RunDetails(engine, as).describe(run)) as z.infer<typeof RunSchema> }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/runs/{id}/logs', tags: ['runs'], summary: 'Log entries, oldest first', request: { params: RunIdParam, query: LogsQuery }, responses: { 200: ok(z.object({ entries: z.array(LogEntrySchema), total: z.number().int() }), 'a page of entries'), ...errorResponses } }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await engine.getRunLogs(c.req.valid('param').id, { limit: Math.min(q.limit ?? 100, MAX_PAGE), offset: q.offset ?? 0, as: actingFor(c.get('principal')) });
      return c.json(page, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/runs/{id}/children', tags: ['runs'], summary: 'Child runs the caller may read, oldest first, a page at a time', request: { params: RunIdParam, query: ChildrenQuery }, responses: { 200: ok(RunPageSchema, 'a page of child runs'), ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const as = actingFor(c.get('principal'));
      await engine.getRun(id, { as });
      const filter: RunFilter = { parentRunId: id, orderBy: 'startTime', orderDir: 'asc', limit: Math.min(q.limit ?? 50, MAX_PAGE), ...(q.marker ? { marker: await state.markers.open(q.marker) } : {}) };
      const page = await engine.listRuns(filter, { as }).catch(markerError);
      const runs = await withChildCounts(q.childCounts === 'true', as, await new RunDetails(engine, as).describeAll(page.runs));
      return c.json({ runs: runs as z.infer<typeof RunSchema>[], hasNextPage: page.hasNextPage, marker: await state.markers.seal(page.marker) }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/runs/{id}/events', tags: ['runs'], summary: 'Persisted events after `afterSeq`, optionally of some kinds only', request: { params: RunIdParam, query: EventsQuery }, responses: { 200: ok(z.object({ events: z.array(RunEventSchema) }), 'events in seq order'), ...errorResponses } }),
    async (c) => {
      const q = c.req.valid('query');
      const kinds = q.kinds === undefined ? {} : { kinds: [...new Set(q.kinds.split(','))] as RunEvent['kind'][] };
      const events = await engine.getRunEvents(c.req.valid('param').id, { afterSeq: q.afterSeq ?? 0, limit: Math.min(q.limit ?? 500, MAX_PAGE), as: actingFor(c.get('principal')), ...kinds });
      return c.json({ events: events as z.infer<typeof RunEventSchema>[] }, 200);
    },
  );
}

/** The store refuses a forged or foreign marker: say which field it was, like every validation error. */
function markerError(error: unknown): never {
  if (error instanceof FlowError && error.code === 'INVALID_INPUT' && error.details?.field === 'marker') throw new ValidationError('INVALID_INPUT', [{ path: 'query.marker', message: error.message }]);
  throw error;
}

/** The store filter of a validated query; names the field of a bad status or time. */
export function runFilterOf(q: z.infer<typeof ListRunsQuery>): RunFilter {
  const issues: ValidationIssue[] = [];
  const filter: RunFilter = { limit: Math.min(q.limit ?? 50, MAX_PAGE) };
  if (q.marker) filter.marker = q.marker;
  if (q.flowId) filter.flowId = q.flowId;
  if (q.label) filter.label = q.label;
  if (q.parentRunId) filter.parentRunId = q.parentRunId;
  if (q.rootsOnly === 'true') {
    if (q.parentRunId) issues.push({ path: 'query.rootsOnly', message: 'lists runs without a parent: leave parentRunId out' });
    filter.rootsOnly = true;
  }
  if (q.orderBy) filter.orderBy = q.orderBy === 'start_time' ? 'startTime' : q.orderBy === 'end_time' ? 'endTime' : q.orderBy;
  if (q.orderDir) filter.orderDir = q.orderDir;
  if (q.tags) filter.tags = splitList(q.tags);
  // A schedule's runs carry its tag (engine/schedules/schedule-poller.ts).
  if (q.scheduleId) filter.tags = [...(filter.tags ?? []), `schedule:${q.scheduleId}`];
  if (q.status) {
    const statuses = splitList(q.status);
    const bad = statuses.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s));
    if (bad.length > 0) issues.push({ path: 'query.status', message: `unknown status ${bad.map((s) => JSON.stringify(s)).join(', ')}; expected ${RUN_STATUSES.join(', ')}` });
    else filter.status = statuses as RunStatus[];
  }
  for (const field of ['startTimeFrom', 'startTimeTo', 'endTimeFrom', 'endTimeTo'] as const) {
    const text = q[field];
    if (text === undefined) continue;
    const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isFinite(ms)) filter[field] = ms;
    else issues.push({ path: `query.${field}`, message: `"${text.slice(0, 40)}" is not a time` });
  }
  // Seed 003's days: the tighter bound wins when a range bound is given as well.
  for (const [field, target, tighter] of [['startTime', 'startTimeFrom', Math.max], ['endTime', 'endTimeTo', Math.min]] as const) {
    const text = q[field];
    if (text === undefined) continue;
    const bound = dayOrTimeBound(text, field);
    if (bound === null) issues.push({ path: `query.${field}`, message: `"${text.slice(0, 40)}" is not a day or a time` });
    else filter[target] = filter[target] === undefined ? bound : tighter(filter[target], bound);
  }
  if (issues.length > 0) throw new ValidationError('INVALID_INPUT', issues);
  return filter;
}

/** The listing options of a validated query: `offset`, and `total` unless `markerOnly`. */
export function listingOf(q: z.infer<typeof ListRunsQuery>): { offset?: number; withTotal: boolean } {
  const markerOnly = q.markerOnly === 'true';
  if (markerOnly && q.offset !== undefined && q.offset > 0) throw new ValidationError('INVALID_INPUT', [{ path: 'query.offset', message: 'markerOnly pages by marker alone: leave offset out' }]);
  return { ...(q.offset ? { offset: q.offset } : {}), withTotal: !markerOnly };
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The body of a cancel: `{}` or `{"tree": true|false}`; anything else is INVALID_INPUT naming the field. */
function parseCancelBody(text: string): z.infer<typeof CancelRunBody> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError('INVALID_INPUT', [{ path: 'body', message: 'must be a JSON object' }]);
  }
  const parsed = CancelRunBody.safeParse(json);
  if (!parsed.success) throw new ValidationError('INVALID_INPUT', parsed.error.issues.map((issue) => ({ path: ['body', ...issue.path.map(String)].join('.'), message: issue.message })));
  return parsed.data;
}
