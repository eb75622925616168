/**
 * New runs set going by this engine. A run started here (startRun, an event, a schedule's single
 * firing) is executed here when a slot is free: its executor creates it with its first commit
 * (run-creation.ts). Otherwise it is created ACTIVE for whichever engine claims it first. Runs
 * created together by the store (a schedule's batch) are announced, then executed here under the
 * lease they were created with, or dispatched.
 */
import type { NewRun, RunEventBody, RunRecord } from '../../run.js';
import type { Store } from '../../store.js';
import { startEvents, type CreatedRun, type LiveRunRef } from '../engine-core.js';
import { runStartOf, type EngineObservers } from '../engine-observer.js';
import { createdRecord } from '../start/build-run.js';
import { pendingCreation } from './run-creation.js';
import type { RunScheduler } from './run-scheduler.js';

/** What {@link RunStarts} uses of its engine. */
export interface RunStartsDeps {
  store: Store;
  scheduler: RunScheduler;
  observers: EngineObservers;
  /** `Store.createRun`'s bound for a run joining an existing tree (the maxRunsPerTree budget). */
  maxRunsPerTree: number;
  publishCommitted(run: LiveRunRef, events: RunEventBody[]): void;
}

/** Creates new runs and sets them going here or for any engine. */
export class RunStarts {
  readonly #deps: RunStartsDeps;

  constructor(deps: RunStartsDeps) {
    this.#deps = deps;
  }

  /** Records a new run (one joining a tree — an EMIT's event started it — counts within maxRunsPerTree) and sets it going; resolves with its record as first recorded (its `state` is the one the execution goes on changing). */
  async createAndExecute(run: NewRun, firstEvents: RunEventBody[] = []): Promise<RunRecord> {
    const { store, scheduler, observers, maxRunsPerTree } = this.#deps;
    const events = [...startEvents(run), ...firstEvents];
    const lease = scheduler.leaseForNewRun(run);
    // Executed here: its executor creates it with its first commit, ended if its first steps end it (run-creation.ts).
    if (lease) return this.#executeUncreated(run, events, lease);
    // No room here: created ACTIVE, for whichever engine claims it first.
    const created = await store.createRun({ run, events, maxRunsPerTree });
    this.#deps.publishCommitted(created.run, events);
    if (!observers.isEmpty) observers.runStarted(runStartOf(run));
    scheduler.dispatch(run.runId, run);
    return created.run;
  }

  #executeUncreated(run: NewRun, events: RunEventBody[], lease: { owner: string; expiresAt: number }): Promise<RunRecord> {
    const { scheduler, observers, maxRunsPerTree } = this.#deps;
    const onCreated = (recorded: RunRecord): unknown => observers.isEmpty || observers.runStarted(runStartOf(recorded));
    const { creation, recorded } = pendingCreation({ run, events, maxRunsPerTree, onCreated, onFailed: () => scheduler.forgetLease(run.runId) });
    scheduler.execute(createdRecord(run, events.length, lease, run.startTime), { runId: run.runId, owner: lease.owner, fencingToken: 1, expiresAt: lease.expiresAt }, creation);
    return recorded;
  }

  /** The runs with their first events, each with a lease of this engine when it has a slot for it. */
  toCreate(runs: NewRun[]): CreatedRun[] {
    return runs.map((run) => {
      const lease = this.#deps.scheduler.leaseForNewRun(run);
      return { run, events: startEvents(run), ...(lease ? { lease } : {}) };
    });
  }

  /** Announces runs the store created (live events, observers) and executes the leased ones here; the others are dispatched unless `leaveUnleased`. */
  created(created: CreatedRun[], at: number, options: { leaveUnleased?: boolean } = {}): void {
    const { scheduler, observers } = this.#deps;
    for (const c of created) {
      this.#deps.publishCommitted({ ...c.run, lastSeq: c.events.length }, c.events);
      if (!observers.isEmpty) observers.runStarted(runStartOf(c.run));
      if (c.lease) scheduler.executeLeased(c.run.runId, c.lease, createdRecord(c.run, c.events.length, c.lease, at));
      else if (!options.leaveUnleased) scheduler.dispatch(c.run.runId, c.run);
    }
  }
}
