/**
 * Executes one claimed run, step by step, until it ends or has to wait (for a child run, a
 * retry backoff). Every transition — a step completed, a frame pushed or popped, a child started,
 * the run ended — is recorded in the store before anything that depends on it happens (a child
 * is dispatched, a module called, a caller woken). If the process dies between two transitions,
 * the next claimer resumes from the last one: completed steps are never executed again; a module
 * step that was in flight runs again with the same idempotency key.
 *
 * The `engine/execution/` room: running claimed runs — the executor (this file) with what its next
 * transition records (run-journal.ts), its budgets (run-budget.ts), failed steps (step-failure.ts), early stops (run-abort.ts),
 * the scheduler that claims, leases and dispatches them within fair shares (run-scheduler.ts,
 * fair-shares.ts), lease renewal (lease-keeper.ts), cancelling (cancel-run.ts) and retention
 * (retention.ts). It may import core, the engine's contracts, start/ (building created runs), steps/
 * and calls/ (what a step does and how a child's end resumes its caller) and events/ (the EMIT outbox).
 */
import { CanceledError, ConflictError, FlowError, StepFailedError, TimeoutError, toFlowError } from '../../errors.js';
import type { FlowVersionRecord, StepDefinition } from '../../model.js';
import { isTerminalStatus, type Frame, type Item, type LedgerEntry, type RunRecord, type RunState } from '../../run.js';
import type { RecordedRun, RunLease } from '../../store.js';
import { checkValueBytes, jsonSize } from '../../json-size.js';
import { cloneJson } from '../../json.js';
import { RunAbort } from './run-abort.js';
import { RunBudget } from './run-budget.js';
import { RunJournal } from './run-journal.js';
import { RunCommits } from './run-commits.js';
import { StateChangeTracker } from './state-changes.js';
import type { EngineCore, FlushableRun } from '../engine-core.js';
import { executeStep, stepContext } from '../steps/step-runner.js';
import type { StepHost, StepOutcome } from '../steps/step-outcome.js';
import type { Module, ModuleContext } from '../types.js';
import { applyOutputMappings } from '../../mapping.js';
import { childOutcome } from '../calls/child-outcome.js';
import { actionOf, stepAt } from '../start/flow-graph.js';
import { decideFailure, refusedStepError, treeRefusal } from './step-failure.js';
import type { ExecutionTrace } from '../../tracing.js';
import { PURE_STEP_TYPES, staysWithinRun } from './step-kinds.js';
import type { PendingCreation } from './run-creation.js';

/** Most consecutive transitions held back before one is written anyway (bounds memory and lost work). */
const MAX_DEFERRED_TRANSITIONS = 32;

/** Runs one claimed run until it ends or waits. Create one per claim. */
export class RunExecutor implements StepHost, FlushableRun {
  readonly runId: string;
  readonly #core: EngineCore;
  readonly #flow: FlowVersionRecord;
  /** Why the run stopped early, its deadline's timer, and its modules' signal (run-abort.ts). */
  readonly #abort = new RunAbort();
  #run: RunRecord;
  readonly #state: RunState;
  /** Entries of the next transition: logs, ledger, output and item events (run-journal.ts). */
  readonly #journal: RunJournal;
  /** What the next transition changes in the stored state (state-changes.ts). */
  readonly #changes: StateChangeTracker;
  /** This execution's transitions, chained (run-commits.ts). */
  readonly #commits: RunCommits;
  /** Transitions held back since the last commit (see #settle). */
  #deferred = 0;
  /** A held-back transition completed a step with effects: the next #settle must write. */
  #mustWrite = false;
  /** Steps, duration and state size of this run (run-budget.ts). */
  readonly #budget: RunBudget;
  /** Set when a step's writes took the state over `maxStateBytes`: the run fails before the next step. */
  #stateFailure: FlowError | null = null;
  /** When this engine's lease on the run runs out unless renewed (the heartbeat moves it). */
  leaseExpiresAt: number;
  /** This execution's span and its steps' (core/tracing.ts); null when nothing records. */
  #trace: ExecutionTrace | null = null;

