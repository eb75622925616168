/**
 * `GET /runs` of the Globus Flows API read into flowrun's run filter. What it reads:
 * `filter_status` (Globus statuses; ENDED selects CANCELED runs), `filter_flow_id` (one flow),
 * `filter_label` (one substring), `filter_flow_title` (a substring of a flow's title: the one
 * flow it names), `filter_start_time` / `filter_completion_time` (`FROM,TO` ISO 8601 ranges, either
 * end open, times without a zone are UTC; a completion range leaves out runs that have not ended), `filter_roles` / `filter_role`, `orderby` (`start_time`
 * or `completion_time`, `ASC`/`DESC`; `id` as a later criterion), `per_page` (1–50, default 20),
 * `page` and `marker`. List values are comma-separated or repeated. Anything flowrun cannot do
 * the way the documentation says (several flow ids or labels, ordering by status or label) is
 * refused with a 400 naming the parameter, never answered approximately. The role filters keep,
 * of each page of runs the caller may read, those it holds such a role on: a page may hold fewer
 * than `per_page` runs while `has_next_page` is true (the Globus SDKs' iterators follow it).
 */
import { ValidationError, type ValidationIssue } from '../../core/errors.js';
import type { RunFilter } from '../../core/store.js';
import { FLOWRUN_STATUS_OF, type GlobusRunStatus } from './globus-run-view.js';

/** The page size of `GET /runs` and `GET /flows` when `per_page` is not given. */
export const DEFAULT_PER_PAGE = 20;
/** The largest `per_page` of `GET /runs` and `GET /flows`; more is refused (400), not cut. */
export const MAX_PER_PAGE = 50;

/** The roles `filter_roles` may name. */
export const RUN_ROLE_FILTERS = ['run_owner', 'run_managers', 'run_monitors', 'flow_run_managers', 'flow_run_monitors'] as const;

/** A listing as it is asked: the store filter (without marker and limit), the page size, the roles kept, the page (`page`). */
export interface GlobusRunQuery {
  filter: Omit<RunFilter, 'marker' | 'limit'>;
  perPage: number;
  /** Runs on which the caller holds one of these roles (namedRunRoles); none: every run it may read. */
  roles: string[];
  /** Runs to skip first (`page`); 0 with a marker. */
  offset: number;
  /** The title substring to resolve to one flow (`filter_flow_title`), unless a flow id is given. */
  flowTitle?: string;
}

const KNOWN = new Set(['marker', 'pagination_token', 'per_page', 'page', 'filter_roles', 'filter_role', 'filter_status', 'filter_label', 'filter_flow_title', 'filter_flow_id', 'filter_start_time', 'filter_completion_time', 'orderby']);

