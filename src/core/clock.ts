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
  /**
   * HMAC-SHA-256 of `data` under `key`, at once, where the platform has it (Node's `crypto`); ids
   * derived from names (idempotency keys, events, schedule slots) use Web Crypto without it — the
   * same bytes, at several times the CPU (each `crypto.subtle.sign` is an asynchronous job).
   */
  hmacSha256?(key: Uint8Array, data: Uint8Array): Uint8Array;
}
