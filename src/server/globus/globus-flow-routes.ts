/**
 * The flow operations of the Globus Flows API: get one flow and list the flows the caller may
 * see, as flowrun's own flow routes decide it (`getFlow` with the caller, FLOW_NOT_FOUND for a flow
 * it may not see). Deploying, updating and deleting flows through the Globus API is not served:
 * a Globus definition is written in the States language, whose `Action` states call external
 * action providers flowrun cannot call; flowrun flows are deployed through flowrun's API or
 * `flowrun serve --flows`. Those requests answer 501 NOT_IMPLEMENTED saying so.
 */
import type { Context, Hono } from 'hono';
import { ValidationError, type ValidationIssue } from '../../core/errors.js';
import type { FlowVersionRecord } from '../../core/model.js';
import { actingFor } from '../router-context.js';
import { jsonObjectBody, openMarker, sealMarker, type GlobusEnv, type GlobusState } from './globus-context.js';
import { notServed } from './globus-errors.js';
import { toGlobusFlow, type GlobusFlow } from './globus-flow-view.js';
import { groupUrn, identityUrn } from './globus-principals.js';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE, listParam } from './globus-run-query.js';

const FLOW_ROLES: Record<string, readonly GlobusFlow['user_role'][]> = {
  flow_owner: ['flow_owner'],
  flow_administrators: ['flow_owner', 'flow_administrator'],
  flow_starters: ['flow_owner', 'flow_administrator', 'flow_starter'],
  flow_viewers: ['flow_owner', 'flow_administrator', 'flow_starter', 'flow_viewer'],
};
const ORDER_FIELDS = ['id', 'title', 'created_at', 'updated_at'] as const;

/** What `GET /flows` was asked, kept in its marker. */
interface FlowQuery {
  perPage: number;
  roles: string[];
  title: string[];
  fulltext: string[];
  order: { field: (typeof ORDER_FIELDS)[number]; desc: boolean }[];
}

