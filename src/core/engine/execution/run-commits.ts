/**
 * The commits of one execution of a run (run-executor.ts): each takes what the run's journal and
 * state changes hold as one transition and hands it to the store. Commits are chained, so a flush
 * from a running module and the step's completion never interleave and never reorder; with none
 * in flight a commit is handed to the store at once, in the caller's turn, with one promise of its
 * own (a step makes a few promises, and each costs more once an SDK's context manager has turned
 * on Node's promise hooks).
 */
import { ConflictError, FlowError } from '../../errors.js';
import type { NewRun, RunRecord, RunState } from '../../run.js';
import type { RecordedRun, RunLease, Store, Transition } from '../../store.js';
import type { ExecutionTrace } from '../../tracing.js';
import type { EngineCore } from '../engine-core.js';
import { takeEmits } from '../events/event-outbox.js';
import type { RunBudget } from './run-budget.js';
import { commitPatch, runAfter, type CommitOptions, type JournalEntries, type RunJournal } from './run-journal.js';
import type { StateChangeTracker } from './state-changes.js';
import { createdRun, type PendingCreation } from './run-creation.js';

/** What a commit resolves with: the run as recorded, and the runs its end woke. */
export type Committed = RunRecord & Pick<RecordedRun, 'wokenRuns'>;

/** What {@link RunCommits} reads from its executor, and tells it. */
export interface CommitSource {
  readonly core: EngineCore;
  readonly journal: RunJournal;
  readonly changes: StateChangeTracker;
  readonly state: RunState;
  readonly budget: RunBudget;
  readonly lease: RunLease;
  /** Why the run was aborted (run-abort.ts): a ConflictError once the lease is lost, and nothing is written from then on. */
  readonly abort: { readonly reason: unknown };
  /** The run as last recorded. */
  run(): RunRecord;
  /** The execution's trace, when one records: the store is called in the current step's span. */
  trace(): ExecutionTrace | null;
  /** A transition is being taken: nothing stays held back. */
  taken(): void;
  /** The run as the commit recorded it. */
  recorded(run: RunRecord): void;
}

/** Chains and writes one execution's transitions. */
export class RunCommits {
  readonly #source: CommitSource;
  /** The last commit (it may reject); the next waits for it while {@link #inFlight}. */
  #last: Promise<unknown> = Promise.resolve();
  /** Commits asked for and not settled yet. */
  #inFlight = 0;
  /** The run is not stored yet: the next commit creates it (run-creation.ts). */
  #creation: PendingCreation | null;
  /** Its creation was handed to the store and not recorded yet, or refused. */
  #creating: PendingCreation | null = null;
  /** The creation was refused or failed: the run does not exist, and nothing more may be written. */
  #creationFailed = false;

  /** With `creation`, the run is not stored yet and the first commit creates it. */
  constructor(source: CommitSource, creation?: PendingCreation) {
    this.#source = source;
    this.#creation = creation ?? null;
  }

  /** The run is stored (its creation committed, or it was created before this execution). */
  get isCreated(): boolean {
    return this.#creation === null && this.#creating === null && !this.#creationFailed;
  }

  /** Its creation was refused or failed: the starter has the error and the execution stops. */
  get creationFailed(): boolean {
    return this.#creationFailed;
  }

  /** The execution stopped before the run was created (aborted before any commit): its starter is told. */
  abandonCreation(): void {
    const creation = this.#creation;
    if (!creation) return;
    this.#creation = null;
    this.#creationFailed = true;
    creation.failed(new FlowError('INTERNAL', `run ${creation.run.runId} stopped before it was recorded`, { runId: creation.run.runId }));
  }

  /**
   * Records the pending events and the current state as one transition, after the commits asked
   * for before it settled (whether they were recorded or refused). Rejects with the store's error,
   * or the lease's ConflictError once it is lost; the state's changes are then written whole next time.
   */
  commit(input: CommitOptions<NewRun>): Promise<Committed> {
    const write = (): Promise<Committed> => this.#write(input);
    const chained = this.#inFlight > 0;
    // Counted before the store is called: a commit asked for meanwhile is chained, never handed to the store first.
    this.#inFlight += 1;
    const next = chained ? this.#last.then(write, write) : this.#write(input);
    this.#last = next;
    return next;
  }

  /** Calls `fn` once every commit asked for so far settled (in a later microtask at the earliest). */
  afterCommits(fn: () => void): void {
    void this.#last.then(fn, fn);
  }

