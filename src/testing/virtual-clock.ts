/**
 * Virtual time for tests: a clock that stands still while work is going on and jumps to the next
 * timer as soon as everything is waiting, so a flow that waits thirty days, backs off between
 * retries and times out a hung module finishes in milliseconds, firing the same timers in the
 * same order as the real clock would.
 */
import { setImmediate as realSetImmediate } from 'node:timers';
import type { TimerHandle, TimerOptions } from '../core/clock.js';
import type { ManualClock } from './manual-clock.js';

/** A {@link Clock} whose time moves only when the work it serves is waiting. */
export interface VirtualClock extends ManualClock {
  /**
   * Lets pending work run until it is quiet: several turns of the event loop in a row during
   * which nothing read the clock or set a timer.
   */
  settle(): Promise<void>;
  /**
   * Settles, then — until `done()` holds — jumps to the next timer that keeps work alive (a WAIT,
   * a retry backoff, a timeout, a deadline), fires every timer due by then in time order (settling
   * after each), and settles again. Background timers (`keepAlive: false`: pollers, lease
   * heartbeats) fire when a jump passes them but are never jumped to. Resolves true once `done()`
   * holds, false when nothing is left to wait for (what is waiting needs an event or an approval)
   * or the next timer is due at or after `options.before`.
   */
  skip(done?: () => boolean, options?: { before?: number }): Promise<boolean>;
  /** When the next timer that keeps work alive is due, if there is one. */
  nextWakeAt(): number | undefined;
}

interface Timer {
  at: number;
  seq: number;
  keepAlive: boolean;
  callback: () => void;
}

/** Options of {@link createVirtualClock}. */
export interface VirtualClockOptions {
  /** The time it starts at (default 2026-01-01T00:00:00Z). */
  startMs?: number;
  /**
   * Turns of the event loop without clock activity that count as quiet (default 5). Raise it when
   * a mocked module awaits real I/O (a file, a local server) between two clock reads.
   */
  quietTurns?: number;
}

/** Creates a virtual clock (see {@link VirtualClock}). */
export function createVirtualClock(options: VirtualClockOptions = {}): VirtualClock {
  let now = options.startMs ?? Date.UTC(2026, 0, 1);
  const quietTurns = options.quietTurns ?? 5;
  let seq = 0;
  // Every read of the clock and every timer set or cancelled: work in progress.
  let activity = 0;
  const timers = new Set<Timer>();
  const turn = (): Promise<void> => new Promise<void>((resolve) => realSetImmediate(resolve));

  const settle = async (): Promise<void> => {
    // A loop that never goes quiet (a module polling the clock forever) is cut off, so a test fails rather than hangs.
    for (let quiet = 0, turns = 0; quiet < quietTurns && turns < 100_000; turns++) {
      const before = activity;
      await turn();
      quiet = activity === before ? quiet + 1 : 0;
    }
  };
  const earliest = (filter: (t: Timer) => boolean): Timer | undefined => {
    let first: Timer | undefined;
    for (const t of timers) if (filter(t) && (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq))) first = t;
    return first;
  };
  /** Fires every timer due by `target` in time order, then leaves the clock at `target`. */
  const runTo = async (target: number): Promise<void> => {
    for (let due = earliest((t) => t.at <= target); due; due = earliest((t) => t.at <= target)) {
      timers.delete(due);
      now = Math.max(now, due.at);
      due.callback();
      await settle();
    }
    now = Math.max(now, target);
  };

  const clock: VirtualClock = {
    now: () => {
      activity++;
      return now;
    },
    setTimeout(callback: () => void, delayMs: number, timerOptions?: TimerOptions): TimerHandle {
      activity++;
      const timer: Timer = { at: now + Math.max(0, delayMs), seq: seq++, keepAlive: timerOptions?.keepAlive !== false, callback };
      timers.add(timer);
      return {
        cancel: () => {
          activity++;
          timers.delete(timer);
        },
      };
    },
    settle,
    async advance(ms: number): Promise<void> {
      await settle();
      await runTo(now + ms);
      await settle();
    },
    async skip(done: () => boolean = () => false, skipOptions: { before?: number } = {}): Promise<boolean> {
      const before = skipOptions.before ?? Infinity;
      for (;;) {
        await settle();
        if (done()) return true;
        const next = earliest((t) => t.keepAlive);
        if (!next || next.at >= before) return false;
        await runTo(next.at);
      }
    },
    nextWakeAt: () => earliest((t) => t.keepAlive)?.at,
    pendingTimers: () => timers.size,
  };
  return clock;
}

