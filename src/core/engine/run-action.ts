/**
 * Running an action to its end (seed 002's runAction) on an engine: start, follow its items,
 * cancel on abort, wait, and shape the ExecutionResult. Uses only the engine's public API.
 */
import { fromRunError } from '../errors.js';
import type { IdSource } from '../clock.js';
import type { RunRecord } from '../run.js';
import type { Store } from '../store.js';
import type { LiveListener } from './live/live-events.js';
import { OutputFollower, type OutputSource } from './live/output-follower.js';
import type { ExecutionResult, ItemEvent, RunActionOptions, StartRunOptions } from './types.js';

/** The engine's public API that runAction is built on. */
export interface RunActionEngine extends OutputSource {
  readonly ids: IdSource;
  readonly store: Store;
  startRun(options: StartRunOptions): Promise<{ requestId: string }>;
  cancelRun(runId: string): Promise<RunRecord>;
  waitForRun(runId: string): Promise<RunRecord>;
  onRunTreeEvent(rootRunId: string, listener: LiveListener): () => void;
}

/**
 * Starts a run and waits for it to end. Resolves with the result — `error` set when the run
 * failed or was canceled — and rejects only when the run cannot be started or recorded.
 * Aborting `signal` cancels the run.
 */
export async function runActionOn(engine: RunActionEngine, options: RunActionOptions): Promise<ExecutionResult> {
  const requestId = options.requestId ?? engine.ids.newRunId();
  const started = engine.clock.now();
  // Listen before starting, so not even the first item is missed.
  const stopItems = options.onItem ? engine.onRunTreeEvent(requestId, itemListener(options.onItem)) : null;
  const outputs = options.onOutput ? new OutputFollower(engine, requestId, options.onOutput) : null;
  let onAbort: (() => void) | null = null;
  try {
    await engine.startRun({ ...options, requestId });
    await outputs?.started(requestId);
    if (options.signal) {
      onAbort = () => void engine.cancelRun(requestId).catch((error: unknown) => engine.logger?.warn({ err: error }, 'cancel on abort failed'));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
    const run = await engine.waitForRun(requestId);
    outputs?.ended(run);
    // A run that never recorded an item needs no read (most runs).
    const items = run.state.hasItems === false ? [] : await engine.store.getRunItems(requestId);
    const ended = { requestId, items, durationMs: Math.max(0, (run.endTime ?? engine.clock.now()) - started) };
    if (run.status === 'SUCCEEDED') return { ...ended, status: run.status, output: run.output };
    // A run that did not succeed always records its error (CANCELED, TIMEOUT, the failing step's code).
    const error = fromRunError(run.runError ?? { code: 'FAILED', description: `the run ended ${run.status}` }, run.runId);
    return { ...ended, status: run.status, output: null, error };
  } finally {
    stopItems?.();
    outputs?.stop();
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
}

function itemListener(onItem: (event: ItemEvent) => void): LiveListener {
  return (event) => {
    if (event.kind !== 'item') return;
    onItem({ change: event.change, item: event.item, runId: event.runId, id: event.item.id, type: event.item.type, transient: event.item.transient });
  };
}
