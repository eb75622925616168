/**
 * Deploying a flow version: the definition validated (validate-flow.ts), its calls of other
 * flows checked against the versions they would run now (check-flow-calls.ts), then stored and
 * maybe published. Nothing is stored when a check fails.
 */
import { NotFoundError, ValidationError, type ValidationIssue } from '../../errors.js';
import { assertDefinitionNesting } from '../../json-depth.js';
import type { FlowDefinition, FlowVersionRecord } from '../../model.js';
import type { Store } from '../../store.js';
import { checkFlowCalls, flowCallTargets, type FlowCallTarget } from '../../validation/check-flow-calls.js';
import { validateFlow } from '../../validation/validate-flow.js';
import type { AccessControl } from '../access/authorize.js';
import type { FlowCache } from './flow-cache.js';

/** Options of a deploy: who deploys (absent: trusted in-process code) and whether to publish. */
export interface DeployOptions {
  deployedBy?: string;
  publish?: boolean;
}

/** A deployed version, and the warnings of its definition when there are any. */
export interface DeployedFlow {
  id: string;
  version: number;
  /** What is probably wrong but was deployed: calls of flows that do not exist yet (checked when they run), `input.x` naming no param. */
  warnings?: ValidationIssue[];
}

/**
 * Validates and stores `definition` as a new version (the same definition as the latest version
 * returns that version). Throws ValidationError('INVALID_DEFINITION') listing every problem,
 * including calls that do not fit the flows they call. A flow the deployer may not see counts as
 * one that does not exist: the deploy tells nothing about it.
 */
export async function deployFlowVersion(
  deps: { flows: FlowCache; store: Store; access: AccessControl; maxNestingDepth: number },
  definition: FlowDefinition,
  options: DeployOptions,
): Promise<DeployedFlow> {
  assertDefinitionNesting(definition, { path: 'definition', maxDepth: deps.maxNestingDepth });
  const validated = validateFlow(definition);
  if (!validated.ok) throw new ValidationError('INVALID_DEFINITION', validated.issues);
  const callees = new Map<FlowCallTarget, FlowDefinition | undefined>();
  for (const target of flowCallTargets(validated.flow)) callees.set(target, (await visibleCallee(deps, target, options.deployedBy))?.definition);
  const calls = checkFlowCalls(validated.flow, (target) => [...callees].find(([t]) => t.flowId === target.flowId && t.version === target.version)?.[1]);
  if (calls.issues.length > 0) throw new ValidationError('INVALID_DEFINITION', calls.issues);
  const record = await deps.flows.save(validated.flow, options.deployedBy ?? '');
  if (options.publish) await deps.store.publishFlowVersion({ flowId: record.flowId, version: record.version }).finally(() => deps.flows.forget(record.flowId));
  const warnings = [...(validated.warnings ?? []), ...calls.warnings];
  return { id: record.flowId, version: record.version, ...(warnings.length > 0 ? { warnings } : {}) };
}

/** The version a call of `target` would run now, if it exists and the deployer may see it. */
async function visibleCallee(deps: { flows: FlowCache; access: AccessControl }, target: FlowCallTarget, deployedBy: string | undefined): Promise<FlowVersionRecord | undefined> {
  try {
    const record = await deps.flows.load(target.flowId, target.version);
    return await deps.access.viewableFlow(record, deployedBy || undefined);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}
