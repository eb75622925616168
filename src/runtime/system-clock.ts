/**
 * The real clock: wall time and Node timers. Background timers (`keepAlive: false`) are unref'd
 * so polling never keeps a finished program alive.
 */
import type { Clock, TimerHandle, TimerOptions } from '../core/clock.js';

/** The longest delay Node's setTimeout takes as it is. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
      // Node fires a delay past 2^31-1 ms (~24.8 days) at once; a longer one is armed in parts.
      timer = setTimeout(() => {
        const left = due - Date.now();
        if (left > 0) arm(left);
        else callback();
      }, Math.min(ms, MAX_TIMER_MS));
      if (options.keepAlive === false) timer.unref();
    };
    arm(Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
};