  #write(input: CommitOptions<NewRun>): Promise<Committed> {
    const source = this.#source;
    let taken: Taken;
    try {
      const reason = source.abort.reason;
      // After the lease is lost nothing may be written, even if the store would still accept it.
      if (reason instanceof ConflictError) throw reason;
      taken = this.#take(input);
    } catch (error) {
      this.#inFlight -= 1;
      return Promise.reject(error);
    }
    const { recording, at, created, events, transients, emits } = taken;
    return recording.then(
      (recorded) => {
        this.#inFlight -= 1;
        source.changes.recorded();
        const run = runAfter(recorded, source.run().input, source.state);
        source.recorded(run);
        source.core.publishCommitted(recorded, events, transients);
        if (emits.length) source.core.emitted(run, emits);
        source.core.runsCreated(created, at);
        const creation = this.#creating;
        if (creation) {
          this.#creating = null;
          creation.created(run);
        }
        return recorded.wokenRuns ? { ...run, wokenRuns: recorded.wokenRuns } : run;
      },
      (error: unknown) => {
        this.#inFlight -= 1;
        source.changes.writeWhole(); // refused or lost: the changes may or may not be stored
        const creation = this.#creating;
        if (creation) {
          this.#creationFailed = true;
          creation.failed(error);
        }
        throw error;
      },
    );
  }

  /** Takes the next transition from the journal and the state, and hands it to the store. */
  #take(input: CommitOptions<NewRun>): Taken {
    if (this.#creationFailed) throw new ConflictError(`run ${this.#source.run().runId} was not created`, { code: 'LEASE_LOST', runId: this.#source.run().runId });
    if (this.#creation) return this.#create(input, this.#creation);
    const { core, journal, changes, state, budget, lease } = this.#source;
    const run = this.#source.run();
    this.#source.taken();
    const created = core.runsToCreate(input.createRuns ?? []);
    const { events, transients, items } = journal.take();
    if (items.length > 0) state.hasItems = true;
    const emits = takeEmits(state);
    const at = core.clock.now();
    const transition: Transition = {
      runId: run.runId,
      lease: { owner: lease.owner, fencingToken: lease.fencingToken },
      expectedVersion: run.version,
      treeId: run.treeId,
      at,
      patch: commitPatch(input, state, at),
      stateChanges: changes.take((max) => core.store.capabilities.writesSmallStatesWhole === true && budget.stateWithin(state, max)),
      events,
      items,
      ...(created.length ? { createRuns: created, maxRunsPerTree: core.budgets.maxRunsPerTree } : {}),
      ...(input.wakeRuns?.length ? { wakeRuns: input.wakeRuns } : {}),
      ...(input.wakeLease ? { wakeLease: input.wakeLease } : {}),
      ...(input.releaseLease ? { releaseLease: true } : {}),
      ...(emits.length ? { emits } : {}),
    };
    const trace = this.#source.trace();
    // Traced, in the step's span: the store's commit batch is its child.
    const recording = trace ? trace.inStep(recordIn, core.store, transition) : core.store.recordTransition(transition);
    return { recording, at, created, events, transients, emits };
  }

  /**
   * The first commit of a run not stored yet: it creates the run, in the state and status the
   * commit records, with its first events and every event of its steps so far (run-creation.ts).
   */
  #create(input: CommitOptions<NewRun>, creation: PendingCreation): Taken {
    const { core, journal, changes, state, lease } = this.#source;
    const { events, transients, items } = journal.take();
    const emits = takeEmits(state);
    const at = core.clock.now();
    const patch = commitPatch(input, state, at);
    const run = createdRun(creation.run, patch, { createsOrWakes: Boolean(input.createRuns?.length || input.wakeRuns?.length), items: items.length, emits: emits.length });
    this.#source.taken();
    this.#creation = null;
    this.#creating = creation;
    // The store writes the state whole: from here on it is the stored one, as for a run created first.
    changes.reset();
    const keepsLease = run.status === 'ACTIVE' && input.releaseLease !== true;
    const all = creation.events.length === 0 ? events : [...creation.events, ...events];
    const shift = creation.events.length;
    const request = { run, events: all, maxRunsPerTree: creation.maxRunsPerTree, ...(keepsLease ? { lease: { owner: lease.owner, expiresAt: lease.expiresAt } } : {}) };
    const trace = this.#source.trace();
    const creating = trace ? trace.inStep(createIn, core.store, request) : createIn(core.store, request);
    const recording = creating.then((created): RecordedRun => created.run);
    return { recording, at, created: [], events: all, transients: shift === 0 ? transients : transients.map((t) => ({ afterIndex: t.afterIndex + shift, body: t.body })), emits };
  }
}

/** A transition handed to the store, and what goes out once it is recorded. */
interface Taken {
  recording: Promise<RecordedRun>;
  at: number;
  created: ReturnType<EngineCore['runsToCreate']>;
  events: JournalEntries['events'];
  transients: JournalEntries['transients'];
  emits: ReturnType<typeof takeEmits>;
}

function recordIn(store: Store, transition: Transition): Promise<RecordedRun> {
  return store.recordTransition(transition);
}

function createIn(store: Store, request: Parameters<Store['createRun']>[0]): ReturnType<Store['createRun']> {
  return store.createRun(request);
}
