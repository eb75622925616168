/**
 * Time and ids, injected. Core code never reads the wall clock or makes randomness itself, so
 * tests drive time by hand (`flowrun/testing`'s `createManualClock`) and ids are reproducible.
 */

/** A pending timer that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
}

/** Options of {@link Clock.setTimeout}. */
export interface TimerOptions {
  /** When false, the timer does not keep a Node process alive (background polling). Default true. */
  keepAlive?: boolean;
}

/** The source of time: milliseconds since the epoch, and timers on the same time line. */
export interface Clock {
  now(): number;
  /** Calls `callback` once `delayMs` have passed: never before `now()` reaches the due time. */
  setTimeout(callback: () => void, delayMs: number, options?: TimerOptions): TimerHandle;
}

/** The source of ids. `newRunId` must be sortable by creation time (UUIDv7 by default). */
export interface IdSource {
  newRunId(): string;
  newId(): string;
}
