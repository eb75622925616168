/**
 * What the engine tells the code that watches it — metrics, tracing, anything an operator plugs
 * in — without knowing which: runs started and ended, step visits with their duration, leases
 * lost. Observers are called synchronously where it happens, after the fact is committed (a run
 * counted as started exists in the store); one that throws is ignored, so observing never changes
 * what a run does. Each process reports what it did itself: a run started in an API process and
 * executed by a worker is `runStarted` there and `stepEnded` / `runEnded` here.
 */
import type { NewRun, RunRecord, RunStatus } from '../run.js';

/** A run this engine created (started by a caller, an event, or a step of another run). */
export interface ObservedRunStart {
  runId: string;
  flowId: string;
  /** What started it: `http`, `manual`, `event`, `flow` (a child or launch)… as recorded on the run. */
  source: string;
  /** The run that started it, for a child or a launched run. */
  parentRunId: string | null;
}

/** A run that ended here (its executor committed the end, or a cancel here ended it). */
export interface ObservedRunEnd {
  runId: string;
  flowId: string;
  status: Extract<RunStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELED'>;
  /** From the run's start time to its end time, as recorded. */
  durationMs: number;
  /** The error code of a FAILED or CANCELED run. */
  errorCode: string | null;
}

/** One visit of a step, from the executor calling it to its outcome (before that is committed). */
export interface ObservedStep {
  runId: string;
  flowId: string;
  stepId: string;
  stepType: string;
  /**
   * What the step asked the executor to do next (step-outcome.ts): `complete`, `push` / `goto` (a
   * subflow), `wait-child` (a call), `end-frame`, `suspend` (the run waits), or `fail` (a retry or
   * catch may follow).
   */
  outcome: 'complete' | 'push' | 'goto' | 'wait-child' | 'end-frame' | 'fail' | 'suspend';
  durationMs: number;
}

/** Watches an engine. Every method is optional. */
export interface EngineObserver {
  runStarted?(run: ObservedRunStart): void;
  runEnded?(run: ObservedRunEnd): void;
  stepEnded?(step: ObservedStep): void;
  /** This engine lost its lease on a run it executed (the run stops here and resumes elsewhere). */
  leaseLost?(lease: { runId: string }): void;
}

/** The observers of one engine, called in the order added; the engine calls this one object. */
export class EngineObservers implements Required<EngineObserver> {
  readonly #observers: EngineObserver[] = [];

  constructor(initial: readonly EngineObserver[] = []) {
    this.#observers.push(...initial);
  }

  /** Adds an observer; returns the function that removes it. */
  add(observer: EngineObserver): () => void {
    this.#observers.push(observer);
    return () => {
      const at = this.#observers.indexOf(observer);
      if (at >= 0) this.#observers.splice(at, 1);
    };
  }

  /** True when nobody watches (callers skip building what they would report). */
  get isEmpty(): boolean {
    return this.#observers.length === 0;
  }

  runStarted(run: ObservedRunStart): void {
    this.#each((o) => o.runStarted?.(run));
  }

  runEnded(run: ObservedRunEnd): void {
    this.#each((o) => o.runEnded?.(run));
  }

  stepEnded(step: ObservedStep): void {
    this.#each((o) => o.stepEnded?.(step));
  }

  leaseLost(lease: { runId: string }): void {
    this.#each((o) => o.leaseLost?.(lease));
  }

  #each(call: (observer: EngineObserver) => void): void {
    for (const observer of this.#observers) {
      try {
        call(observer);
      } catch {
        // An observer's bug must not change what a run does.
      }
    }
  }
}

/** What observers are told of a run just created. */
export function runStartOf(run: Pick<NewRun, 'runId' | 'flowId' | 'source' | 'parentRunId'>): ObservedRunStart {
  return { runId: run.runId, flowId: run.flowId, source: run.source, parentRunId: run.parentRunId ?? null };
}

/** What observers are told of a run that just ended. */
export function runEndOf(run: Pick<RunRecord, 'runId' | 'flowId' | 'status' | 'startTime' | 'endTime' | 'runError'>): ObservedRunEnd {
  const status = run.status === 'SUCCEEDED' || run.status === 'CANCELED' ? run.status : 'FAILED';
  return { runId: run.runId, flowId: run.flowId, status, durationMs: Math.max(0, (run.endTime ?? run.startTime) - run.startTime), errorCode: run.runError?.code ?? null };
}
