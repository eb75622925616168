/**
 * The run operations of the Globus Flows API over flowrun's engine: start (`POST
 * /flows/{flow_id}/run`), list (`GET /runs`, `GET /flows/{flow_id}/runs`), get, update, cancel,
 * release, log and definition. Every one acts for the request's principal through the same
 * engine calls as flowrun's own routes (`startRunFor`, `listRuns`, `getRun`, `updateRun`,
 * `cancelRun`, `getRunLogs`), so the permission model is flowrun's and a run the caller may not
 * read answers NOT_FOUND exactly like a missing one.
 */
import type { Context, Hono } from 'hono';
import { ConflictError, ValidationError } from '../../core/errors.js';
import { MAX_LIST_OFFSET } from '../../core/engine/access/authorize.js';
import { isTerminalStatus, type RunRecord } from '../../core/run.js';
import { actingFor } from '../router-context.js';
import { RunDetails } from '../run-details.js';
import { startRunFor } from '../start-run.js';
import { readRunFlowBody, readRunUpdateBody } from './globus-bodies.js';
import { jsonObjectBody, openMarker, sealMarker, type GlobusEnv, type GlobusState } from './globus-context.js';
import { notServed } from './globus-errors.js';
import { readLogPage } from './globus-log-page.js';
import { inputSchemaOf } from './globus-flow-view.js';
import { readRunQuery, type GlobusRunQuery } from './globus-run-query.js';
import { namedRunRoles, toGlobusRun, type GlobusRun } from './globus-run-view.js';

type GlobusContext = Context<GlobusEnv>;

