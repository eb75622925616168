/**
 * A clock that moves only when told: `advance(ms)` runs the timers that fall due, in time order,
 * letting promises settle between them. Tests of timeouts, retries and backoff need no sleeps.
 */
import type { Clock, TimerHandle } from '../core/clock.js';

/** A {@link Clock} driven by hand. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer due on the way; resolves when they settled. */
  advance(ms: number): Promise<void>;
  /** Timers not yet fired. */
  pendingTimers(): number;
}

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
}

/** Creates a manual clock starting at `startMs` (default 2026-01-01T00:00:00Z). */
export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let seq = 0;
  const timers = new Set<Timer>();
  const settle = async (): Promise<void> => {
    // Several macrotask turns, so chains of awaited store calls run to their next timer.
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    now: () => now,
    setTimeout(callback: () => void, delayMs: number): TimerHandle {
      const timer: Timer = { at: now + Math.max(0, delayMs), seq: seq++, callback };
      timers.add(timer);
      return { cancel: () => void timers.delete(timer) };
    },
    async advance(ms: number): Promise<void> {
      const target = now + ms;
      await settle();
      for (;;) {
        const due = [...timers].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
        if (!due) break;
        timers.delete(due);
        now = Math.max(now, due.at);
        due.callback();
        await settle();
      }
      now = target;
      await settle();
    },
    pendingTimers: () => timers.size,
  };
}

/** Ids `run-000001`, `id-000001`, …: readable and reproducible in test output. */
export function createSequentialIds(prefix = ''): { newRunId(): string; newId(): string } {
  let runs = 0;
  let ids = 0;
  return {
    newRunId: () => `${prefix}run-${String(++runs).padStart(6, '0')}`,
    newId: () => `${prefix}id-${String(++ids).padStart(6, '0')}`,
  };
}
