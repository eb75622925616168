/**
 * Starting a run, top-down, in one place: the options checked, the flow resolved (a deployed
 * version by number or selector, or an inline definition validated), the starter authorized to
 * start it (and to act as `runAs`), and the run built with its input bound to the action's
 * params. The engine then records it and hands it to execution (engine.ts). Nothing is stored
 * before every check has passed — an inline definition's version is saved last.
 *
 * The `engine/start/` room: everything between "start this" and a run record ready to be created —
 * option checks (start-run.ts), flow resolution and version selectors (flow-cache.ts, `parseVersion`),
 * where a flow's actions and subflows are (flow-graph.ts), and building the record (build-run.ts).
 * It may import core (model, params, validation), the engine's contracts (engine-core.ts, types.ts)
 * and access/; it never executes anything.
 */
import { ValidationError } from '../../errors.js';
import type { FlowVersionRecord } from '../../model.js';
import type { NewRun } from '../../run.js';
import { assertDefinitionNesting } from '../../json-depth.js';
import { assertValidFlow } from '../../validation/validate-flow.js';
import type { AccessControl } from '../access/authorize.js';
import type { BuildRunInput } from '../engine-core.js';
import type { StartRunOptions } from '../types.js';
import type { FlowCache } from './flow-cache.js';

const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** What a start needs of the engine. */
export interface StartDeps {
  flows: FlowCache;
  access: AccessControl;
  /** Deepest nesting a definition (and, in buildRun, an input) may have: runtimeConfig.maxNestingDepth. */
  maxNestingDepth: number;
  buildRun(input: BuildRunInput): NewRun;
}

/**
 * Checks, resolves, authorizes and builds the run `options` ask for. Throws INVALID_INPUT,
 * INVALID_DEFINITION, FLOW_NOT_FOUND, ACTION_NOT_FOUND or PERMISSION_DENIED, having stored nothing.
 */
export async function prepareStart(deps: StartDeps, options: StartRunOptions): Promise<NewRun> {
  checkStartOptions(options);
  if (typeof options.flow !== 'string') assertDefinitionNesting(options.flow, { path: 'flow', maxDepth: deps.maxNestingDepth });
  const inline = typeof options.flow === 'string' ? null : assertValidFlow(options.flow);
  const flow: FlowVersionRecord = inline
    ? { flowId: inline.id, version: 0, definition: inline, deployedBy: '', deployedAt: 0, published: false }
    : await deps.flows.load(options.flow as string, options.version);
  const by = options.userId === undefined ? null : options.userGroups?.length ? { id: options.userId, groups: options.userGroups } : options.userId;
  // One who may not see the flow learns nothing of it: refused like a missing flow (FLOW_NOT_FOUND).
  await deps.access.assertCanStart({ by, flow, runAs: options.runAs ?? null, hidden: { version: options.version } });
  const run = deps.buildRun({
    flow,
    actionName: options.actionName ?? 'main',
    input: options.input,
    source: options.source ?? 'http',
    ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
    createdBy: options.userId ?? 'anonymous',
    sessionId: options.sessionId ?? null,
    label: options.label ?? null,
    tags: options.tags ?? [],
    timeoutMs: options.timeoutMs ?? null,
    runAs: options.runAs ?? null,
    event: options.event,
    ...runRolesOf(options),
  });
  if (!inline) return run;
  return { ...run, flowVersion: (await deps.flows.save(inline, options.userId ?? 'anonymous')).version };
}

/** The run roles of a start: `monitors` / `managers` merged with seed 003's `runMonitoringBy` … `runManagingGroups`. */
export function runRolesOf(options: StartRunOptions): Pick<BuildRunInput, 'monitors' | 'managers'> {
  const merge = (role: { users?: string[]; groups?: string[] } | undefined, users: string[] | undefined, groups: string[] | undefined) =>
    role || users || groups ? { users: unique([...(role?.users ?? []), ...(users ?? [])]), groups: unique([...(role?.groups ?? []), ...(groups ?? [])]) } : undefined;
  const monitors = merge(options.monitors, options.runMonitoringBy, options.runMonitoringGroups);
  const managers = merge(options.managers, options.runManagingBy, options.runManagingGroups);
  return { ...(monitors ? { monitors } : {}), ...(managers ? { managers } : {}) };
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

/** Checks the options of a start at the edge; every problem is an INVALID_INPUT issue naming the option. */
export function checkStartOptions(options: StartRunOptions): void {
  const issues: { path: string; message: string }[] = [];
  const { requestId, timeoutMs, label, tags, flow } = options;
  if (typeof flow !== 'string' && (typeof flow !== 'object' || flow === null)) issues.push({ path: 'flow', message: `must be a flow definition or a flow id, got ${JSON.stringify(flow)}` });
  if (requestId !== undefined && (typeof requestId !== 'string' || !REQUEST_ID.test(requestId))) {
    issues.push({ path: 'requestId', message: `must be 1-128 letters, digits, "_", ".", ":" or "-", got ${JSON.stringify(requestId)}` });
  }
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    issues.push({ path: 'timeoutMs', message: `must be a positive number of milliseconds, got ${JSON.stringify(timeoutMs)}` });
  }
  if (label !== undefined && (typeof label !== 'string' || label.length > 1000)) issues.push({ path: 'label', message: 'must be a string of at most 1000 characters' });
  if (tags !== undefined && !(Array.isArray(tags) && tags.length <= 100 && tags.every((t) => typeof t === 'string' && t.length <= 200))) {
    issues.push({ path: 'tags', message: 'must be at most 100 strings of at most 200 characters' });
  }
  for (const [path, ids] of roleLists(options)) {
    if (ids !== undefined && !(Array.isArray(ids) && ids.length <= 1000 && ids.every((id) => typeof id === 'string' && id !== '' && id.length <= 200))) {
      issues.push({ path, message: `must be at most 1000 principal ids (non-empty strings of at most 200 characters), got ${JSON.stringify(ids)}` });
    }
  }
  for (const path of ['userId', 'runAs'] as const) {
    const id = options[path];
    if (id !== undefined && (typeof id !== 'string' || id === '' || id.length > 200)) issues.push({ path, message: `must be a principal id (a non-empty string of at most 200 characters), got ${JSON.stringify(id)}` });
  }
  if (issues.length) throw new ValidationError('INVALID_INPUT', issues);
}

function roleLists(options: StartRunOptions): [string, unknown][] {
  return [
    ['monitors.users', options.monitors?.users],
    ['monitors.groups', options.monitors?.groups],
    ['managers.users', options.managers?.users],
    ['managers.groups', options.managers?.groups],
    ['runMonitoringBy', options.runMonitoringBy],
    ['runMonitoringGroups', options.runMonitoringGroups],
    ['runManagingBy', options.runManagingBy],
    ['runManagingGroups', options.runManagingGroups],
  ];
}