/** Registers the run routes (before the flow routes: `/flows/{flow_id}/run` also matches `/flows/{flow_id}`). */
export function addGlobusRunRoutes(app: Hono<GlobusEnv>, state: GlobusState): void {
  const { engine } = state;
  const as = (c: GlobusContext) => actingFor(c.get('principal'));

  /** The Globus form of runs for the caller; with `roles`, only those on which it holds one of them. */
  const describe = async (c: GlobusContext, runs: readonly Omit<RunRecord, 'state'>[], options: { roles?: string[]; withFlowDescription?: boolean } = {}): Promise<GlobusRun[]> => {
    const details = new RunDetails(engine, as(c));
    const [views, principal] = await Promise.all([details.describeAll(runs), engine.access.principal(as(c))]);
    const flows = await Promise.all(runs.map((run) => details.viewableFlow(run)));
    const kept: GlobusRun[] = [];
    views.forEach((view, i) => {
      const flow = flows[i] ?? null;
      if (options.roles && options.roles.length > 0 && !holdsAny(namedRunRoles(principal, view, flow), options.roles)) return;
      kept.push(toGlobusRun(view, { principal, flow, withFlowDescription: options.withFlowDescription === true }));
    });
    return kept;
  };

  app.post('/flows/:flowId{.+}/run', async (c) => {
    const start = readRunFlowBody(await jsonObjectBody(c.req.raw));
    const principal = c.get('principal');
    state.starts.take(principal.userId, 1);
    const { run } = await startRunFor(
      engine,
      {
        flowId: c.req.param('flowId'),
        input: start.input,
        ...(start.label !== undefined ? { label: start.label } : {}),
        ...(start.tags !== undefined ? { tags: start.tags } : {}),
        ...(start.monitors ? { runMonitoringBy: start.monitors.users, runMonitoringGroups: start.monitors.groups } : {}),
        ...(start.managers ? { runManagingBy: start.managers.users, runManagingGroups: start.managers.groups } : {}),
      },
      principal,
    );
    return c.json((await describe(c, [run]))[0]!, 201);
  });

  const listRuns = async (c: GlobusContext, flowId?: string) => {
    const params = new URL(c.req.url).searchParams;
    const markerText = params.get('marker') ?? params.get('pagination_token');
    let query: GlobusRunQuery;
    let storeMarker: string | undefined;
    if (markerText !== null && markerText !== '') {
      // Globus: a marker carries the whole query; the other parameters are ignored.
      const content = await openMarker(state.markers, markerText, 'runs');
      query = content.query as GlobusRunQuery;
      storeMarker = content.at as string;
    } else {
      query = readRunQuery(params, MAX_LIST_OFFSET);
      if (flowId !== undefined) query.filter.flowId = flowId;
      if (query.flowTitle !== undefined) {
        const matching = await flowsTitled(c, query.flowTitle);
        if (matching.length === 0) return c.json({ runs: [], limit: query.perPage, has_next_page: false }, 200);
        if (matching.length > 1) throw new ValidationError('INVALID_INPUT', [{ path: 'query.filter_flow_title', message: `"${query.flowTitle.slice(0, 40)}" is in the titles of ${matching.length} flows; flowrun lists the runs of one flow at a time (use filter_flow_id)` }]);
        query.filter.flowId = matching[0]!;
      }
    }
    const page = await engine.listRuns({ ...query.filter, limit: query.perPage, ...(storeMarker !== undefined ? { marker: storeMarker } : {}) }, { as: as(c), ...(storeMarker === undefined && query.offset > 0 ? { offset: query.offset } : {}) });
    const runs = await describe(c, page.runs, { roles: query.roles });
    const next = page.hasNextPage && page.marker !== null ? { marker: await sealMarker(state.markers, { kind: 'runs', query: { ...query, offset: 0 }, at: page.marker }) } : {};
    return c.json({ runs, limit: query.perPage, has_next_page: page.hasNextPage, ...next }, 200);
  };

  /** The ids of the flows the caller may see whose title contains `text` (case-insensitive). */
  const flowsTitled = async (c: GlobusContext, text: string): Promise<string[]> => {
    const wanted = text.toLowerCase();
    const summaries = (await engine.listFlows()).filter((s) => (s.title ?? s.flowId).toLowerCase().includes(wanted));
    const visible = await Promise.all(summaries.map((s) => engine.getFlow(s.flowId, 'LATEST', { as: as(c) }).then(() => true, () => false)));
    return summaries.filter((_, i) => visible[i]).map((s) => s.flowId);
  };

  app.get('/runs', (c) => listRuns(c));
  app.get('/flows/:flowId{.+}/runs', async (c) => {
    const flowId = c.req.param('flowId');
    await engine.getFlow(flowId, undefined, { as: as(c) });
    return listRuns(c, flowId);
  });

  app.get('/runs/:runId', async (c) => {
    const run = await engine.getRun(c.req.param('runId'), { as: as(c) });
    const include = c.req.query('include_flow_description');
    return c.json((await describe(c, [run], { withFlowDescription: include === 'true' || include === 'True' || include === '1' }))[0]!, 200);
  });

  app.put('/runs/:runId', async (c) => {
    const update = readRunUpdateBody(await jsonObjectBody(c.req.raw));
    const runId = c.req.param('runId');
    if (update.monitors !== undefined || update.managers !== undefined) {
      // Hide an invisible run before saying anything else about it.
      const run = await engine.access.manageableRun(runId, as(c));
      if ((update.monitors && !sameSet(update.monitors, run.monitors)) || (update.managers && !sameSet(update.managers, run.managers))) {
        throw notServed('flowrun does not change the run_monitors or run_managers of a run after it started; give them when starting it');
      }
    }
    const changes = { ...(update.label !== undefined ? { label: update.label } : {}), ...(update.tags !== undefined ? { tags: update.tags } : {}) };
    const run = await engine.updateRun(runId, changes, { as: as(c) });
    return c.json((await describe(c, [run]))[0]!, 200);
  });

  app.post('/runs/:runId/cancel', async (c) => {
    const run = await engine.cancelRun(c.req.param('runId'), { as: as(c) });
    return c.json((await describe(c, [run]))[0]!, 202);
  });

  app.post('/runs/:runId/release', async (c) => {
    const run = await engine.access.manageableRun(c.req.param('runId'), as(c));
    if (!isTerminalStatus(run.status)) throw new ConflictError(`run "${run.runId}" has not completed (it is ${run.status}): cancel it or let it end before releasing it`, { runId: run.runId });
    throw notServed('flowrun keeps ended runs until its retention removes them; it does not release one run on request');
  });

  app.post('/runs/:runId/resume', async (c) => {
    await engine.access.manageableRun(c.req.param('runId'), as(c));
    throw notServed('flowrun resumes an INACTIVE run when what it waits for happens (an event, a timer, an approval through flowrun\'s API), not on request');
  });

  app.get('/runs/:runId/log', async (c) => c.json(await readLogPage(state, { runId: c.req.param('runId'), as: as(c), params: new URL(c.req.url).searchParams }), 200));

  app.get('/runs/:runId/definition', async (c) => {
    const run = await engine.getRun(c.req.param('runId'), { as: as(c) });
    const flow = await engine.getFlow(run.flowId, run.flowVersion, { as: as(c) });
    return c.json({ flow_id: run.flowId, definition: flow.definition, input_schema: inputSchemaOf(flow) }, 200);
  });
}

function holdsAny(held: Set<string>, wanted: readonly string[]): boolean {
  return wanted.some((role) => held.has(role));
}

function sameSet(a: { users: string[]; groups: string[] }, b: { users: string[]; groups: string[] }): boolean {
  const same = (x: string[], y: string[]) => x.length === new Set(y).size && x.every((v) => y.includes(v));
  return same([...new Set(a.users)], b.users) && same([...new Set(a.groups)], b.groups);
}
