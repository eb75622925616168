/**
 * Why a run executing here stopped early (canceled, its deadline passed, its lease lost), the timer
 * of its deadline, and the signal its modules and ask steps listen to. The signal's AbortController
 * is made only when something asks for it: a run whose steps stay within it (COMPUTE, SET,
 * DECIDE…) never does, and making one costs ~2 µs (bench/engine-micro.ts), a few percent of a
 * durable start.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import { TimeoutError, type FlowError } from '../../errors.js';

export class RunAbort {
  #controller: AbortController | null = null;
  #reason: FlowError | undefined;
  #deadlineTimer: TimerHandle | null = null;

  /** The first reason given to {@link abort}; undefined while the run goes on. */
  get reason(): FlowError | undefined {
    return this.#reason;
  }

  /** Aborted with {@link reason}; made on first use, already aborted when the run was. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts the signal with `reason`; a later call changes nothing (the first reason stays). */
  abort(reason: FlowError): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  /** Aborts with a TimeoutError once `deadline` passes on `clock`, unless {@link disarm}ed first. */
  armDeadline(clock: Clock, deadline: number, runId: string): void {
    const timedOut = (): void => this.abort(new TimeoutError(`run ${runId} passed its deadline`, { runId }));
    this.#deadlineTimer = clock.setTimeout(timedOut, Math.max(0, deadline - clock.now()));
  }

  /** Cancels the deadline's timer: the execution ended. */
  disarm(): void {
    this.#deadlineTimer?.cancel();
    this.#deadlineTimer = null;
  }
}
