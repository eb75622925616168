/**
 * What the run page shows, folded from the run's events in seq order: logs, items, ledger,
 * streamed outputs, step visits (timeline) and each step's state for the graph. Pure: the page
 * feeds it the events of `GET /runs/{id}/stream` (which replays every persisted event first), and
 * tests feed it recorded ones. The graph's node of a step is keyed `graph/stepId`
 * (`action:main/charge`, `subflow:refund/pay`).
 */
import type { FlowDefinition, LiveRunEvent, LogEntry, Run, RunStatus } from '../../src/client/index.js';

/** A step's state as the graph colours it. */
export type StepState = 'done' | 'running' | 'failed' | 'waiting' | 'skipped' | 'pending';

/** One visit of a step (a retried step has one per attempt). */
export interface StepVisit {
  key: string;
  stepId: string;
  startedAt: number;
  durationMs: number;
  attempt: number;
  outcome: 'succeeded' | 'failed' | 'retrying' | 'caught';
}

type ItemRecord = Extract<LiveRunEvent, { kind: 'item' }>['item'];
type LedgerRecord = Extract<LiveRunEvent, { kind: 'ledger' }>['entry'];

/** The state of the run page, grown by {@link applyRunEvent}. */
export interface RunModel {
  status: RunStatus | null;
  lastSeq: number;
  logs: LogEntry[];
  items: Map<string, ItemRecord>;
  ledger: LedgerRecord[];
  outputs: Record<string, unknown>;
  visits: StepVisit[];
  /** States of the steps seen so far, by key. */
  states: Map<string, StepState>;
  /** The step waiting for an approval decision, if any. */
  approval: { stepId: string; reason: string } | null;
  /** The step the run goes to next (or is running) while it is active, inferred from the events. */
  next: { graph: string; stepId: string } | null;
  /**
   * Where the run's record last said it stands (its `frames`, its `suspension`): each step it
   * executes or waits at, and how many visits the model had then — a later visit of that step
   * means the run moved on and the events speak again.
   */
  position: { key: string; state: 'running' | 'waiting'; visitsAtRead: number }[];
}

/** An empty model for a run of `actionName` of `definition` (when known). */
export function emptyRunModel(definition: FlowDefinition | undefined, actionName: string): RunModel {
  const start = definition?.actions[actionName]?.startAt;
  return { status: null, lastSeq: 0, logs: [], items: new Map(), ledger: [], outputs: {}, visits: [], states: new Map(), approval: null, position: [], next: start ? { graph: `action:${actionName}`, stepId: start } : null };
}

const TERMINAL = new Set<RunStatus>(['SUCCEEDED', 'FAILED', 'CANCELED']);

/** Folds one event into the model (in place, for runs with many thousands of events) and returns it. */
export function applyRunEvent(model: RunModel, event: LiveRunEvent, definition?: FlowDefinition): RunModel {
  if (!event.transient && event.seq > model.lastSeq) model.lastSeq = event.seq;
  switch (event.kind) {
    case 'status':
      model.status = event.status;
      if (TERMINAL.has(event.status)) {
        model.next = null;
        model.approval = null;
      }
      break;
    case 'log':
      model.logs.push(event.entry);
      applyLog(model, event.entry, definition);
      break;
    case 'item':
      model.items.set(event.item.id, event.item);
      break;
    case 'ledger':
      model.ledger.push(event.entry);
      if (event.entry.kind === 'decide' && typeof event.entry.to.next === 'string') model.next = { graph: event.entry.from.graph, stepId: event.entry.to.next };
      if ((event.entry.kind === 'run' || event.entry.kind === 'goto') && typeof event.entry.to.subflow === 'string') {
        const subflow = definition?.subflows?.[event.entry.to.subflow];
        if (subflow) model.next = { graph: `subflow:${event.entry.to.subflow}`, stepId: subflow.startAt };
      }
      break;
    case 'output':
      model.outputs[event.name] = event.value;
      break;
  }
  return model;
}