/** The values of a list parameter: every occurrence, split at commas, trimmed, empty ones dropped. */
export function listParam(params: URLSearchParams, name: string): string[] {
  return params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** The query of a first page (no marker); INVALID_INPUT naming each bad parameter. */
export function readRunQuery(params: URLSearchParams, maxOffset: number): GlobusRunQuery {
  const issues: ValidationIssue[] = [];
  const bad = (name: string, message: string): void => void issues.push({ path: `query.${name}`, message });
  for (const name of new Set(params.keys())) if (!KNOWN.has(name)) bad(name, 'is not a parameter of GET /runs');
  const filter: GlobusRunQuery['filter'] = {};
  const perPage = integerParam(params, 'per_page', 1, MAX_PER_PAGE, bad) ?? DEFAULT_PER_PAGE;
  const page = integerParam(params, 'page', 1, Number.MAX_SAFE_INTEGER, bad) ?? 1;
  const offset = (page - 1) * perPage;
  if (offset > maxOffset) bad('page', `reaches past the first ${maxOffset} runs: page with marker instead`);

  const statuses = listParam(params, 'filter_status');
  const unknown = statuses.filter((s) => !Object.hasOwn(FLOWRUN_STATUS_OF, s));
  if (unknown.length > 0) bad('filter_status', `unknown status ${unknown.map((s) => JSON.stringify(s.slice(0, 40))).join(', ')}; expected ${Object.keys(FLOWRUN_STATUS_OF).join(', ')}`);
  else if (statuses.length > 0) filter.status = [...new Set(statuses.map((s) => FLOWRUN_STATUS_OF[s as GlobusRunStatus]))];

  const single = (name: string): string | undefined => {
    const values = [...new Set(listParam(params, name))];
    if (values.length > 1) bad(name, `flowrun filters by one value of ${name} at a time, got ${values.length}`);
    return values[0];
  };
  const flowId = single('filter_flow_id');
  if (flowId !== undefined) filter.flowId = flowId;
  const label = single('filter_label');
  if (label !== undefined) filter.label = label;
  const flowTitle = single('filter_flow_title');

  for (const [name, from, to] of [['filter_start_time', 'startTimeFrom', 'startTimeTo'], ['filter_completion_time', 'endTimeFrom', 'endTimeTo']] as const) {
    const text = params.get(name);
    if (text === null) continue;
    const range = timeRange(text);
    if (range === null) bad(name, `"${text.slice(0, 80)}" is not FROM,TO with ISO 8601 times (either may be left out)`);
    else {
      if (range.from !== undefined) filter[from] = range.from;
      if (range.to !== undefined) filter[to] = range.to;
    }
  }

  const roles = listParam(params, 'filter_roles');
  const badRoles = roles.filter((r) => !(RUN_ROLE_FILTERS as readonly string[]).includes(r));
  if (badRoles.length > 0) bad('filter_roles', `unknown role ${badRoles.map((r) => JSON.stringify(r.slice(0, 40))).join(', ')}; expected ${RUN_ROLE_FILTERS.join(', ')}`);
  const role = params.get('filter_role');
  // The deprecated single role is cumulative: a role and every stronger one.
  const cumulative: Record<string, string[]> = { run_owner: ['run_owner'], run_manager: ['run_owner', 'run_managers', 'flow_run_managers'], run_monitor: ['run_owner', 'run_managers', 'run_monitors', 'flow_run_managers', 'flow_run_monitors'] };
  if (role !== null && !Object.hasOwn(cumulative, role)) bad('filter_role', `unknown role "${role.slice(0, 40)}"; expected run_owner, run_manager or run_monitor`);

  const order = orderOf(listParam(params, 'orderby'), bad);
  if (issues.length > 0) throw new ValidationError('INVALID_INPUT', issues);
  return {
    filter: { ...filter, ...order },
    perPage,
    roles: [...new Set([...roles, ...(role !== null ? cumulative[role]! : [])])],
    offset,
    ...(flowTitle !== undefined && flowId === undefined ? { flowTitle } : {}),
  };
}

function integerParam(params: URLSearchParams, name: string, min: number, max: number, bad: (name: string, message: string) => void): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  const n = /^\d{1,16}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  bad(name, `must be an integer from ${min} to ${max}, got "${text.slice(0, 40)}"`);
  return undefined;
}

/** `start_time DESC` by default; `start_time` or `completion_time` first, `id` allowed after it (flowrun breaks ties by id). */
function orderOf(criteria: string[], bad: (name: string, message: string) => void): Pick<RunFilter, 'orderBy' | 'orderDir'> {
  if (criteria.length === 0) return { orderBy: 'startTime', orderDir: 'desc' };
  const parsed = criteria.map((c) => {
    const [field = '', dir = 'ASC', ...rest] = c.split(/\s+/);
    return { field, dir: dir.toUpperCase(), ok: rest.length === 0 && (dir.toUpperCase() === 'ASC' || dir.toUpperCase() === 'DESC') };
  });
  const first = parsed[0]!;
  const fields: Record<string, 'startTime' | 'endTime'> = { start_time: 'startTime', completion_time: 'endTime' };
  if (parsed.some((p) => !p.ok)) bad('orderby', 'each criterion is "FIELD ASC" or "FIELD DESC"');
  else if (!Object.hasOwn(fields, first.field)) bad('orderby', `flowrun orders runs by start_time or completion_time, not "${first.field.slice(0, 40)}"`);
  else if (parsed.slice(1).some((p) => p.field !== 'id')) bad('orderby', 'after the first criterion only id may follow (ties are broken by id)');
  else return { orderBy: fields[first.field]!, orderDir: first.dir === 'DESC' ? 'desc' : 'asc' };
  return {};
}

/** `FROM,TO`, `FROM,`, `,TO` or `FROM` (as `FROM,`) in ms; null when a given end is not a time. */
export function timeRange(text: string): { from?: number; to?: number } | null {
  const [fromText = '', toText = '', ...rest] = text.split(',').map((s) => s.trim());
  if (rest.length > 0 || (fromText === '' && toText === '')) return null;
  const from = fromText === '' ? undefined : isoMs(fromText);
  const to = toText === '' ? undefined : isoMs(toText);
  if (from === null || to === null) return null;
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

/** An ISO 8601 date or date-time in ms; one without a zone is UTC. Null for anything else. */
function isoMs(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) return null;
  const zoned = /T/i.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? `${text}Z` : text;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : null;
}
