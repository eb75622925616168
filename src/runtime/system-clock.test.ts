import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from './system-clock.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** From now on the wall clock reads `ms` behind Node's timer clock (what made a retry wake fail its claim). */
function lagWallClock(ms: number): void {
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() - ms);
}

describe('systemClock', () => {
  it('never calls a timer back before now() reaches its due time, even when the wall clock lags the timer clock', async () => {
    const due = systemClock.now() + 20;
    const fired = new Promise<number>((resolve) => systemClock.setTimeout(() => resolve(systemClock.now()), 20));
    lagWallClock(8);
    expect(await fired).toBeGreaterThanOrEqual(due);
  });

  it('cancels a timer that is waiting out the rest of its delay', async () => {
    let fired = false;
    const timer = systemClock.setTimeout(() => (fired = true), 10);
    lagWallClock(25);
    await new Promise((r) => setTimeout(r, 15)); // Node's timer has fired early and re-armed
    timer.cancel();
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toBe(false);
  });
});
