/**
 * Canceling a run. The run is ended CANCELED in the store first (which drops its lease, so its
 * executor — here or in another process — can write nothing more and stops at its next heartbeat
 * or commit), then its synchronous children, depth-first, then whoever waits on it is told.
 * Launched runs are independent and go on — unless the whole tree is canceled (`tree`).
 *
 * Canceling a tree (`{tree: true}`) ends the run and every run under it, synchronous children
 * and launches alike, top-down: a run is canceled before its children are listed, and a canceled
 * (or ended) run creates nothing more, so a launch racing the cancel is either listed or never
 * happens. When the run is its tree's root, the tree is first marked canceled in the store
 * (`markTreeCanceled`): from then on every transition that would create a run anywhere in the
 * tree is refused in its own transaction (and that run cancels itself), so a fork bomb stops at
 * once instead of racing the walk. Canceling again finishes a walk a crash cut short.
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

/** Children listed per page while walking a tree. */
const PAGE = 500;

/**
 * Cancels a run (if it has not ended) and its synchronous children; with `tree`, every run it
 * started, transitively, launches included. RUN_NOT_FOUND for an unknown id.
 */
export async function cancelRunTree(deps: CancelDeps, runId: string, reason: string, options: { tree?: boolean } = {}): Promise<void> {
  const run = await deps.store.getRun(runId);
  if (!run) throw new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
  if (!options.tree) return cancelWithSyncChildren(deps, run, reason);
  if (run.treeId === run.runId) await deps.store.markTreeCanceled({ treeId: run.treeId, at: deps.clock.now() });
  // Breadth-first, each run ended before its children are read (see above); ended runs are walked too.
  const pending: RunRecord[] = [run];
  for (let next = pending.shift(); next; next = pending.shift()) {
    if (!isTerminalStatus(next.status)) await cancelOne(deps, next, next === run ? reason : `its run tree was canceled (run ${runId}: ${reason})`);
    for (let marker: string | null | undefined; marker !== null; ) {
      const page = await deps.store.listRuns({ parentRunId: next.runId, limit: PAGE, ...(marker ? { marker } : {}) });
      pending.push(...page.runs);
      marker = page.marker;
    }
  }
}

async function cancelWithSyncChildren(deps: CancelDeps, run: RunRecord, reason: string): Promise<void> {
  if (isTerminalStatus(run.status)) return;
  const canceled = await cancelOne(deps, run, reason, { announceEnd: false });
  if (!canceled) return;
  // The run itself is CANCELED first, so a child's wake finds its parent already ended.
  const children = await deps.store.listRuns({ parentRunId: run.runId, status: ['ACTIVE', 'INACTIVE'], limit: 1000 });
  for (const child of children.runs) {
    if (!child.detached) await cancelRunTree(deps, child.runId, `its parent run ${run.runId} was canceled`);
  }
  deps.ended(canceled);
}

/** Ends one live run CANCELED, aborting its executor here; null when it had ended meanwhile. */
async function cancelOne(deps: CancelDeps, run: RunRecord, reason: string, options: { announceEnd?: boolean } = {}): Promise<RunRecord | null> {
  const at = deps.clock.now();
  const events: RunEventBody[] = [
    { kind: 'log', entry: { time: at, code: 'FlowCanceled', description: `flow ${run.flowId} action ${run.actionName} was canceled: ${reason}`, details: {} } },
    { kind: 'status', status: 'CANCELED', error: { code: 'CANCELED', description: reason } },
  ];
  const canceled = await deps.store.cancelRun({
    runId: run.runId,
    at,
    events,
    runError: { code: 'CANCELED', description: reason },
    ...(run.parentRunId && !run.detached ? { wakeRuns: [run.parentRunId] } : {}),
  });
  if (!canceled) return null;
  deps.abortLocal(run.runId, new CanceledError(`run ${run.runId} was canceled`, { runId: run.runId }));
  deps.published(canceled, events);
  if (options.announceEnd !== false) deps.ended(canceled);
  return canceled;
}
