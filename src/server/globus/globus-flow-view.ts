/**
 * A flowrun flow as Globus Flows clients read it (the `FlowResponse` schema): the version a run
 * would start (published, else latest), its definition as flowrun holds it (flowrun's step graph,
 * not Globus's States language), the JSON Schema of its `main` action's params as `input_schema`,
 * its deployer as `flow_owner`, and its roles as principal URNs. As in Globus, the role lists
 * are shown to the flow's administrators only; others see them empty.
 */
import type { FlowVersionRecord, JsonSchema } from '../../core/model.js';
import { typeRefToSchema } from '../../core/params.js';
import { canAdministerFlow, canStartFlow, type Principal } from '../../core/permissions.js';
import { identityUrn } from './globus-principals.js';
import { isoTime } from './globus-run-view.js';

/** The role a caller holds on a flow, as Globus names it (the strongest one). */
export type GlobusFlowRole = 'flow_owner' | 'flow_administrator' | 'flow_starter' | 'flow_viewer';

/** A flow in the Globus Flows API's shape. */
export interface GlobusFlow {
  id: string;
  title: string;
  subtitle: string;
  description: string;
  keywords: string[];
  definition: Record<string, unknown>;
  input_schema: JsonSchema;
  flow_owner: string;
  created_by: string;
  flow_administrators: string[];
  flow_starters: string[];
  flow_viewers: string[];
  run_managers: string[];
  run_monitors: string[];
  created_at: string;
  updated_at: string;
  user_role: GlobusFlowRole;
  /** The flowrun version this view shows (an addition to the Globus fields). */
  version: number;
  published: boolean;
  types: ['Action'];
  api_version: '1.0';
  synchronous: false;
  log_supported: true;
  is_high_assurance: false;
}

/** The strongest role `principal` holds on the flow it may see. */
export function flowRoleOf(principal: Principal, flow: FlowVersionRecord): GlobusFlowRole {
  const access = { deployedBy: flow.deployedBy, roles: flow.definition.roles };
  if (flow.deployedBy !== '' && principal.id === flow.deployedBy) return 'flow_owner';
  if (canAdministerFlow(principal, access)) return 'flow_administrator';
  return canStartFlow(principal, access) ? 'flow_starter' : 'flow_viewer';
}

/** The JSON Schema of the input the flow's `main` action takes: an object of its params. */
export function inputSchemaOf(flow: FlowVersionRecord): JsonSchema {
  const action = flow.definition.actions.main ?? Object.values(flow.definition.actions)[0];
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, param] of Object.entries(action?.params ?? {})) {
    const schema: JsonSchema = { ...(typeRefToSchema(param, flow.definition.classes) ?? {}) };
    if (param.description !== undefined) schema.description = param.description;
    if (param.default !== undefined) schema.default = param.default;
    properties[name] = schema;
    if (param.required === true && param.default === undefined) required.push(name);
  }
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
}

/**
 * The Globus form of `flow` (the version a run would start) for `principal`; `createdAt` is when
 * its first version was deployed. `urnOf` names a role member by URN (a user or a group).
 */
export function toGlobusFlow(flow: FlowVersionRecord, context: { principal: Principal; createdAt: number; urnOf: (id: string) => string }): GlobusFlow {
  const role = flowRoleOf(context.principal, flow);
  const shown = role === 'flow_owner' || role === 'flow_administrator';
  const roles = flow.definition.roles ?? {};
  const list = (names: string[] | undefined): string[] => (shown ? (names ?? []).map(context.urnOf) : []);
  return {
    id: flow.flowId,
    title: flow.definition.title ?? flow.flowId,
    subtitle: '',
    description: flow.definition.description ?? '',
    keywords: [],
    definition: flow.definition as unknown as Record<string, unknown>,
    input_schema: inputSchemaOf(flow),
    flow_owner: identityUrn(flow.deployedBy),
    created_by: identityUrn(flow.deployedBy),
    flow_administrators: list(roles.administrators),
    // No starters named: every authenticated principal may start it (Globus's "all_authenticated_users").
    flow_starters: shown && (roles.starters ?? []).length === 0 ? ['all_authenticated_users'] : list(roles.starters),
    flow_viewers: list(roles.viewers),
    run_managers: [],
    run_monitors: [],
    created_at: isoTime(context.createdAt),
    updated_at: isoTime(flow.deployedAt),
    user_role: role,
    version: flow.version,
    published: flow.published,
    types: ['Action'],
    api_version: '1.0',
    synchronous: false,
    log_supported: true,
    is_high_assurance: false,
  };
}
