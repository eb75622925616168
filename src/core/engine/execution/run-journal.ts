/**
 * What one run's next transition will record besides its state: log and ledger entries, output
 * and item events, the persisted items — and what goes live without being stored (transient
 * items, output events past the history cap), kept in order behind the events before them.
 *
 * The history cap (`maxHistoryPerRun`) bounds the stored step-level entries of a run — step logs,
 * modules' `ctx.log` entries, `run`/`goto`/`decide` ledger entries and output events — whatever
 * the run loops on or a module logs; past it they are dropped (outputs are still announced live, and the state keeps their latest value).
 */
import type { Clock } from '../../clock.js';
import { cloneJson } from '../../json.js';
import type { Item, LedgerEntry, RunEventBody, RunRecord, RunState } from '../../run.js';
import type { RecordedRun, RunPatch } from '../../store.js';

/** Step-level log codes, written only when the run has step logs on and its history cap is not reached. */
const STEP_LOG_CODES = new Set(['StepSucceeded', 'StepFailed', 'StepRetrying', 'StepCaught']);

/** What a {@link RunJournal} needs: the run's state (its history count lives there), the cap, and the live channel. */
export interface RunJournalOptions {
  state: RunState;
  clock: Clock;
  maxHistoryPerRun: number;
  /** Announces an event live at once (transient). */
  publishLive: (body: RunEventBody) => void;
}

/** What a run's next transition records besides its journal and state (RunExecutor's commit). */
export interface CommitOptions<R> {
  status?: 'SUCCEEDED' | 'FAILED' | 'INACTIVE';
  output?: unknown;
  runError?: { code: string; description: string } | null;
  endTime?: number;
  readyAt?: number | null;
  releaseLease?: boolean;
  /** Runs to create (`Transition.createRuns`, as built by the engine). */
  createRuns?: R[] | undefined;
  wakeRuns?: string[];
  wakeLease?: { owner: string; expiresAt: number };
}

/** The run's patch of a commit: its live state, and the status fields when the commit changes the status (an end also records its output, error and time). */
export function commitPatch(input: CommitOptions<unknown>, state: RunState, at: number): RunPatch {
  // Built field by field: a literal of conditional spreads costs more, once per transition.
  const patch: RunPatch = { state };
  if (input.status === 'INACTIVE') patch.status = 'INACTIVE';
  else if (input.status) {
    patch.status = input.status;
    patch.output = input.output ?? null;
    patch.runError = input.runError ?? null;
    patch.endTime = input.endTime ?? at;
  }
  if (input.readyAt !== undefined) patch.readyAt = input.readyAt;
  return patch;
}

/** The run after a recorded transition: its record with the run's input and live state, which a transition hands back neither of. */
export function runAfter(recorded: RecordedRun, input: unknown, state: RunState): RunRecord {
  // Object.assign, not a rest and a spread (`{...fields, input, state}`): ~5x cheaper on Node 20.
  const run = Object.assign({}, recorded) as RunRecord & Partial<Pick<RecordedRun, 'wokenRuns'>>;
  if (run.wokenRuns !== undefined) delete run.wokenRuns;
  run.input = input;
  run.state = state;
  return run;
}

/** The pending entries of one run's next transition. */
export interface JournalEntries {
  events: RunEventBody[];
  transients: { afterIndex: number; body: RunEventBody }[];
  items: Item[];
}

/** Collects a run's entries between two transitions. */
/** What a journal holds pending (see {@link RunJournal.snapshot}). */
export interface JournalSnapshot {
  readonly events: readonly RunEventBody[];
  readonly transients: readonly { afterIndex: number; body: RunEventBody }[];
  readonly items: ReadonlyMap<string, Item>;
}

export class RunJournal {
  readonly #options: RunJournalOptions;
  #events: RunEventBody[] = [];
  /** Live-only events waiting behind uncommitted events, to keep live order. */
  #transients: { afterIndex: number; body: RunEventBody }[] = [];
  #items = new Map<string, Item>();
  /** The step executing now: its outcome's log entry says when it started. */
  #stepStart: { stepId: string; at: number; attempt: number } | null = null;

  constructor(options: RunJournalOptions) {
    this.#options = options;
  }

  /** Whether the next transition has something to record. */
  get isEmpty(): boolean {
    return this.#events.length === 0;
  }

  /** Adds an event (a status change) as it is. */
  push(body: RunEventBody): void {
    this.#events.push(body);
  }

  /** Adds a log entry. */
  log(code: string, description: string, details: Record<string, unknown> = {}): void {
    this.#events.push({ kind: 'log', entry: { time: this.#options.clock.now(), code, description, details } });
  }