function applyLog(model: RunModel, entry: LogEntry, definition: FlowDefinition | undefined): void {
  const details = entry.details ?? {};
  const stepId = typeof details.stepId === 'string' ? details.stepId : null;
  if (stepId === null) return;
  const graph = typeof details.graph === 'string' ? details.graph : model.next?.stepId === stepId ? model.next.graph : guessGraph(model, stepId);
  const key = `${graph}/${stepId}`;
  const visit = (outcome: StepVisit['outcome']): void => {
    const startedAt = typeof details.startedAt === 'number' ? details.startedAt : entry.time;
    const durationMs = typeof details.durationMs === 'number' ? details.durationMs : 0;
    const attempt = typeof details.attempt === 'number' ? details.attempt : 1;
    model.visits.push({ key, stepId, startedAt, durationMs, attempt, outcome });
  };
  switch (entry.code) {
    case 'StepSucceeded':
    case 'StepCaught': {
      visit(entry.code === 'StepSucceeded' ? 'succeeded' : 'caught');
      model.states.set(key, entry.code === 'StepSucceeded' ? 'done' : 'failed');
      if (model.approval?.stepId === stepId) model.approval = null;
      // A DECIDE's ledger entry (recorded before this log) already named its branch.
      const step = stepOf(definition, graph, stepId);
      if (step && step.stepType !== 'DECIDE') model.next = step.defaultNextStepInstanceId ? { graph, stepId: step.defaultNextStepInstanceId } : null;
      break;
    }
    case 'StepFailed':
      visit('failed');
      model.states.set(key, 'failed');
      model.next = null;
      break;
    case 'StepRetrying':
      visit('retrying');
      model.states.set(key, 'running');
      break;
    case 'StepWaiting':
      model.states.set(key, 'waiting');
      break;
    case 'ApprovalRequested':
      model.states.set(key, 'waiting');
      model.approval = { stepId, reason: entry.description };
      break;
    case 'StepApproved':
      model.states.set(key, 'running');
      model.approval = null;
      break;
    case 'StepRejected':
      model.states.set(key, 'failed');
      model.approval = null;
      break;
  }
}

function guessGraph(model: RunModel, stepId: string): string {
  for (const key of model.states.keys()) if (key.endsWith(`/${stepId}`)) return key.slice(0, -stepId.length - 1);
  return model.next?.graph ?? 'action:main';
}

/** The step definition at `graph` (`action:NAME` or `subflow:NAME`). */
export function stepOf(definition: FlowDefinition | undefined, graph: string, stepId: string): FlowDefinition['actions'][string]['steps'][string] | undefined {
  if (!definition) return undefined;
  const [kind, name = ''] = graph.split(':', 2) as [string, string?];
  const steps = kind === 'action' ? definition.actions[name]?.steps : definition.subflows?.[name]?.steps;
  return steps?.[stepId];
}

/**
 * Takes the run record's word for where the run stands: an INACTIVE run's `suspension` step is
 * waiting; a live run's `frames` name the step each frame executes (running) or waits at for a
 * child run (waiting). Replaces the previous record's position; returns the model.
 */
export function applyRunRecord(model: RunModel, run: Pick<Run, 'status' | 'frames' | 'suspension'>): RunModel {
  const visitsAtRead = model.visits.length;
  model.position = [];
  if (run.status === 'INACTIVE' && run.suspension) {
    model.position.push({ key: `${run.suspension.graph}/${run.suspension.stepId}`, state: 'waiting', visitsAtRead });
  } else if (run.status === 'ACTIVE' || run.status === 'INACTIVE') {
    for (const frame of run.frames ?? []) {
      if (frame.at !== null) model.position.push({ key: `${frame.graph}/${frame.at}`, state: frame.waitingForRunId ? 'waiting' : 'running', visitsAtRead });
    }
  }
  return model;
}

/** The record's position entries still standing: no visit of their step since the record was read, and the run not ended. */
function standingPosition(model: RunModel): RunModel['position'] {
  if (model.status !== null && TERMINAL.has(model.status)) return [];
  return model.position.filter((p) => !model.visits.slice(p.visitsAtRead).some((v) => v.key === p.key));
}

/**
 * The state of a step for the graph: the run record's position while it stands (see
 * {@link applyRunRecord}), else what its events said, else running when the run is active and
 * goes there next, else skipped once the run ended, else pending.
 */
export function stepState(model: RunModel, key: string): StepState {
  const standing = standingPosition(model);
  const here = standing.find((p) => p.key === key);
  if (here) return here.state;
  const known = model.states.get(key);
  // The record says where the run is: no step elsewhere is guessed to be running.
  if (standing.length > 0) return known && known !== 'running' ? known : 'pending';
  if (known && known !== 'running') return known;
  if (model.status === 'ACTIVE' && model.next && `${model.next.graph}/${model.next.stepId}` === key) return 'running';
  if (known === 'running') return model.status !== null && TERMINAL.has(model.status) ? 'failed' : 'running';
  return model.status !== null && TERMINAL.has(model.status) ? 'skipped' : 'pending';
}
