/**
 * Executes one claimed run, step by step, until it ends or has to wait (for a child run, a
 * retry backoff). Every transition — a step completed, a frame pushed or popped, a child started,
 * the run ended — is recorded in the store before anything that depends on it happens (a child
 * is dispatched, a module called, a caller woken). If the process dies between two transitions,
 * the next claimer resumes from the last one: completed steps are never executed again; a module
 * step that was in flight runs again with the same idempotency key.
 *
 * The `engine/execution/` room: running claimed runs — the executor (this file), the scheduler that
 * claims, leases and dispatches them within fair shares (run-scheduler.ts, fair-shares.ts), lease
 * renewal (lease-keeper.ts), failed steps (step-failure.ts), cancelling (cancel-run.ts) and retention
 * (retention.ts). It may import core, the engine's contracts, start/ (building created runs), steps/
 * and calls/ (what a step does and how a child's end resumes its caller) and events/ (the EMIT outbox).
 */
import { CanceledError, ConflictError, FlowError, TimeoutError, toFlowError } from '../../errors.js';
import type { ActionDefinition, FlowVersionRecord, StepDefinition } from '../../model.js';
import { isTerminalStatus, type Frame, type Item, type LedgerEntry, type NewRun, type RunEventBody, type RunRecord, type RunState } from '../../run.js';
import type { RunLease } from '../../store.js';
import { cloneJson } from '../../json.js';
import type { EngineCore, FlushableRun } from '../engine-core.js';
import { executeStep, stepContext } from '../steps/step-runner.js';
import type { StepHost, StepOutcome } from '../steps/step-outcome.js';
import { applyOutputMappings, parseContextTarget } from '../../mapping.js';
import { childOutcome } from '../calls/child-outcome.js';
import { drainOutbox } from '../events/event-outbox.js';
import { actionOf, stepAt } from '../start/flow-graph.js';
import { decideFailure, refusedStepError, treeRefusal } from './step-failure.js';

/**
 * Steps that only compute from the run's own state: re-running them after a crash gives the same
 * result and does nothing outside the run, so their transition may ride on the next one.
 */
const PURE_STEP_TYPES = new Set(['COMPUTE', 'DECIDE', 'SET']);

/** Most consecutive transitions held back before one is written anyway (bounds memory and lost work). */
const MAX_DEFERRED_TRANSITIONS = 32;

/** Step-level log codes, written only when the run has step logs on and its history cap is not reached. */
const STEP_LOG_CODES = new Set(['StepSucceeded', 'StepFailed', 'StepRetrying', 'StepCaught']);

/** Runs one claimed run until it ends or waits. Create one per claim. */
export class RunExecutor implements StepHost, FlushableRun {
  readonly runId: string;
  readonly #core: EngineCore;
  readonly #flow: FlowVersionRecord;
  readonly #controller = new AbortController();
  #run: RunRecord;
  #lease: RunLease;
  #state: RunState;
  #events: RunEventBody[] = [];
  /** Transient item changes waiting behind uncommitted events, to keep live order. */
  #transients: { afterIndex: number; body: RunEventBody }[] = [];
  #items = new Map<string, Item>();
  #commitChain: Promise<unknown> = Promise.resolve();
  /** Transitions held back since the last commit (see #settle). */
  #deferred = 0;
  /** A held-back transition completed a step with effects: the next #settle must write. */
  #mustWrite = false;
  /** The step executing now: its outcome's log entry says when it started. */
  #stepStart: { stepId: string; at: number; attempt: number } | null = null;
  #deadlineTimer: { cancel(): void } | null = null;
  /** When this engine's lease on the run runs out unless renewed (the heartbeat moves it). */
  leaseExpiresAt: number;