  /** With `creation`, `run` is not stored yet: its first commit creates it (run-creation.ts). */
  constructor(core: EngineCore, run: RunRecord, lease: RunLease, flow: FlowVersionRecord, creation?: PendingCreation) {
    this.runId = run.runId;
    this.#core = core;
    this.#run = run;
    this.#flow = flow;
    this.#state = run.state;
    this.#budget = new RunBudget(core.budgets, run);
    this.#changes = new StateChangeTracker(run.state);
    // Live-only events go out after the commit in flight, if any, with the seq it ends at: never before changes made earlier.
    this.#journal = new RunJournal({ state: run.state, clock: core.clock, maxHistoryPerRun: core.maxHistoryPerRun, publishLive: (body) => this.#commits.afterCommits(() => core.publishTransient(this.#run, body)) });
    this.leaseExpiresAt = lease.expiresAt;
    this.#commits = new RunCommits({
      core, lease, journal: this.#journal, changes: this.#changes, state: this.#state, budget: this.#budget, abort: this.#abort,
      run: () => this.#run,
      trace: () => this.#trace,
      taken: () => {
        this.#deferred = 0;
        this.#mustWrite = false;
      },
      recorded: (recorded) => {
        this.#run = recorded;
      },
    }, creation);
  }

  /** Whether the run was aborted here (canceled, timed out, or its lease lost). */
  get isAborted(): boolean {
    return this.#abort.reason !== undefined;
  }

  /** Aborts running modules; the reason says why (CanceledError or TimeoutError). The first reason stays. */
  abort(reason: FlowError): void {
    this.#abort.abort(reason);
  }

  /** Runs until the run ends or waits. Never rejects: failures are recorded on the run. */
  async execute(): Promise<void> {
    this.#abort.armDeadline(this.#core.clock, this.#budget.deadline, this.runId);
    this.#trace = this.#core.tracing?.executionStarted(this.#run, this.#core.workerId) ?? null;
    try {
      // A run stored over its budgets (steps, state) fails here, before a step runs: recovery never
      // runs it into the same wall again.
      const overBudget = this.#budget.checkClaim(this.#state);
      if (overBudget) return await this.#failOverBudget(overBudget);
      await this.#loop();
    } catch (error) {
      // Canceled, or another process owns the run now; or it was never created (its starter has the error).
      if ((error instanceof ConflictError && error.code === 'LEASE_LOST') || this.#commits.creationFailed) return;
      const failure = toFlowError(error);
      if (failure.code === 'STORE_ERROR') {
        // The store is unreachable, not the run broken: stop here. The lease runs out and this or
        // another engine resumes the run from its last committed transition once the store is back.
        this.#core.logger?.warn({ err: error, runId: this.runId }, 'store unavailable; the run will be resumed from its last transition');
        return;
      }
      this.#core.logger?.error({ err: error, runId: this.runId }, 'run executor failed; recording the run as FAILED');
      try {
        await this.#endRun('FAILED', null, { ...failure.toRunError(), code: failure.code === 'INTERNAL' ? 'INTERNAL' : failure.code });
      } catch (recordError) {
        this.#core.logger?.error({ err: recordError, runId: this.runId }, 'could not record the failure; another process will resume the run');
      }
    } finally {
      this.#abort.disarm();
      this.#commits.abandonCreation();
      this.#trace?.ended(this.#run.status, this.#run.runError);
    }
  }

  async #loop(): Promise<void> {
    for (;;) {
      const reason = this.#abort.reason;
      if (reason instanceof CanceledError || reason instanceof ConflictError) return; // canceled (the store holds CANCELED), or the lease is gone
      if (this.#stateFailure) return this.#failOverBudget(this.#stateFailure);
      if (reason instanceof TimeoutError || this.#core.clock.now() >= this.#budget.deadline) {
        await this.#cancelWaitedChild();
        await this.#endRun('FAILED', null, this.#budget.deadlineError(this.#core.clock.now()));
        return;
      }
      // Going on after a write takes a turn of the event loop (turn-gate.ts); every 256 steps a run past its tree's or owner's share gives its slot back (fair-shares.ts).
      // A run not stored yet goes on in its starter's turn: nothing was written.
      const turn = (this.#deferred === 0 && this.#commits.isCreated) || this.#state.stepSeq % 256 === 255 ? this.#core.takeTurn(this.#run, this.#state.stepSeq) : null;
      if (turn && (await turn)) return void (await this.#commits.commit({ releaseLease: true, readyAt: this.#core.clock.now() }));
      const frame = this.#state.frames.at(-1);
      if (!frame) return this.#succeedRun(null);
      if (frame.waitingForRunId) {
        const child = this.#core.endedRun(frame.waitingForRunId) ?? (await this.#core.store.getRun(frame.waitingForRunId));
        if (child && !isTerminalStatus(child.status)) {
          // Woken early (a deadline check, a duplicate wake): keep waiting without holding a worker.
          await this.#commits.commit({ releaseLease: true, readyAt: this.#budget.deadline });
          return;
        }
        const step = stepAt(this.#flow, frame);
        const childId = frame.waitingForRunId;
        delete frame.waitingForRunId;
        // A child deleted under its waiting parent (retention misconfigured, manual cleanup) fails the call step.
        const outcome = child ? childOutcome({ runId: this.runId, flow: this.#flow, actionName: this.#run.actionName, state: this.#state, maxValueBytes: this.#core.budgets.maxValueBytes, outputChanged: (n) => this.outputChanged(n) }, step, child) : ({ type: 'fail', error: new FlowError('RUN_NOT_FOUND', `child run ${childId} no longer exists`) } as const);
        if ((await this.#apply(frame, step, outcome)) === false) return;
        continue;
      }
      if (frame.at === null) {
        if (!(await this.#finishFrame())) return;
        continue;
      }
      const step = stepAt(this.#flow, frame);
      // A run not stored yet is created before a step that reaches outside it (run-creation.ts), then goes on as after any write.
      if (!this.#commits.isCreated && !staysWithinRun(step) && (await this.#commits.commit({}))) continue;
      const outOfSteps = this.#budget.countStep(this.#state);
      if (outOfSteps) return this.#failOverBudget(outOfSteps);
      const args = { core: this.#core, executor: this, flow: this.#flow, run: this.#run, state: this.#state, frame, step, stepId: frame.at, runAbort: this.#abort };
      const trace = this.#trace;
      // Traced, a step that starts runs or calls user code other than a module runs whole in its span; otherwise only
      // the module's call (callModule) and the store's commit (run-commits.ts) do, not the engine's bookkeeping.
      // Nothing is awaited that did not wait: each promise costs more under an SDK's promise hooks.
      trace?.stepStarted(frame.at, step.stepType, frame.attempt, this.#state.stepSeq, this.#state.frames.length);
      const whole = trace !== null && this.#visitsInSpan(step);
      let visited: boolean;
      try {
        const pending = whole ? trace.inStep(executeStep, args) : executeStep(args);
        const outcome = pending instanceof Promise ? await pending : pending;
        const applied = whole ? trace.inStep(RunExecutor.#applyOf, this, frame, step, outcome) : this.#apply(frame, step, outcome);
        visited = applied instanceof Promise ? (await applied) !== false : applied;
      } catch (error) {
        trace?.stepEnded(error);
        throw error;
      }
      trace?.stepEnded();
      if (!visited) return;
    }
  }

  /** Traced, whether a visit of `step` runs whole in its span: it starts runs, or calls user code other than a module. */
  #visitsInSpan(step: StepDefinition): boolean {
    if (step.stepType === 'MODULE') return this.#core.governance !== undefined;
    return !staysWithinRun(step);
  }

  /** {@link #apply} as `inStep` calls it (no closure per step). */
  static #applyOf(executor: RunExecutor, frame: Frame, step: StepDefinition, outcome: StepOutcome): boolean | Promise<unknown> {
    return executor.#apply(frame, step, outcome);
  }

  /**
   * Applies a step outcome; false (or a promise of false) when the executor must stop (the run
   * ended or waits); anything else goes on. A step completed without a write (held back) gives its
   * answer at once, with no promise; one completed by a write, the commit's own promise.
   */
  #apply(frame: Frame, step: StepDefinition, outcome: StepOutcome): boolean | Promise<unknown> {
    if (outcome.type !== 'complete' || outcome.createRuns?.length) return this.#applyOther(frame, step, outcome);
    const stepId = frame.at!;
    const refused = this.#completeStep(frame, step, stepId, outcome.output, outcome.next === undefined ? (step.defaultNextStepInstanceId ?? null) : outcome.next, outcome);
    if (refused) return this.#handleFailure(frame, step, stepId, refused, true);
    // The end of a frame is written next, before anything else can run: a step with effects
    // that ends its frame rides on that write.
    if (frame.at === null && !PURE_STEP_TYPES.has(step.stepType)) {
      this.#holdBack(true);
      return true;
    }
    // A call's completion applies its child's final record, which never changes: pure too.
    const written = this.#settle(PURE_STEP_TYPES.has(step.stepType) || step.stepType === 'RUN_FLOW');
    return written ?? true;
  }

  /** {@link #apply} of the outcomes that always write or wait: runs started, frames pushed or replaced, failures, suspensions. */
  async #applyOther(frame: Frame, step: StepDefinition, outcome: StepOutcome): Promise<boolean> {
    const stepId = frame.at!;
    switch (outcome.type) {
      case 'complete':
        return this.#startRuns(step, outcome);
      case 'push': {
        this.ledger(outcome.ledger);
        this.#state.frames.push(outcome.frame);
        this.#charge(jsonSize(outcome.frame.item));
        await this.#settle(true);
        return true;
      }
      case 'goto': {
        this.ledger(outcome.ledger);
        this.#journal.stepLog('StepSucceeded', `step ${stepId} went to subflow ${outcome.frame.graph.slice('subflow:'.length)}`, { stepId, stepType: step.stepType });
        this.#state.stepSeq += 1;
        this.#state.frames[this.#state.frames.length - 1] = outcome.frame;
        this.#charge(jsonSize(outcome.frame.item));
        await this.#settle(true);
        return true;
      }
      case 'wait-child':
        return this.#startRuns(step, outcome);
      case 'end-frame': {
        const refused = this.#completeStep(frame, step, stepId, outcome.output, null);
        return refused ? this.#handleFailure(frame, step, stepId, refused, true) : true;
      }
      case 'fail':
        return this.#handleFailure(frame, step, stepId, outcome.error, outcome.catchable ?? true);
      case 'suspend':
        return this.#suspend(outcome);
    }
  }

  /**
   * Completes a step that starts runs (a launch, or a call it then waits for) in the transition
   * that creates them. The store may refuse them (the tree's `maxRunsPerTree`, or a canceled
   * tree); then nothing of the step stays: a full tree fails the step with LIMIT_EXCEEDED
   * (catchable), a canceled one cancels this run. False when the run waits or ended.
   */
  async #startRuns(step: StepDefinition, outcome: Extract<StepOutcome, { type: 'complete' | 'wait-child' }>): Promise<boolean> {
    // The store may refuse the runs (their tree is full or canceled): the step then never happened.
    const before = { state: cloneJson(this.#state), journal: this.#journal.snapshot() };
    const frame = this.#state.frames.at(-1)!;
    try {
      const waits = outcome.type === 'wait-child';
      if (waits) {
        this.ledger(outcome.ledger);
        frame.waitingForRunId = outcome.child.runId;
      } else {
        const refused = this.#completeStep(frame, step, frame.at!, outcome.output, outcome.next === undefined ? (step.defaultNextStepInstanceId ?? null) : outcome.next, outcome);
        if (refused) return this.#handleFailure(frame, step, frame.at!, refused, true);
      }
      await this.#commits.commit(waits ? { createRuns: [outcome.child], releaseLease: true, readyAt: this.#budget.deadline } : { createRuns: outcome.createRuns });
      return !waits;
    } catch (error) {
      const refusal = treeRefusal(error);
      if (!refusal) throw error;
      // In place: the journal counts history on this same object.
      for (const key of Object.keys(this.#state)) delete (this.#state as unknown as Record<string, unknown>)[key];
      Object.assign(this.#state, before.state);
      this.#changes.writeWhole();
      this.#journal.restore(before.journal);
      if (refusal.code === 'CANCELED') return this.#core.cancelRunTree(this.runId, refusal.message).then(() => false);
      const top = this.#state.frames.at(-1)!;
      return this.#handleFailure(top, step, top.at!, refusedStepError(refusal, this.runId, top.at!), true);
    }
  }

  /** The run goes INACTIVE at the current step: the lease is given back and nothing stays here. */
  async #suspend(outcome: Extract<StepOutcome, { type: 'suspend' }>): Promise<false> {
    if (outcome.ledger) this.ledger(outcome.ledger);
    this.log(outcome.log.code, outcome.log.description, outcome.log.details);
    this.#state.suspension = outcome.suspension;
    this.#journal.push({ kind: 'status', status: 'INACTIVE' });
    // The run's deadline wakes it too (resumeDue), so a run waiting past its timeout ends TIMEOUT.
    const readyAt = outcome.readyAt === null ? this.#budget.deadline : Math.min(outcome.readyAt, this.#budget.deadline);
    await this.#commits.commit({ status: 'INACTIVE', readyAt, releaseLease: true });
    if (readyAt !== null) this.#core.scheduleWake(this.runId, readyAt, { suspended: true });
    return false;
  }

  /**
   * Records a step's output and applies its output mappings; a value over `maxValueBytes` (the
   * output, or a mapped value) is returned as the step's failure instead, and nothing is written.
   */
  #completeStep(frame: Frame, step: StepDefinition, stepId: string, output: unknown, next: string | null, done: { ledger?: LedgerEntry[]; outputBytes?: number } = {}): FlowError | null {
    let written: number;
    try {
      const bytes = done.outputBytes ?? checkValueBytes(output, this.#core.budgets.maxValueBytes, `the output of step ${stepId}`);
      // Stored as the step's output and as `last`; a SET's value also in its target, a call's in its return mappings.
      written = bytes * (step.stepType === 'SET' || step.stepType === 'RUN_FLOW' ? 3 : 2);
      if (step.outputMappings) written += applyOutputMappings(step, output, stepContext(this.#core, this.#run, this.#state, frame));
    } catch (error) {
      // The step itself is done (a module ran): retrying would repeat it, not fix the value.
      const failure = toFlowError(error);
      return new StepFailedError(failure.code, failure.message, { cause: failure, retryable: false, ...(failure.details ? { details: failure.details } : {}) });
    }
    for (const entry of done.ledger ?? []) this.ledger(entry);
    for (const name of this.#changes.stepTargetsWritten(step)) this.outputChanged(name);
    this.#changes.stepWritten(frame, stepId);
    frame.steps[stepId] = output;
    frame.last = output;
    frame.at = next;
    frame.attempt = 1;
    this.#state.stepSeq += 1;
    this.#journal.stepLog('StepSucceeded', `step ${stepId} succeeded`, { stepId, stepType: step.stepType, graph: frame.graph });
    this.#charge(written);
    return null;
  }

  /** Adds what a step just wrote to the state's bound; a state over `maxStateBytes` fails the run before the next step. */
  #charge(bytes: number): void {
    this.#stateFailure ??= this.#budget.charge(this.#state, bytes);
  }

  /** Ends the run FAILED with LIMIT_EXCEEDED, first canceling the child it waits for. */
  async #failOverBudget(error: FlowError): Promise<void> {
    this.#core.logger?.warn({ runId: this.runId, details: error.details }, `run failed: ${error.message}`);
    await this.#cancelWaitedChild();
    await this.#endRun('FAILED', null, error.toRunError());
  }

  async #handleFailure(frame: Frame, step: StepDefinition, stepId: string, error: FlowError, catchable: boolean): Promise<boolean> {
    const info = { ...error.toRunError(), stepId };
    const decision = decideFailure(step, frame.attempt, error, catchable);
    this.#trace?.stepFailed(error, decision.kind, decision.kind === 'retry' ? decision.delayMs : undefined);
    if (decision.kind === 'retry') {
      const { delayMs } = decision;
      frame.attempt += 1;
      this.#journal.stepLog('StepRetrying', `step ${stepId} failed with ${error.code}; attempt ${frame.attempt} of ${decision.maxAttempts} in ${delayMs} ms`, { stepId, error: info, delayMs });
      if (delayMs <= 0) {
        await this.#commits.commit({});
        return true;
      }
      const at = this.#core.clock.now() + delayMs;
      await this.#commits.commit({ releaseLease: true, readyAt: at });
      this.#core.scheduleWake(this.runId, at);
      return false;
    }
    if (decision.kind === 'catch') {
      this.#journal.stepLog('StepCaught', `step ${stepId} failed with ${error.code}; continuing at ${decision.next}`, { stepId, error: info, next: decision.next });
      frame.steps[stepId] = decision.output;
      this.#changes.stepWritten(frame, stepId);
      this.#charge(2 * jsonSize(decision.output));
      frame.last = decision.output;
      frame.at = decision.next;
      frame.attempt = 1;
      this.#state.stepSeq += 1;
      await this.#commits.commit({});
      return true;
    }
    this.#journal.stepLog('StepFailed', `step ${stepId} failed: ${error.message}`, { stepId, stepType: step.stepType, error: info });
    // Unwind: the frame fails, and its caller's RUN_FLOW step fails with the same error.
    this.#state.frames.pop();
    const caller = this.#state.frames.at(-1);
    if (!caller || caller.at === null) {
      await this.#endRun('FAILED', null, { ...info, stepId: error.stepId ?? stepId });
      return false;
    }
    const callerStep = stepAt(this.#flow, caller);
    const wrapped = error.stepId ? error : new FlowError(error.code, error.message, { runId: this.runId, stepId, ...(error.details ? { details: error.details } : {}) });
    return this.#handleFailure(caller, callerStep, caller.at, wrapped, true);
  }

  /** The top frame finished: pop it and hand its result to the caller's RUN_FLOW step, or end the run. */
  async #finishFrame(): Promise<boolean> {
    const done = this.#state.frames.pop()!;
    const caller = this.#state.frames.at(-1);
    if (!caller) {
      await this.#succeedRun(done.last);
      return false;
    }
    const step = stepAt(this.#flow, caller);
    const refused = this.#completeStep(caller, step, caller.at!, done.last, step.defaultNextStepInstanceId ?? null);
    if (refused) return this.#handleFailure(caller, step, caller.at!, refused, true);
    await this.#settle(true);
    return true;
  }

  /**
   * Ends a transition that changed only this run's state. A pure one (a pure step, a frame pushed,
   * popped or replaced) is held back and written with the next transition, which always comes
   * before anything outside the run happens (a module call, a child start, the run's end, a
   * reply): after a crash the run resumes before the held-back steps and simply computes them
   * again. At most {@link MAX_DEFERRED_TRANSITIONS} are held back in a row. Not async: the commit's promise is awaited as it is.
   */
  #settle(pure: boolean): Promise<unknown> | void {
    return pure && !this.#mustWrite && this.#deferred < MAX_DEFERRED_TRANSITIONS ? this.#holdBack(false) : this.#commits.commit({});
  }

  #holdBack(hasEffects: boolean): void {
    this.#deferred += 1;
    if (hasEffects) this.#mustWrite = true;
  }

  async #cancelWaitedChild(): Promise<void> {
    for (const frame of this.#state.frames) {
      if (frame.waitingForRunId) await this.#core.cancelRunTree(frame.waitingForRunId, 'the calling run timed out');
    }
  }

  async #succeedRun(result: unknown): Promise<void> {
    const action = actionOf(this.#flow, this.#run.actionName);
    const returned = Object.entries(action.outputs ?? {}).filter(([, o]) => o.returned);
    const output = returned.length ? Object.fromEntries(returned.map(([name]) => [name, this.#state.outputs[name] ?? null])) : (result ?? null);
    await this.#endRun('SUCCEEDED', output, null);
  }

  async #endRun(status: 'SUCCEEDED' | 'FAILED', output: unknown, runError: { code: string; description: string; stepId?: string } | null): Promise<void> {
    this.#journal.runEnded(this.#run, status, output, runError);
    const parent = this.#run.parentRunId && !this.#run.detached ? [this.#run.parentRunId] : [];
    // The parent this run wakes is leased to this engine in the same write, when it has room.
    const wakeLease = parent.length ? this.#core.leaseForNewRun({ ...this.#run, runId: parent[0]! }) : null;
    const ended: RunRecord & Pick<RecordedRun, 'wokenRuns'> = await this.#commits.commit({ status, output, runError, endTime: this.#core.clock.now(), readyAt: null, releaseLease: true, wakeRuns: parent, ...(wakeLease ? { wakeLease } : {}) });
    this.#core.runEnded(ended, wakeLease ?? undefined);
  }

  /** `fromModule`: a module's `ctx.log`, kept within the run's history cap and written while the step still runs (the next flush). */
  log(code: string, description: string, details: Record<string, unknown> = {}, fromModule = false): void {
    if (!fromModule) this.#journal.log(code, description, details);
    else if (this.#journal.moduleLog(code, description, details)) this.#core.scheduleFlush(this);
  }

  ledger(entry: LedgerEntry): void {
    this.#journal.ledger(entry);
  }

  /** Stored while the run's history cap allows, else live only (the state holds the latest value either way). */
  outputChanged(name: string): void {
    const value = this.#state.outputs[name];
    this.#changes.written('outputs', name);
    this.#charge(jsonSize(value, this.#core.budgets.maxStateBytes));
    this.#journal.output(name, value);
  }

  /** A snapshot is a value, not history: it need not wait for the step's pending log entries, only for a commit in flight. */
  outputStreamed(name: string, value: unknown): void {
    this.#commits.afterCommits(() => this.#core.publishTransient(this.#run, { kind: 'output', name, value }));
  }

  itemChanged(change: 'added' | 'updated' | 'done', item: Item): void {
    this.#journal.item(change, item);
    if (!item.transient) this.#core.scheduleFlush(this);
  }

  /** Persists pending log entries and items while a module is still running (scheduled ~10 ms after the first of them). */
  async flush(): Promise<void> {
    if (!this.#journal.isEmpty) await this.#commits.commit({});
  }

  /** Nothing is written: the step's outcome entry carries its start, duration and attempt (a crash leaves no trace). */
  stepStarted(stepId: string, _stepType: string, attempt: number): void {
    this.#journal.stepStarted(stepId, this.#core.clock.now(), attempt);
  }

  /** Traced, the module is called in its step's span; untraced, as it is (no closure either way). */
  callModule(fn: Module, input: Record<string, unknown>, ctx: ModuleContext): unknown {
    return this.#trace ? this.#trace.inStep(fn, input, ctx) : fn(input, ctx);
  }
}
