/**
 * A flowrun run as Globus Flows clients read it (the `FlowRun` schema of the Globus Flows API):
 * snake_case fields, ISO 8601 times, principals as URNs (globus-principals.ts) and Globus's
 * statuses. Built from the run as flowrun's own API describes it (run-details.ts), so both APIs
 * show the same run with the same permission checks behind them.
 *
 * Statuses: ACTIVE, INACTIVE, SUCCEEDED and FAILED are the same word in both; flowrun's CANCELED
 * is Globus's ENDED (the status the Globus API gives a run stopped before it completed), with
 * `display_status` CANCELED so people still see why it ended.
 */
import type { FlowVersionRecord } from '../../core/model.js';
import { canAdministerFlow, canManageRun, isNamedIn, type Principal } from '../../core/permissions.js';
import type { RunStatus } from '../../core/run.js';
import type { RunDetailsView } from '../run-details.js';
import { identityUrn, urnsOf } from './globus-principals.js';

/** The statuses of a run in the Globus Flows API. */
export type GlobusRunStatus = 'ACTIVE' | 'INACTIVE' | 'SUCCEEDED' | 'FAILED' | 'ENDED';

/** The Globus status of each flowrun status. */
export const GLOBUS_STATUS_OF: Readonly<Record<RunStatus, GlobusRunStatus>> = { ACTIVE: 'ACTIVE', INACTIVE: 'INACTIVE', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', CANCELED: 'ENDED' };

/** The flowrun statuses a Globus status filter selects. */
export const FLOWRUN_STATUS_OF: Readonly<Record<GlobusRunStatus, RunStatus>> = { ACTIVE: 'ACTIVE', INACTIVE: 'INACTIVE', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', ENDED: 'CANCELED' };

/** The role a caller holds on a run, as Globus names it (the strongest one). */
export type GlobusRunRole = 'run_owner' | 'run_manager' | 'run_monitor';

/** A run in the Globus Flows API's shape. */
export interface GlobusRun {
  run_id: string;
  action_id: string;
  flow_id: string;
  flow_title?: string;
  flow_last_updated?: string;
  flow_description?: GlobusFlowEmbed;
  start_time: string;
  completion_time: string | null;
  status: GlobusRunStatus;
  display_status: string;
  label: string | null;
  tags: string[];
  details: GlobusRunDetails;
  created_by: string;
  created_by_string?: string;
  run_owner: string;
  run_owner_string?: string;
  run_managers: string[];
  run_monitors: string[];
  manage_by: string[];
  monitor_by: string[];
  user_role: GlobusRunRole;
}

/** What a run did, as Globus's `details`: a code and description of its state, its input and output, and its error. */
export interface GlobusRunDetails {
  code: string;
  description: string;
  input: unknown;
  output: unknown;
  error?: { code: string; description: string };
}

/** The flow of a run, as `GET /runs/{id}?include_flow_description=true` embeds it. */
export interface GlobusFlowEmbed {
  id: string;
  title: string;
  description?: string;
  flow_owner: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  keywords: string[];
}

const DETAILS: Readonly<Record<RunStatus, [string, string]>> = {
  ACTIVE: ['FlowStarted', 'The run is executing'],
  INACTIVE: ['FlowInactive', 'The run waits for something outside it (an event, a timer, an approval)'],
  SUCCEEDED: ['FlowSucceeded', 'The run reached a successful completion state'],
  FAILED: ['FlowFailed', 'The run failed'],
  CANCELED: ['FlowCanceled', 'The run was canceled'],
};

/** An ISO 8601 time (UTC) of ms since the epoch. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The strongest role `principal` holds on the run (it may read it: the run came through a permission check). */
export function runRoleOf(principal: Principal, run: RunDetailsView, flow: FlowVersionRecord | null): GlobusRunRole {
  if (principal.id === run.runOwner) return 'run_owner';
  const access = flow ? { deployedBy: flow.deployedBy, roles: flow.definition.roles } : { deployedBy: '' };
  return canManageRun(principal, run, access) ? 'run_manager' : 'run_monitor';
}

/** The roles `principal` holds on the run by name (for `filter_roles`): owner, named manager or monitor, administrator of its flow. */
export function namedRunRoles(principal: Principal, run: RunDetailsView, flow: FlowVersionRecord | null): Set<string> {
  const roles = new Set<string>();
  if (principal.id === run.runOwner) roles.add('run_owner');
  if (isNamedIn(principal, [...run.managers.users, ...run.managers.groups])) roles.add('run_managers');
  if (isNamedIn(principal, [...run.monitors.users, ...run.monitors.groups])) roles.add('run_monitors');
  // flowrun has no flow-wide run roles: the administrators of the flow manage (and so monitor) every run of it.
  if (flow && canAdministerFlow(principal, { deployedBy: flow.deployedBy, roles: flow.definition.roles })) {
    roles.add('flow_run_managers');
    roles.add('flow_run_monitors');
  }
  return roles;
}

/**
 * The Globus form of a run described by {@link RunDetails}. `flow` is the version it runs when
 * the caller may see that flow (null otherwise: no flow fields). Like Globus, the lists of
 * managers and monitors are shown to those who may manage the run; a monitor sees them empty.
 */
export function toGlobusRun(run: RunDetailsView, context: { principal: Principal; flow: FlowVersionRecord | null; withFlowDescription?: boolean }): GlobusRun {
  const role = runRoleOf(context.principal, run, context.flow);
  const managers = role === 'run_monitor' ? [] : urnsOf(run.managers);
  const monitors = role === 'run_monitor' ? [] : urnsOf(run.monitors);
  const [code, description] = DETAILS[run.status];
  const details: GlobusRunDetails = { code, description, input: run.input ?? null, output: run.output ?? null };
  if (run.runError) details.error = { code: run.runError.code, description: run.runError.description };
  const view: GlobusRun = {
    run_id: run.runId,
    action_id: run.runId,
    flow_id: run.flowId,
    start_time: isoTime(run.startTime),
    completion_time: run.endTime === null ? null : isoTime(run.endTime),
    status: GLOBUS_STATUS_OF[run.status],
    display_status: run.status,
    label: run.label,
    tags: run.tags,
    details,
    created_by: identityUrn(run.createdBy),
    run_owner: identityUrn(run.runOwner),
    run_managers: managers,
    run_monitors: monitors,
    manage_by: managers,
    monitor_by: monitors,
    user_role: role,
  };
  if (run.createdByString !== undefined) view.created_by_string = run.createdByString;
  if (run.runOwnerString !== undefined) view.run_owner_string = run.runOwnerString;
  const flow = context.flow;
  if (flow) {
    view.flow_title = flow.definition.title ?? flow.flowId;
    view.flow_last_updated = isoTime(flow.deployedAt);
    if (context.withFlowDescription) view.flow_description = flowEmbedOf(flow);
  }
  return view;
}

/** The embedded description of a flow version. */
export function flowEmbedOf(flow: FlowVersionRecord): GlobusFlowEmbed {
  const embed: GlobusFlowEmbed = {
    id: flow.flowId,
    title: flow.definition.title ?? flow.flowId,
    flow_owner: identityUrn(flow.deployedBy),
    created_by: identityUrn(flow.deployedBy),
    created_at: isoTime(flow.deployedAt),
    updated_at: isoTime(flow.deployedAt),
    keywords: [],
  };
  if (flow.definition.description !== undefined) embed.description = flow.definition.description;
  return embed;
}