/** Registers the flow routes (after the run routes). */
export function addGlobusFlowRoutes(app: Hono<GlobusEnv>, state: GlobusState): void {
  const { engine } = state;

  /** The Globus form of a flow version for the request's principal. */
  const describe = async (c: Context<GlobusEnv>, flow: FlowVersionRecord): Promise<GlobusFlow> => {
    const [principal, first] = await Promise.all([engine.access.principal(actingFor(c.get('principal'))), flow.version === 1 ? flow : engine.loadFlow(flow.flowId, 1).catch(() => flow)]);
    const names = [...new Set(Object.values(flow.definition.roles ?? {}).flat())];
    const kinds = new Map(await Promise.all(names.map(async (id) => [id, (await engine.store.principals.getPrincipal(id).catch(() => null))?.kind] as const)));
    return toGlobusFlow(flow, { principal, createdAt: first.deployedAt, urnOf: (id) => (kinds.get(id) === 'group' ? groupUrn(id) : identityUrn(id)) });
  };

  app.post('/flows', async (c) => {
    const body = await jsonObjectBody(c.req.raw);
    const states = (body.definition as { States?: unknown } | undefined)?.States;
    const actions = states && typeof states === 'object' ? Object.entries(states).filter(([, s]) => (s as { Type?: unknown } | null)?.Type === 'Action').map(([name]) => name) : [];
    const why = actions.length > 0 ? `its Action states (${actions.slice(0, 5).join(', ')}) call external action providers, which flowrun cannot call` : 'flowrun runs flows written as flowrun definitions, not in the Globus States language';
    throw notServed(`flowrun does not deploy Globus flow definitions: ${why}. Deploy a flowrun flow with flowrun's API (POST /flows) or flowrun serve --flows, then run it here by its id`);
  });
  app.post('/flows/validate', () => {
    throw notServed('flowrun does not validate Globus flow definitions; check a flowrun definition with `flowrun check`');
  });
  app.on(['PUT', 'DELETE'], '/flows/:flowId{.+}', async (c) => {
    await engine.getFlow(c.req.param('flowId'), undefined, { as: actingFor(c.get('principal')) });
    throw notServed('flowrun flow versions are immutable: deploy a new version with flowrun\'s API (POST /flows) instead');
  });

  app.get('/flows', async (c) => {
    const params = new URL(c.req.url).searchParams;
    const markerText = params.get('marker') ?? params.get('pagination_token');
    let query: FlowQuery;
    let offset = 0;
    if (markerText !== null && markerText !== '') {
      const content = await openMarker(state.markers, markerText, 'flows');
      query = content.query as FlowQuery;
      offset = content.at as number;
    } else query = readFlowQuery(params);
    const as = actingFor(c.get('principal'));
    const found = await Promise.all((await engine.listFlows()).map((s) => engine.getFlow(s.flowId, undefined, { as }).catch(() => null)));
    const flows = await Promise.all(found.filter((f): f is FlowVersionRecord => f !== null).map((f) => describe(c, f)));
    const matches = (values: string[], texts: string[]) => values.length === 0 || values.some((v) => texts.some((t) => t.toLowerCase().includes(v.toLowerCase())));
    const kept = flows.filter((f) => (query.roles.length === 0 || query.roles.some((r) => FLOW_ROLES[r]!.includes(f.user_role))) && matches(query.title, [f.title]) && matches(query.fulltext, [f.title, f.subtitle, f.description, f.id, f.flow_owner, ...f.flow_administrators]));
    kept.sort((a, b) => {
      for (const { field, desc } of query.order) {
        const order = a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0;
        if (order !== 0) return desc ? -order : order;
      }
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
    const page = kept.slice(offset, offset + query.perPage);
    const more = offset + page.length < kept.length;
    const next = more ? { marker: await sealMarker(state.markers, { kind: 'flows', query, at: offset + page.length }) } : {};
    return c.json({ flows: page, limit: query.perPage, has_next_page: more, ...next }, 200);
  });

  app.get('/flows/:flowId{.+}', async (c) => c.json(await describe(c, await engine.getFlow(c.req.param('flowId'), undefined, { as: actingFor(c.get('principal')) })), 200));
}

/** The query of a first page of `GET /flows`; INVALID_INPUT naming each bad parameter. */
function readFlowQuery(params: URLSearchParams): FlowQuery {
  const issues: ValidationIssue[] = [];
  const known = new Set(['marker', 'pagination_token', 'per_page', 'filter_roles', 'filter_role', 'filter_title', 'filter_fulltext', 'orderby']);
  for (const name of new Set(params.keys())) if (!known.has(name)) issues.push({ path: `query.${name}`, message: 'is not a parameter flowrun serves on GET /flows' });
  const perPageText = params.get('per_page');
  const perPage = perPageText === null ? DEFAULT_PER_PAGE : /^\d{1,3}$/.test(perPageText) ? Number(perPageText) : NaN;
  if (!(perPage >= 1 && perPage <= MAX_PER_PAGE)) issues.push({ path: 'query.per_page', message: `must be an integer from 1 to ${MAX_PER_PAGE}` });
  // The deprecated singular role is cumulative like the roles themselves (a viewer filter includes starters…).
  const roles = [...listParam(params, 'filter_roles'), ...listParam(params, 'filter_role').map((r) => (r === 'flow_owner' ? r : `${r}s`))];
  const unknown = roles.filter((r) => !Object.hasOwn(FLOW_ROLES, r));
  if (unknown.length > 0) issues.push({ path: 'query.filter_roles', message: `flowrun knows the roles ${Object.keys(FLOW_ROLES).join(', ')}; not ${unknown.map((r) => JSON.stringify(r.slice(0, 40))).join(', ')}` });
  const order: FlowQuery['order'] = [];
  for (const criterion of listParam(params, 'orderby')) {
    const [field = '', dir = 'ASC', ...rest] = criterion.split(/\s+/);
    if (rest.length > 0 || !(ORDER_FIELDS as readonly string[]).includes(field) || !['ASC', 'DESC'].includes(dir.toUpperCase())) {
      issues.push({ path: 'query.orderby', message: `"${criterion.slice(0, 40)}": flowrun orders flows by ${ORDER_FIELDS.join(', ')}, ASC or DESC` });
    } else order.push({ field: field as FlowQuery['order'][number]['field'], desc: dir.toUpperCase() === 'DESC' });
  }
  if (issues.length > 0) throw new ValidationError('INVALID_INPUT', issues);
  return { perPage, roles, title: listParam(params, 'filter_title'), fulltext: listParam(params, 'filter_fulltext'), order: order.length > 0 ? order : [{ field: 'updated_at', desc: true }] };
}
