/**
 * The real clock: wall time and Node timers. Background timers (`keepAlive: false`) are unref'd
 * so polling never keeps a finished program alive.
 */
import type { Clock, TimerHandle, TimerOptions } from '../core/clock.js';

/** The clock of the machine. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback: () => void, delayMs: number, options: TimerOptions = {}): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    if (options.keepAlive === false) timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
