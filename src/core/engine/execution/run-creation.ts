/**
 * A new run executed before it is stored: its executor runs the steps that stay within the run
 * (COMPUTE, SET, DECIDE, SUCCEED, FAIL, GOTO, a call of its own subflow — step-kinds.ts) and its
 * first commit creates it, with every event so far, in the state it reached: ACTIVE (and leased
 * to this engine) when a step that reaches outside the run comes next (a module, a child run, a
 * wait, an event), after as many steps as the executor holds back at most (32), or when it gives its slot
 * back; already SUCCEEDED or FAILED when those steps ended it. A run that ends within its start
 * is then written once — one row and its events — instead of a row and an UPDATE moving it
 * through the status, end and claimable indexes.
 *
 * Crash safety is that of a run created first: nothing of the run is acknowledged, and nothing
 * outside it happens, before the creation commits; a process dying before that leaves no trace
 * and its starter an error (the start may be repeated: the steps only computed). Same events,
 * same logs, same record as a run created ACTIVE and then executed; only fewer writes.
 */
import { FlowError } from '../../errors.js';
import type { NewRun, RunEventBody, RunRecord } from '../../run.js';
import type { RunPatch } from '../../store.js';

/** A run its executor is to create with its first commit (run-commits.ts). */
export interface PendingCreation {
  /** The run as built; nothing of it is stored yet. */
  readonly run: NewRun;
  /** Its first events (the ACTIVE status, FlowStarted, any its starter adds), before the executor's. */
  readonly events: readonly RunEventBody[];
  /** `Store.createRun`'s bound for a run joining an existing tree. */
  readonly maxRunsPerTree: number;
  /** The creation committed: the run as first recorded (ACTIVE, or already ended). Called once. */
  created(run: RunRecord): void;
  /** The creation was refused or failed (nothing of the run is stored). Called once, and never after {@link created}. */
  failed(error: unknown): void;
}

/** A {@link PendingCreation} and the promise of its outcome: the run as first recorded, or the creation's error. */
export function pendingCreation(input: {
  run: NewRun;
  events: readonly RunEventBody[];
  maxRunsPerTree: number;
  /** Called before the promise resolves (observers). */
  onCreated?: (run: RunRecord) => void;
  /** Called before the promise rejects (the slot reserved for the run). */
  onFailed?: () => void;
}): { creation: PendingCreation; recorded: Promise<RunRecord> } {
  let resolve!: (run: RunRecord) => void;
  let reject!: (error: unknown) => void;
  const recorded = new Promise<RunRecord>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let settled = false;
  const creation: PendingCreation = {
    run: input.run,
    events: input.events,
    maxRunsPerTree: input.maxRunsPerTree,
    created(run) {
      if (settled) return;
      settled = true;
      input.onCreated?.(run);
      resolve(run);
    },
    failed(error) {
      if (settled) return;
      settled = true;
      input.onFailed?.();
      reject(error);
    },
  };
  return { creation, recorded };
}

/**
 * The run the first commit creates: the run as built with the commit's patch applied. Only what
 * steps within the run can do is accepted — an ACTIVE run (leased unless `releaseLease`), or one
 * ended SUCCEEDED or FAILED; anything else (a suspension, runs created or woken, items, emits) is
 * never reached before the creation, and is refused as INTERNAL rather than written half.
 */
export function createdRun(run: NewRun, patch: RunPatch, extras: { createsOrWakes: boolean; items: number; emits: number }): NewRun {
  const status = patch.status ?? 'ACTIVE';
  if ((status !== 'ACTIVE' && status !== 'SUCCEEDED' && status !== 'FAILED') || extras.createsOrWakes || extras.items > 0 || extras.emits > 0) {
    throw new FlowError('INTERNAL', `run ${run.runId}: its first write must create it ACTIVE or ended, not ${status} with runs, items or events of its own`, { runId: run.runId });
  }
  // Field by field onto a copy, not a spread with conditional fields (cheaper on Node 20).
  const created = Object.assign({}, run);
  created.status = status;
  if (patch.state !== undefined) created.state = patch.state;
  if (patch.readyAt !== undefined) created.readyAt = patch.readyAt;
  if (status !== 'ACTIVE') {
    created.endTime = patch.endTime ?? null;
    created.output = patch.output ?? null;
    created.runError = patch.runError ?? null;
  }
  return created;
}
