/**
 * Schedules over HTTP (issue 17): `POST /schedules`, `GET /schedules`, `GET|PATCH|DELETE
 * /schedules/{id}`, and `POST /schedules/{id}/pause|resume|trigger|backfill`, each acting for the
 * request's principal: creating needs the right to start the flow (and act as `runAs`), and a
 * schedule the caller may not manage (not its owner, nor the flow's administrator) answers
 * SCHEDULE_NOT_FOUND like one that does not exist. Triggers and backfills spend the caller's
 * start budget (`maxStartsPerSecond`), one start per slot asked for.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { OVERLAP_POLICIES, type ScheduleInput } from '../../core/schedule.js';
import { actingFor, type RouterEnv, type RouterState } from '../router-context.js';
import { errorResponses, jsonBody, ok } from './route-helpers.js';

const time = z.union([z.number().nonnegative(), z.string().max(64)]);
const fields = {
  cron: z.string().max(256).optional().openapi({ description: 'a cron expression of 5 or 6 fields (seconds first when 6); names, ranges, steps, L and #' }),
  timezone: z.string().max(100).optional().openapi({ description: 'the IANA time zone the cron expression is read in (default UTC)' }),
  every: z.string().max(40).optional().openapi({ description: 'an interval such as 15m, 1h30m, 10s (at least 1s), aligned to the epoch plus `offset`' }),
  offset: z.string().max(40).optional(),
  actionName: z.string().min(1).max(256).optional(),
  startAt: time.nullable().optional(),
  endAt: time.nullable().optional(),
  jitterMs: z.number().int().optional(),
  maxRuns: z.number().int().nullable().optional(),
  input: z.unknown().optional(),
  runAs: z.string().min(1).max(200).nullable().optional(),
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  catchupWindowMs: z.number().int().optional(),
  pauseAfterFailures: z.number().int().nullable().optional(),
};
const CreateScheduleBody = z.strictObject({ scheduleId: z.string().max(128).optional(), flowId: z.string().min(1).max(256), paused: z.boolean().optional(), note: z.string().max(1000).nullable().optional(), ...fields }).openapi('CreateSchedule');
const UpdateScheduleBody = z.strictObject(fields).openapi('UpdateSchedule');
const PauseBody = z.strictObject({ note: z.string().max(1000).nullable().optional() });
const BackfillBody = z.strictObject({ from: time, to: time });
const IdParam = z.object({ id: z.string().min(1).max(512) });
const Outcome = z
  .object({ slot: z.number(), lastSlot: z.number().optional(), count: z.number().optional(), runId: z.string().optional(), status: z.string(), reason: z.string().optional(), code: z.string().optional(), kind: z.string().optional(), at: z.number() })
  .openapi('ScheduleOutcome');
const ScheduleSchema = z
  .object({
    scheduleId: z.string(),
    flowId: z.string(),
    actionName: z.string(),
    spec: z.union([z.object({ cron: z.string(), timezone: z.string().optional() }), z.object({ every: z.string(), offset: z.string().optional() })]),
    startAt: z.number().nullable(),
    endAt: z.number().nullable(),
    jitterMs: z.number(),
    maxRuns: z.number().nullable(),
    input: z.unknown(),
    runAs: z.string().nullable(),
    overlap: z.enum(OVERLAP_POLICIES),
    catchupWindowMs: z.number(),
    pauseAfterFailures: z.number().nullable(),
    owner: z.string().openapi({ description: 'who the runs start as (unless runAs); "" for trusted in-process code' }),
    origin: z.enum(['api', 'definition']),
    definitionVersion: z.number().nullable(),
    paused: z.boolean(),
    note: z.string().nullable(),
    nextFireAt: z.number().nullable(),
    nextFireTimes: z.array(z.number()).openapi({ description: 'the next slots (without jitter)' }),
    createdAt: z.number(),
    updatedAt: z.number(),
    version: z.number(),
    state: z.object({
      lastSlot: z.number().nullable(),
      lastFiredSlot: z.number().nullable(),
      runCount: z.number(),
      consecutiveFailures: z.number(),
      buffered: z.array(z.number()).openapi({ description: 'slots waiting for the running run to end' }),
      activeRuns: z.array(z.object({ runId: z.string(), slot: z.number() })),
      recent: z.array(Outcome).openapi({ description: 'recent runs with their outcomes' }),
      skipped: z.array(Outcome).openapi({ description: 'recently skipped slots, with why' }),
      completed: z.boolean().optional(),
    }),
  })
  .openapi('Schedule');
const ScheduleBody = z.object({ schedule: ScheduleSchema });
const FiredBody = z.object({ schedule: ScheduleSchema, outcomes: z.array(Outcome) });
const ListQuery = z.strictObject({ flowId: z.string().max(256).optional(), after: z.string().max(512).optional(), limit: z.coerce.number().int().min(1).max(500).optional() });
const GetQuery = z.strictObject({ next: z.coerce.number().int().min(0).max(100).optional().openapi({ description: 'how many next fire times to show (default 5)' }) });

/** A time given as ms or an ISO 8601 string, as ms (NaN when it is neither: the engine refuses it). */
function msOf(value: number | string): number {
  return typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

/** Registers the schedule routes. */
export function addScheduleRoutes(app: OpenAPIHono<RouterEnv>, state: RouterState): void {
  const schedules = () => state.engine.schedules;
  const route = <P extends string>(method: 'get' | 'post' | 'patch' | 'delete', path: P, summary: string) => ({ method, path, tags: ['schedules'], summary });
  type Json = z.infer<typeof ScheduleSchema>;

  app.openapi(createRoute({ ...route('post', '/schedules', 'Create a schedule: its runs start as the caller, or its service account'), request: { body: jsonBody(CreateScheduleBody) }, responses: { 201: ok(ScheduleBody, 'the schedule'), ...errorResponses } }), async (c) => {
    const body = c.req.valid('json') as ScheduleInput & { scheduleId?: string; paused?: boolean; note?: string | null };
    return c.json({ schedule: (await schedules().create(body, { as: actingFor(c.get('principal')) })) as Json }, 201);
  });
  app.openapi(createRoute({ ...route('get', '/schedules', 'The schedules the caller may manage, in id order. A page can hold fewer than `limit` (even none) when the caller may manage few of the schedules read; follow `next` until it is null'), request: { query: ListQuery }, responses: { 200: ok(z.object({ schedules: z.array(ScheduleSchema), next: z.string().nullable() }), 'a page of schedules'), ...errorResponses } }), async (c) => {
    const q = c.req.valid('query');
    const page = await schedules().list(q, { as: actingFor(c.get('principal')) });
    return c.json({ schedules: page.schedules as Json[], next: page.next }, 200);
  });
  app.openapi(createRoute({ ...route('get', '/schedules/{id}', 'A schedule: its next fire times, recent runs with outcomes, skipped slots with why'), request: { params: IdParam, query: GetQuery }, responses: { 200: ok(ScheduleBody, 'the schedule'), ...errorResponses } }), async (c) => {
    const q = c.req.valid('query');
    return c.json({ schedule: (await schedules().get(c.req.valid('param').id, { as: actingFor(c.get('principal')), ...(q.next !== undefined ? { nextCount: q.next } : {}) })) as Json }, 200);
  });
  app.openapi(createRoute({ ...route('patch', '/schedules/{id}', 'Change a schedule (fields not given stay)'), request: { params: IdParam, body: jsonBody(UpdateScheduleBody) }, responses: { 200: ok(ScheduleBody, 'the schedule'), ...errorResponses } }), async (c) => {
    const body = c.req.valid('json') as ScheduleInput;
    return c.json({ schedule: (await schedules().update(c.req.valid('param').id, body, { as: actingFor(c.get('principal')) })) as Json }, 200);
  });
  app.openapi(createRoute({ ...route('delete', '/schedules/{id}', 'Delete a schedule (its runs stay)'), request: { params: IdParam }, responses: { 200: ok(z.object({ deleted: z.literal(true) }), 'deleted'), ...errorResponses } }), async (c) => {
    await schedules().delete(c.req.valid('param').id, { as: actingFor(c.get('principal')) });
    return c.json({ deleted: true as const }, 200);
  });
  app.openapi(createRoute({ ...route('post', '/schedules/{id}/pause', 'Pause a schedule with a note'), request: { params: IdParam, body: jsonBody(PauseBody) }, responses: { 200: ok(ScheduleBody, 'the schedule'), ...errorResponses } }), async (c) => {
    return c.json({ schedule: (await schedules().pause(c.req.valid('param').id, c.req.valid('json').note ?? null, { as: actingFor(c.get('principal')) })) as Json }, 200);
  });
  app.openapi(createRoute({ ...route('post', '/schedules/{id}/resume', 'Resume a paused schedule from now (missed slots are recorded as skipped)'), request: { params: IdParam }, responses: { 200: ok(ScheduleBody, 'the schedule'), ...errorResponses } }), async (c) => {
    return c.json({ schedule: (await schedules().resume(c.req.valid('param').id, { as: actingFor(c.get('principal')) })) as Json }, 200);
  });
  app.openapi(createRoute({ ...route('post', '/schedules/{id}/trigger', 'Start a run now, through the overlap policy'), request: { params: IdParam }, responses: { 200: ok(FiredBody, 'the schedule and what the trigger did'), ...errorResponses } }), async (c) => {
    const principal = c.get('principal');
    state.starts.take(principal.userId, 1);
    const fired = await schedules().trigger(c.req.valid('param').id, { as: actingFor(principal) });
    return c.json({ schedule: fired.schedule as Json, outcomes: fired.outcomes }, 200);
  });
  app.openapi(createRoute({ ...route('post', '/schedules/{id}/backfill', 'Fire the slots of a time range, through the overlap policy (slots that ran start nothing new)'), request: { params: IdParam, body: jsonBody(BackfillBody) }, responses: { 200: ok(FiredBody, 'the schedule and what the backfill did'), ...errorResponses } }), async (c) => {
    const principal = c.get('principal');
    const body = c.req.valid('json');
    state.starts.take(principal.userId, 1);
    const fired = await schedules().backfill(c.req.valid('param').id, { from: msOf(body.from), to: msOf(body.to) }, { as: actingFor(principal) });
    state.starts.charge(principal.userId, fired.outcomes.filter((o) => o.status === 'started').length - 1);
    return c.json({ schedule: fired.schedule as Json, outcomes: fired.outcomes }, 200);
  });
}
