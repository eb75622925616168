/**
 * Events and approvals: `POST /events`, `POST /runs/{id}/approve`, `POST /runs/{id}/reject`,
 * acting for the request's principal (`userId` / `as`): events start only the subscribed flows
 * it may start (and whose deployers may subscribe to the name), and resume only the waiting runs
 * it may manage or was granted publishing the name for. The answer lists the runs started, the
 * waiting runs resumed that the caller may read, and the subscribers skipped (with the refusal)
 * of flows the caller may see — so it reveals no run or flow the caller may not see; a decision needs the manager role on the run, like cancel,
 * and `GET /approvals` lists only the runs waiting for a decision the caller may make. An engine without
 * these methods answers 501 NOT_IMPLEMENTED.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { FlowError, ValidationError } from '../../core/errors.js';
import { toRunView, type GovernanceEngine, type RouterEnv, type RouterState, actingFor } from '../router-context.js';
import { RunDetails } from '../run-details.js';
import { ApprovalPageSchema, ApprovalsQuery, DecisionBody, ErrorSchema, PublishEventBody, RunIdParam, RunSchema } from '../schemas.js';
import { errorResponses, jsonBody, ok } from './route-helpers.js';

const PublishedEventSchema = z.object({
  eventId: z.string(),
  runIds: z.array(z.string()),
  resumedRunIds: z.array(z.string()),
  skipped: z.array(z.object({ flowId: z.string(), flowVersion: z.number(), subscription: z.string(), code: z.string(), message: z.string() })),
});

/** The items whose `read` succeeds for the caller (a NOT_FOUND-like refusal drops the item), in order. */
async function keepVisible<T>(items: readonly T[], read: (item: T) => Promise<unknown>): Promise<T[]> {
  const seen = await Promise.all(items.map((item) => read(item).then(() => true, (error: unknown) => {
    if (error instanceof FlowError && (error.code.endsWith('NOT_FOUND') || error.code === 'PERMISSION_DENIED')) return false;
    throw error;
  })));
  return items.filter((_, i) => seen[i]);
}

/** A forged approvals marker names the query field, like every validation error. */
function markerError(error: unknown): never {
  if (error instanceof ValidationError && error.details?.field === 'marker') throw new ValidationError('INVALID_INPUT', [{ path: 'query.marker', message: error.issues[0]?.message ?? 'is not a marker' }]);
  throw error;
}

/** Registers the event and approval routes. */
export function addGovernanceRoutes(app: OpenAPIHono<RouterEnv>, state: RouterState): void {
  const { engine } = state;
  function method<K extends keyof GovernanceEngine>(name: K): GovernanceEngine[K] {
    const fn = engine[name];
    if (typeof fn !== 'function') throw new FlowError('NOT_IMPLEMENTED', `this engine cannot ${name === 'publishEvent' ? 'publish events' : name === 'listApprovals' ? 'list approvals' : name} yet`);
    return fn.bind(engine) as GovernanceEngine[K];
  }
  const responses = { ...errorResponses, 501: ok(ErrorSchema, 'NOT_IMPLEMENTED: the engine has no events or approvals') };

  app.openapi(
    createRoute({ method: 'post', path: '/events', tags: ['events'], summary: 'Publish an event: starts every subscribed flow the caller may start, once per event id', request: { body: jsonBody(PublishEventBody) }, responses: { 200: ok(PublishedEventSchema, 'the runs it started (the same ones for a repeated eventId), the waiting runs it resumed, and the subscribers it skipped with why'), ...responses } }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      state.starts.take(principal.userId, 1); // a publish may start runs: one start of the budget
      const published = await method('publishEvent')(body.name, body.payload, {
        userId: principal.userId,
        ...(principal.groups?.length ? { userGroups: principal.groups } : {}),
        ...(body.eventId !== undefined ? { eventId: body.eventId } : {}),
      });
      // Every run it answers counts as a start: one publish reaching many subscribers spends as many.
      state.starts.charge(principal.userId, published.runIds.length - 1);
      // What the caller may not see stays unsaid: resumed runs it cannot read, skipped subscribers of flows it cannot see.
      const as = actingFor(principal);
      const resumedRunIds = await keepVisible(published.resumedRunIds ?? [], (runId) => engine.getRun(runId, { as }));
      const skipped = await keepVisible(published.skipped ?? [], (s) => engine.getFlow(s.flowId, s.flowVersion, { as }));
      return c.json({ eventId: published.eventId, runIds: published.runIds, resumedRunIds, skipped }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/approvals', tags: ['runs'], summary: 'The runs waiting for an approval the caller may decide (it may manage them), oldest first', request: { query: ApprovalsQuery }, responses: { 200: ok(ApprovalPageSchema, 'a page of pending approvals'), ...responses } }),
    async (c) => {
      const q = c.req.valid('query');
      const as = actingFor(c.get('principal'));
      const marker = q.marker === undefined ? {} : { marker: await state.markers.open(q.marker) };
      const page = await method('listApprovals')({ as, limit: Math.min(q.limit ?? 50, 1000), ...marker }).catch(markerError);
      const details = new RunDetails(engine, as);
      const approvals = await Promise.all(page.approvals.map(async ({ run, ...approval }) => ({ run: (await details.describe(run)) as z.infer<typeof RunSchema>, ...approval })));
      return c.json({ approvals, hasNextPage: page.hasNextPage, marker: await state.markers.seal(page.marker) }, 200);
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.openapi(
      createRoute({ method: 'post', path: `/runs/{id}/${decision}`, tags: ['runs'], summary: `${decision === 'approve' ? 'Approve' : 'Reject'} the step a run waits at for approval`, request: { params: RunIdParam, body: jsonBody(DecisionBody) }, responses: { 200: ok(z.object({ run: RunSchema }), 'the run'), ...responses } }),
      async (c) => {
        const body = c.req.valid('json');
        const run = await method(decision)(c.req.valid('param').id, { stepId: body.stepId, as: actingFor(c.get('principal')), ...(body.comment !== undefined ? { comment: body.comment } : {}) });
        return c.json({ run: toRunView(run) as z.infer<typeof RunSchema> }, 200);
      },
    );
  }
}
