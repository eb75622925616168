/**
 * The real clock: wall time and Node timers. Background timers (`keepAlive: false`) are unref'd
 * so polling never keeps a finished program alive.
 */
import type { Clock, TimerHandle, TimerOptions } from '../core/clock.js';

/**
 * The clock of the machine. Node's timers run on a monotonic clock and may fire a millisecond
 * before `Date.now()` reaches the time they were set for; a timer that fires early waits out the
 * rest, so its callback always sees `now()` at or past the due time (a run woken at its `readyAt`
 * is then claimable).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback: () => void, delayMs: number, options: TimerOptions = {}): TimerHandle {
    const due = Date.now() + Math.max(0, delayMs);
    let timer: ReturnType<typeof setTimeout>;
    const arm = (ms: number): void => {
      timer = setTimeout(() => {
        const left = due - Date.now();
        if (left > 0) arm(left);
        else callback();
      }, ms);
      if (options.keepAlive === false) timer.unref();
    };
    arm(Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
};
