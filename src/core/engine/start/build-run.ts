/**
 * Building a new run record: the action's input bound and validated against its params, ids,
 * owner and lineage, deadline, and the first frame of its state.
 */
import { NotFoundError, ValidationError } from '../../errors.js';
import { cloneJson } from '../../json.js';
import { MAX_WALKED_DEPTH } from '../../json-depth.js';
import { sealJson } from '../../seal-json.js';
import { bindActionInput } from '../../params.js';
import type { NewRun, RunRecord, RunState } from '../../run.js';
import type { BuildRunInput } from '../engine-core.js';
import { REJECTED_INPUT_GRAPH, entryGraph, findEntry } from './flow-graph.js';
import type { ValidationIssue } from '../../errors.js';
import type { Tracing } from '../../tracing.js';

/**
 * Builds a run ready to be created; its deadline is its `timeoutMs` or the `maxRunDurationMs`
 * budget, whichever ends first. Throws ACTION_NOT_FOUND for an unknown action and
 * INVALID_INPUT (a ValidationError naming each param) for input that breaks the params — unless
 * `failsOnUnfitInput`: then the run is built to fail with INVALID_INPUT as it starts. With
 * `tracing`, the run's span is recorded and its trace context set on the run (core/tracing.ts).
 */
export function buildNewRun(input: BuildRunInput, deps: { now: number; newRunId: () => string; maxRunDurationMs: number; tracing?: Tracing | undefined }): NewRun {
  const definition = input.flow.definition;
  const action = findEntry(input.flow, input.actionName);
  if (!action) {
    throw new NotFoundError('ACTION_NOT_FOUND', `flow "${input.flow.flowId}" v${input.flow.version} has no action "${input.actionName}"; it has ${Object.keys(definition.actions).join(', ')}`);
  }
  const bound = sealedBinding(bindActionInput(action, input.input, definition.classes));
  if (!bound.ok && !input.failsOnUnfitInput) throw new ValidationError('INVALID_INPUT', bound.issues);
  const first = bound.ok
    ? { graph: entryGraph(input.actionName), at: action.startAt, item: bound.value }
    : rejectedInputFrame(bound.issues, input.actionName);
  const runInput = bound.ok ? bound.value : isPlainObject(input.input) ? cloneJson(input.input) : {};
  const now = deps.now;
  const runId = input.requestId ?? deps.newRunId();
  const timeoutMs = input.timeoutMs ?? action.timeoutMs ?? null;
  const parent = input.parent;
  const createdBy = input.createdBy ?? (parent ? (parent.runAs ?? parent.createdBy) : 'anonymous');
  const state: RunState = {
    frames: [{ graph: first.graph, at: first.at, steps: {}, last: null, depth: input.depth ?? 0, attempt: 1, item: first.item }],
    vars: declaredDefaults(definition.vars),
    outputs: declaredDefaults(action.outputs),
    ...(input.event !== undefined ? { event: cloneJson(input.event) } : {}),
    ...(input.schedule !== undefined ? { schedule: { ...input.schedule } } : {}),
    stepSeq: 0,
    stepLogs: input.stepLogs ?? true,
    historyCount: 0,
    hasItems: false,
  };
  const run: NewRun = {
    runId,
    flowId: input.flow.flowId,
    flowVersion: input.flow.version,
    actionName: input.actionName,
    status: 'ACTIVE',
    label: input.label ?? null,
    tags: input.tags ?? [],
    input: runInput,
    createdBy,
    runOwner: parent ? parent.runOwner : createdBy,
    runAs: input.runAs ?? null,
    triggeredBy: input.triggeredBy ?? null,
    source: input.source,
    sessionId: input.sessionId ?? parent?.sessionId ?? null,
    parentRunId: parent?.runId ?? null,
    rootRunId: parent && !input.detached ? parent.rootRunId : runId,
    // Launches stay in their starter's tree, and so do runs its EMITs' events start: a flow that
    // launches itself, or is subscribed to an event it emits, is bounded by maxRunsPerTree.
    treeId: parent ? parent.treeId : (input.treeId ?? runId),
    detached: input.detached ?? false,
    depth: input.depth ?? 0,
    // A child run (call or launch) has its starter's audience unless it is given its own.
    monitors: roleSet(input.monitors ?? parent?.monitors),
    managers: roleSet(input.managers ?? parent?.managers),
    startTime: now,
    timeoutMs,
    // The run's own timeout, never later than the maxRunDurationMs budget allows.
    deadline: now + Math.min(timeoutMs ?? Number.POSITIVE_INFINITY, deps.maxRunDurationMs),
    readyAt: now,
    state,
  };
  const traceContext = deps.tracing?.runCreated(run);
  if (traceContext) run.traceContext = traceContext;
  return run;
}

/**
 * The bound input sealed (seal-json.ts): the engine sealed the input before binding, so this
 * walks only what binding added — the top-level object and the params' defaults. The limit is
 * the walks' own, not `maxNestingDepth`: the input was held to that already, and defaults are
 * part of the definition, held to its own.
 */
function sealedBinding<T extends { ok: boolean; value?: Record<string, unknown> }>(bound: T): T {
  return bound.ok ? { ...bound, value: sealJson(bound.value, { path: 'input', maxDepth: MAX_WALKED_DEPTH }) } : bound;
}

/** The first frame of a launched run whose input does not fit: one FAIL step that says why. */
function rejectedInputFrame(issues: ValidationIssue[], actionName: string): { graph: string; at: string; item: unknown } {
  const why = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return { graph: REJECTED_INPUT_GRAPH, at: 'input', item: { description: `the input does not fit the params of action "${actionName}": ${why}` } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The values vars or outputs start with: a copy of each default, an empty list for a collection without one. */
export function declaredDefaults(declared: Record<string, { default?: unknown; collection?: string }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(declared ?? {})) {
    if (def.default !== undefined) out[name] = cloneJson(def.default);
    else if (def.collection !== undefined) out[name] = [];
  }
  return out;
}

function roleSet(role: { users?: string[]; groups?: string[] } | undefined): { users: string[]; groups: string[] } {
  return { users: [...(role?.users ?? [])], groups: [...(role?.groups ?? [])] };
}

/** The record of a run a transition created with a lease, exactly as every store creates it. */
export function createdRecord(run: NewRun, events: number, lease: { owner: string; expiresAt: number }, at: number): RunRecord {
  // Object.assign and then the fields, not a spread with them: V8 adds fields to a spread copy far more slowly.
  const record = Object.assign({}, run) as RunRecord;
  record.version = 0;
  record.lastSeq = events;
  record.leaseOwner = lease.owner;
  record.leaseExpiresAt = lease.expiresAt;
  record.fencingToken = 1;
  record.updatedAt = at;
  record.endTime = null;
  record.output = null;
  record.runError = null;
  return record;
}
