/**
 * Deploying a flow version: the definition validated (validate-flow.ts), its calls of other
 * flows checked against the versions they would run now (check-flow-calls.ts), then stored and
 * maybe published. Nothing is stored when a check fails.
 */
import { NotFoundError, ValidationError, type ValidationIssue } from '../../errors.js';
import { assertDefinitionNesting } from '../../json-depth.js';
import type { FlowDefinition, FlowSourceText, FlowVersionRecord } from '../../model.js';
import type { Store } from '../../store.js';
import { checkFlowCalls, flowCallTargets, type FlowCallTarget } from '../../validation/check-flow-calls.js';
import { validateFlow } from '../../validation/validate-flow.js';
import type { AccessControl } from '../access/authorize.js';
import type { FlowCache } from './flow-cache.js';

/** Options of a deploy: who deploys (absent: trusted in-process code), whether to publish, and the `.flow` text it came from. */
export interface DeployOptions {
  deployedBy?: string;
  publish?: boolean;
  /**
   * The `.flow` program the definition was compiled from, kept with the version (the dashboard
   * shows it beside the ledger's `file:line`). Stored as given: the engine does not compile it
   * again. At most {@link MAX_FLOW_SOURCE_BYTES} of UTF-8; a file name of at most 256 characters.
   */
  source?: FlowSourceText;
}

/** The largest `.flow` text a version keeps (UTF-8 bytes); a larger one is refused with INVALID_DEFINITION. */
export const MAX_FLOW_SOURCE_BYTES = 256 * 1024;

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
  if (options.source !== undefined) assertSource(options.source);
  const validated = validateFlow(definition);
  if (!validated.ok) throw new ValidationError('INVALID_DEFINITION', validated.issues);
  const callees = new Map<FlowCallTarget, FlowDefinition | undefined>();
  for (const target of flowCallTargets(validated.flow)) callees.set(target, (await visibleCallee(deps, target, options.deployedBy))?.definition);
  const calls = checkFlowCalls(validated.flow, (target) => [...callees].find(([t]) => t.flowId === target.flowId && t.version === target.version)?.[1]);
  if (calls.issues.length > 0) throw new ValidationError('INVALID_DEFINITION', calls.issues);
  const record = await deps.flows.save(validated.flow, options.deployedBy ?? '', options.source);
  if (options.publish) await deps.store.publishFlowVersion({ flowId: record.flowId, version: record.version }).finally(() => deps.flows.forget(record.flowId));
  const warnings = [...(validated.warnings ?? []), ...calls.warnings];
  return { id: record.flowId, version: record.version, ...(warnings.length > 0 ? { warnings } : {}) };
}

/** Refuses a source that is not `{fileName?, text}` within the bounds (INVALID_DEFINITION naming the field). */
function assertSource(source: FlowSourceText): void {
  const issues: ValidationIssue[] = [];
  if (typeof source !== 'object' || source === null || typeof source.text !== 'string') issues.push({ path: 'source.text', message: 'must be the text of the .flow program' });
  else if (utf8Bytes(source.text) > MAX_FLOW_SOURCE_BYTES) issues.push({ path: 'source.text', message: `must be at most ${MAX_FLOW_SOURCE_BYTES} bytes` });
  const fileName = (source as { fileName?: unknown } | null)?.fileName;
  if (fileName !== undefined && (typeof fileName !== 'string' || fileName.length < 1 || fileName.length > 256)) issues.push({ path: 'source.fileName', message: 'must be a file name of 1-256 characters' });
  if (issues.length > 0) throw new ValidationError('INVALID_DEFINITION', issues);
}

/** The UTF-8 size of a string (a lone surrogate counts 3, as its replacement character). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
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