  constructor(core: EngineCore, run: RunRecord, lease: RunLease, flow: FlowVersionRecord) {
    this.runId = run.runId;
    this.#core = core;
    this.#run = run;
    this.#lease = lease;
    this.#flow = flow;
    this.#state = run.state;
    this.leaseExpiresAt = lease.expiresAt;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Aborts running modules; the reason says why (CanceledError or TimeoutError). */
  abort(reason: FlowError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Runs until the run ends or waits. Never rejects: failures are recorded on the run. */
  async execute(): Promise<void> {
    const deadline = this.#run.deadline;
    if (deadline !== null) {
      this.#deadlineTimer = this.#core.clock.setTimeout(
        () => this.abort(new TimeoutError(`run ${this.runId} passed its deadline (${this.#run.timeoutMs} ms)`, { runId: this.runId })),
        Math.max(0, deadline - this.#core.clock.now()),
      );
    }
    if (this.#state.outbox) drainOutbox(this.#core, this.runId, this.#state); // left by a process that died after committing them
    try {
      await this.#loop();
    } catch (error) {
      if (error instanceof ConflictError && error.code === 'LEASE_LOST') return; // canceled, or another process owns the run now
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
      this.#deadlineTimer?.cancel();
    }
  }

  async #loop(): Promise<void> {
    for (;;) {
      const reason = this.#controller.signal.reason as FlowError | undefined;
      if (reason instanceof CanceledError || reason instanceof ConflictError) return; // canceled (the store holds CANCELED), or the lease is gone
      if (reason instanceof TimeoutError || (this.#run.deadline !== null && this.#core.clock.now() >= this.#run.deadline)) {
        await this.#cancelWaitedChild();
        await this.#endRun('FAILED', null, { code: 'TIMEOUT', description: `the run timed out after ${this.#run.timeoutMs} ms` });
        return;
      }
      // Every 256 steps other work gets a turn, and a run past its tree's or owner's share gives its slot back (fair-shares.ts).
      if (this.#state.stepSeq % 256 === 255 && (await this.#core.yieldTurn(this.#run))) return void (await this.#commit({ releaseLease: true, readyAt: this.#core.clock.now() }));
      const frame = this.#state.frames.at(-1);
      if (!frame) {
        await this.#succeedRun(null);
        return;
      }
      if (frame.waitingForRunId) {
        const child = this.#core.endedRun(frame.waitingForRunId) ?? (await this.#core.store.getRun(frame.waitingForRunId));
        if (child && !isTerminalStatus(child.status)) {
          // Woken early (a deadline check, a duplicate wake): keep waiting without holding a worker.
          await this.#commit({ releaseLease: true, readyAt: this.#run.deadline });
          return;
        }
        const step = this.#currentStep(frame);
        const childId = frame.waitingForRunId;
        delete frame.waitingForRunId;
        // A child deleted under its waiting parent (retention misconfigured, manual cleanup) fails the call step.
        const outcome = child ? childOutcome({ runId: this.runId, flow: this.#flow, actionName: this.#run.actionName, state: this.#state, outputChanged: (n) => this.outputChanged(n) }, step, child) : ({ type: 'fail', error: new FlowError('RUN_NOT_FOUND', `child run ${childId} no longer exists`) } as const);
        if (!(await this.#apply(frame, step, outcome))) return;
        continue;
      }
      if (frame.at === null) {
        if (!(await this.#finishFrame())) return;
        continue;
      }
      const step = this.#currentStep(frame);
      const outcome = await executeStep({
        core: this.#core,
        executor: this,
        flow: this.#flow,
        run: this.#run,
        state: this.#state,
        frame,
        step,
        stepId: frame.at,
        signal: this.#controller.signal,
      });
      if (!(await this.#apply(frame, step, outcome))) return;
    }
  }

  /** Applies a step outcome; false when the executor must stop (the run ended or waits). */
  async #apply(frame: Frame, step: StepDefinition, outcome: StepOutcome): Promise<boolean> {
    const stepId = frame.at!;
    switch (outcome.type) {
      case 'complete':
        if (outcome.createRuns?.length) return this.#startRuns(step, outcome);
        for (const entry of outcome.ledger ?? []) this.ledger(entry);
        this.#completeStep(frame, step, stepId, outcome.output, outcome.next === undefined ? (step.defaultNextStepInstanceId ?? null) : outcome.next);
        // The end of a frame is written next, before anything else can run: a step with effects
        // that ends its frame rides on that write.
        if (frame.at === null && !PURE_STEP_TYPES.has(step.stepType)) this.#holdBack(true);
        // A call's completion applies its child's final record, which never changes: pure too.
        else await this.#settle(PURE_STEP_TYPES.has(step.stepType) || step.stepType === 'RUN_FLOW');
        return true;
      case 'push': {
        this.ledger(outcome.ledger);
        this.#state.frames.push(outcome.frame);
        await this.#settle(true);
        return true;
      }
      case 'goto': {
        this.ledger(outcome.ledger);
        this.#stepLog('StepSucceeded', `step ${stepId} went to subflow ${outcome.frame.graph.slice('subflow:'.length)}`, { stepId, stepType: step.stepType });
        this.#state.stepSeq += 1;
        this.#state.frames[this.#state.frames.length - 1] = outcome.frame;
        await this.#settle(true);
        return true;
      }
      case 'wait-child':
        return this.#startRuns(step, outcome);
      case 'end-frame':
        this.#completeStep(frame, step, stepId, outcome.output, null);
        return true;
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
    const before = { state: cloneJson(this.#state), events: [...this.#events], items: new Map(this.#items), transients: [...this.#transients] };
    const frame = this.#state.frames.at(-1)!;
    try {
      const waits = outcome.type === 'wait-child';
      for (const entry of waits ? [outcome.ledger] : (outcome.ledger ?? [])) this.ledger(entry);
      if (waits) frame.waitingForRunId = outcome.child.runId;
      else this.#completeStep(frame, step, frame.at!, outcome.output, outcome.next === undefined ? (step.defaultNextStepInstanceId ?? null) : outcome.next);
      await this.#commit(waits ? { createRuns: [outcome.child], releaseLease: true, readyAt: this.#run.deadline } : { createRuns: outcome.createRuns });
      return !waits;
    } catch (error) {
      const refusal = treeRefusal(error);
      if (!refusal) throw error;
      ({ state: this.#state, events: this.#events, items: this.#items, transients: this.#transients } = before);
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
    this.#events.push({ kind: 'status', status: 'INACTIVE' });
    // The run's deadline wakes it too (resumeDue), so a run waiting past its timeout ends TIMEOUT.
    const due = [outcome.readyAt, this.#run.deadline].filter((t): t is number => t !== null);
    const readyAt = due.length ? Math.min(...due) : null;
    await this.#commit({ status: 'INACTIVE', readyAt, releaseLease: true });
    if (readyAt !== null) this.#core.scheduleWake(this.runId, readyAt, { suspended: true });
    return false;
  }

  #completeStep(frame: Frame, step: StepDefinition, stepId: string, output: unknown, next: string | null): void {
    if (step.outputMappings) {
      applyOutputMappings(step, output, stepContext(this.#core, this.#run, this.#state, frame));
      for (const target of Object.keys(step.outputMappings)) {
        const parsed = parseContextTarget(target);
        if (typeof parsed !== 'string' && parsed.root === 'outputs' && parsed.path[0]) this.outputChanged(parsed.path[0]);
      }
    }
    frame.steps[stepId] = output;
    frame.last = output;
    frame.at = next;
    frame.attempt = 1;
    this.#state.stepSeq += 1;
    this.#stepLog('StepSucceeded', `step ${stepId} succeeded`, { stepId, stepType: step.stepType, graph: frame.graph });
  }

  async #handleFailure(frame: Frame, step: StepDefinition, stepId: string, error: FlowError, catchable: boolean): Promise<boolean> {
    const info = { ...error.toRunError(), stepId };
    const decision = decideFailure(step, frame.attempt, error, catchable);
    if (decision.kind === 'retry') {
      const { delayMs } = decision;
      frame.attempt += 1;
      this.#stepLog('StepRetrying', `step ${stepId} failed with ${error.code}; attempt ${frame.attempt} of ${decision.maxAttempts} in ${delayMs} ms`, { stepId, error: info, delayMs });
      if (delayMs <= 0) {
        await this.#commit({});
        return true;
      }
      const at = this.#core.clock.now() + delayMs;
      await this.#commit({ releaseLease: true, readyAt: at });
      this.#core.scheduleWake(this.runId, at);
      return false;
    }
    if (decision.kind === 'catch') {
      this.#stepLog('StepCaught', `step ${stepId} failed with ${error.code}; continuing at ${decision.next}`, { stepId, error: info, next: decision.next });
      frame.steps[stepId] = decision.output;
      frame.last = decision.output;
      frame.at = decision.next;
      frame.attempt = 1;
      this.#state.stepSeq += 1;
      await this.#commit({});
      return true;
    }
    this.#stepLog('StepFailed', `step ${stepId} failed: ${error.message}`, { stepId, stepType: step.stepType, error: info });
    // Unwind: the frame fails, and its caller's RUN_FLOW step fails with the same error.
    this.#state.frames.pop();
    const caller = this.#state.frames.at(-1);
    if (!caller || caller.at === null) {
      await this.#endRun('FAILED', null, { ...info, stepId: error.stepId ?? stepId });
      return false;
    }
    const callerStep = this.#currentStep(caller);
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
    const step = this.#currentStep(caller);
    this.#completeStep(caller, step, caller.at!, done.last, step.defaultNextStepInstanceId ?? null);
    await this.#settle(true);
    return true;
  }

  /**
   * Ends a transition that changed only this run's state. A pure one (a pure step, a frame pushed,
   * popped or replaced) is held back and written with the next transition, which always comes
   * before anything outside the run happens (a module call, a child start, the run's end, a
   * reply): after a crash the run resumes before the held-back steps and simply computes them
   * again. At most {@link MAX_DEFERRED_TRANSITIONS} are held back in a row.
   */
  async #settle(pure: boolean): Promise<void> {
    if (pure && !this.#mustWrite && this.#deferred < MAX_DEFERRED_TRANSITIONS) this.#holdBack(false);
    else await this.#commit({});
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
    const action = this.#action();
    const returned = Object.entries(action.outputs ?? {}).filter(([, o]) => o.returned);
    const output = returned.length ? Object.fromEntries(returned.map(([name]) => [name, this.#state.outputs[name] ?? null])) : (result ?? null);
    await this.#endRun('SUCCEEDED', output, null);
  }

  async #endRun(status: 'SUCCEEDED' | 'FAILED', output: unknown, runError: { code: string; description: string; stepId?: string } | null): Promise<void> {
    const elapsed = this.#core.clock.now() - this.#run.startTime;
    if (status === 'SUCCEEDED') this.log('FlowSucceeded', `flow ${this.#run.flowId} action ${this.#run.actionName} succeeded in ${elapsed} ms`, {});
    else this.log('FlowFailed', `flow ${this.#run.flowId} action ${this.#run.actionName} failed: ${runError?.code} ${runError?.description}`, { error: runError });
    this.#events.push({ kind: 'status', status, ...(runError ? { error: runError } : { output }) });
    const parent = this.#run.parentRunId && !this.#run.detached ? [this.#run.parentRunId] : [];
    // The parent this run wakes is leased to this engine in the same write, when it has room.
    const wakeLease = parent.length ? this.#core.leaseForNewRun({ ...this.#run, runId: parent[0]! }) : null;
    const ended = await this.#commit({ status, output, runError, endTime: this.#core.clock.now(), readyAt: null, releaseLease: true, wakeRuns: parent, ...(wakeLease ? { wakeLease } : {}) });
    this.#core.runEnded(ended, wakeLease ?? undefined);
  }

  #action(): ActionDefinition {
    return actionOf(this.#flow, this.#run.actionName);
  }

  #currentStep(frame: Frame): StepDefinition {
    return stepAt(this.#flow, frame);
  }

  /** Adds a log entry to the next transition. */
  log(code: string, description: string, details: Record<string, unknown> = {}): void {
    this.#events.push({ kind: 'log', entry: { time: this.#core.clock.now(), code, description, details } });
  }

  #stepLog(code: string, description: string, details: Record<string, unknown>): void {
    if (!this.#state.stepLogs || !STEP_LOG_CODES.has(code) || !this.#takeHistory()) return;
    const start = this.#stepStart;
    const timing = start && start.stepId === details.stepId ? { startedAt: start.at, durationMs: this.#core.clock.now() - start.at, attempt: start.attempt } : {};
    this.log(code, description, { ...details, ...timing });
  }

  /** Adds a ledger entry (control-flow record) to the next transition. */
  ledger(entry: LedgerEntry): void {
    const bounded = entry.kind === 'run' || entry.kind === 'goto' || entry.kind === 'decide';
    if (bounded && !this.#takeHistory()) return;
    this.#events.push({ kind: 'ledger', entry });
  }

  /** Counts one step-level history entry; false once the per-run cap is reached (store size stays bounded). */
  #takeHistory(): boolean {
    const max = this.#core.maxHistoryPerRun;
    if (this.#state.historyCount < max) {
      this.#state.historyCount += 1;
      return true;
    }
    if (!this.#state.historyTruncated) {
      this.#state.historyTruncated = true;
      this.log('HistoryTruncated', `step-level log and ledger entries past ${max} are not kept for this run`, { max });
    }
    return false;
  }

  /** Records that an action output changed (an `output` event with its new value). */
  outputChanged(name: string): void {
    this.#events.push({ kind: 'output', name, value: cloneJson(this.#state.outputs[name]) });
  }

  /**
   * Announces a live snapshot of an output a running module writes (a transient `output` event,
   * see output-writer.ts), at once: a snapshot is a value, not history, so it need not wait for
   * the step's pending log entries. The store sees the value when the step completes.
   */
  outputStreamed(name: string, value: unknown): void {
    this.#core.publishTransient(this.#run, { kind: 'output', name, value });
  }

  /** Records an item change: transient ones go live only; the others persist with the next transition. */
  itemChanged(change: 'added' | 'updated' | 'done', item: Item): void {
    if (item.transient) {
      const body: RunEventBody = { kind: 'item', change, item: cloneJson(item) };
      if (this.#events.length === 0) this.#core.publishTransient(this.#run, body);
      else this.#transients.push({ afterIndex: this.#events.length, body });
      return;
    }
    this.#items.set(item.id, item);
    this.#events.push({ kind: 'item', change, item: cloneJson(item) });
    this.#core.scheduleFlush(this);
  }

  /** Persists pending log entries and items while a module is still running. */
  async flush(): Promise<void> {
    if (this.#events.length === 0) return;
    await this.#commit({});
  }

  /**
   * A step started. Nothing is written: the entry of the step's outcome (StepSucceeded,
   * StepFailed, StepRetrying, StepCaught) carries its start time, duration and attempt, in the
   * same transition as its end — one write per step. A step cut off by a crash leaves no trace
   * and runs again (modules with the same idempotency key), which is what recovery needs.
   */
  stepStarted(stepId: string, _stepType: string, attempt: number): void {
    this.#stepStart = { stepId, at: this.#core.clock.now(), attempt };
  }

  /**
   * Records the pending events and the current state as one transition. Commits are chained so a
   * flush from a running module and the step's completion never interleave.
   */
  #commit(input: {
    status?: 'SUCCEEDED' | 'FAILED' | 'INACTIVE';
    output?: unknown;
    runError?: { code: string; description: string } | null;
    endTime?: number;
    readyAt?: number | null;
    releaseLease?: boolean;
    createRuns?: NewRun[] | undefined;
    wakeRuns?: string[];
    wakeLease?: { owner: string; expiresAt: number };
  }): Promise<RunRecord> {
    const next = this.#commitChain.then(async () => {
      const reason = this.#controller.signal.reason as unknown;
      // After the lease is lost nothing may be written, even if the store would still accept it.
      if (reason instanceof ConflictError) throw reason;
      const events = this.#events;
      this.#deferred = 0;
      this.#mustWrite = false;
      const created = this.#core.runsToCreate(input.createRuns ?? []);
      const transients = this.#transients;
      const items = [...this.#items.values()];
      if (items.length > 0) this.#state.hasItems = true;
      this.#events = [];
      this.#transients = [];
      this.#items = new Map();
      const at = this.#core.clock.now();
      const recorded = await this.#core.store.recordTransition({
        runId: this.runId,
        lease: { owner: this.#lease.owner, fencingToken: this.#lease.fencingToken },
        expectedVersion: this.#run.version,
        at,
        patch: {
          state: this.#state,
          ...(input.status === 'INACTIVE' ? { status: input.status } : {}),
          ...(input.status && input.status !== 'INACTIVE' ? { status: input.status, output: input.output ?? null, runError: input.runError ?? null, endTime: input.endTime ?? at } : {}),
          ...(input.readyAt !== undefined ? { readyAt: input.readyAt } : {}),
        },
        events,
        items,
        ...(created.length ? { createRuns: created, maxRunsPerTree: this.#core.budgets.maxRunsPerTree } : {}),
        ...(input.wakeRuns?.length ? { wakeRuns: input.wakeRuns } : {}),
        ...(input.wakeLease ? { wakeLease: input.wakeLease } : {}),
        ...(input.releaseLease ? { releaseLease: true } : {}),
      });
      this.#run = { ...recorded, state: this.#state };
      this.#core.publishCommitted(recorded, events, transients);
      if (this.#state.outbox) drainOutbox(this.#core, this.runId, this.#state);
      this.#core.runsCreated(created, at);
      return recorded;
    });
    this.#commitChain = next.catch(() => undefined);
    return next;
  }
}
