/**
 * Canceling a run and its synchronous children. The run is ended CANCELED in the store first
 * (which drops its lease, so its executor — here or in another process — can write nothing more
 * and stops at its next heartbeat or commit), then its synchronous children, depth-first, then
 * whoever waits on it is told. Launched runs are independent and go on.
 */
import type { Clock } from '../../clock.js';
import { CanceledError, NotFoundError } from '../../errors.js';
import { isTerminalStatus, type RunEventBody, type RunRecord } from '../../run.js';
import type { Store } from '../../store.js';

/** What canceling needs from the engine. */
export interface CancelDeps {
  store: Store;
  clock: Clock;
  /** Aborts the run's executor if this engine is executing it. */
  abortLocal(runId: string, error: CanceledError): void;
  published(run: RunRecord, events: RunEventBody[]): void;
  ended(run: RunRecord): void;
}

/** Cancels a run (if it has not ended) and its synchronous children; RUN_NOT_FOUND for an unknown id. */
export async function cancelRunTree(deps: CancelDeps, runId: string, reason: string): Promise<void> {
  const run = await deps.store.getRun(runId);
  if (!run) throw new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
  if (isTerminalStatus(run.status)) return;
  const at = deps.clock.now();
  const events: RunEventBody[] = [
    { kind: 'log', entry: { time: at, code: 'FlowCanceled', description: `flow ${run.flowId} action ${run.actionName} was canceled: ${reason}`, details: {} } },
    { kind: 'status', status: 'CANCELED', error: { code: 'CANCELED', description: reason } },
  ];
  const canceled = await deps.store.cancelRun({
    runId,
    at,
    events,
    runError: { code: 'CANCELED', description: reason },
    ...(run.parentRunId && !run.detached ? { wakeRuns: [run.parentRunId] } : {}),
  });
  if (!canceled) return;
  deps.abortLocal(runId, new CanceledError(`run ${runId} was canceled`, { runId }));
  deps.published(canceled, events);
  // The run itself is CANCELED first, so a child's wake finds its parent already ended.
  const children = await deps.store.listRuns({ parentRunId: runId, status: ['ACTIVE', 'INACTIVE'], limit: 1000 });
  for (const child of children.runs) {
    if (!child.detached) await cancelRunTree(deps, child.runId, `its parent run ${runId} was canceled`);
  }
  deps.ended(canceled);
}