  /** Adds the run's end: its log entry (how long it took, or why it failed) and its status event. */
  runEnded(run: Pick<RunRecord, 'flowId' | 'actionName' | 'startTime'>, status: 'SUCCEEDED' | 'FAILED', output: unknown, runError: { code: string; description: string } | null): void {
    if (status === 'SUCCEEDED') this.log('FlowSucceeded', `flow ${run.flowId} action ${run.actionName} succeeded in ${this.#options.clock.now() - run.startTime} ms`, {});
    else this.log('FlowFailed', `flow ${run.flowId} action ${run.actionName} failed: ${runError?.code} ${runError?.description}`, { error: runError });
    this.#events.push(runError ? { kind: 'status', status, error: runError } : { kind: 'status', status, output });
  }

  /** Adds a module's log entry (`ctx.log`) while the run's history cap allows; false (nothing added) once it is reached. */
  moduleLog(code: string, description: string, details: Record<string, unknown>): boolean {
    if (!this.#takeHistory()) return false;
    this.log(code, description, details);
    return true;
  }

  /**
   * Adds a step-level log entry (with the step's timing) when step logs are on and the cap allows.
   * `details` becomes the entry's: the timing is set on it (callers pass a new object).
   */
  stepLog(code: string, description: string, details: Record<string, unknown>): void {
    if (!this.#options.state.stepLogs || !STEP_LOG_CODES.has(code) || !this.#takeHistory()) return;
    const start = this.#stepStart;
    if (start && start.stepId === details.stepId) {
      // Set, not spread into a copy: once per step, and a spread copy's fields cost V8 more.
      details.startedAt = start.at;
      details.durationMs = this.#options.clock.now() - start.at;
      details.attempt = start.attempt;
    }
    this.log(code, description, details);
  }

  /** Adds a ledger entry; `run`, `goto` and `decide` entries count against the cap. */
  ledger(entry: LedgerEntry): void {
    const bounded = entry.kind === 'run' || entry.kind === 'goto' || entry.kind === 'decide';
    if (bounded && !this.#takeHistory()) return;
    this.#events.push({ kind: 'ledger', entry });
  }

  /** Adds an `output` event with a copy of `value`: stored while the cap allows, else live only. */
  output(name: string, value: unknown): void {
    const body: RunEventBody = { kind: 'output', name, value: cloneJson(value) };
    if (this.#takeHistory()) this.#events.push(body);
    else this.live(body);
  }

  /** Announces an event live only, after the events held so far. */
  live(body: RunEventBody): void {
    if (this.#events.length === 0) this.#options.publishLive(body);
    else this.#transients.push({ afterIndex: this.#events.length, body });
  }

  /** Adds an item change: a transient item goes live only, the others are stored (event and item). */
  item(change: 'added' | 'updated' | 'done', item: Item): void {
    if (item.transient) return this.live({ kind: 'item', change, item: cloneJson(item) });
    this.#items.set(item.id, item);
    this.#events.push({ kind: 'item', change, item: cloneJson(item) });
  }

  /** A step started (see RunExecutor.stepStarted). */
  stepStarted(stepId: string, at: number, attempt: number): void {
    this.#stepStart = { stepId, at, attempt };
  }

  /** A copy of what is pending, to {@link restore} when the transition it was meant for is refused. */
  snapshot(): JournalSnapshot {
    return { events: [...this.#events], transients: [...this.#transients], items: new Map(this.#items) };
  }

  /** Puts back what {@link snapshot} copied. */
  restore(snapshot: JournalSnapshot): void {
    this.#events = [...snapshot.events];
    this.#transients = [...snapshot.transients];
    this.#items = new Map(snapshot.items);
  }

  /** Hands over everything pending and starts empty. */
  take(): JournalEntries {
    const taken = { events: this.#events, transients: this.#transients, items: [...this.#items.values()] };
    this.#events = [];
    this.#transients = [];
    this.#items = new Map();
    return taken;
  }

  /** Counts one step-level history entry; false once the per-run cap is reached (store size stays bounded). */
  #takeHistory(): boolean {
    const { state, maxHistoryPerRun: max } = this.#options;
    if (state.historyCount < max) {
      state.historyCount += 1;
      return true;
    }
    if (!state.historyTruncated) {
      state.historyTruncated = true;
      this.log('HistoryTruncated', `step-level log, ledger and output entries past ${max} are not kept for this run (outputs keep their latest value)`, { max });
    }
    return false;
  }
}
