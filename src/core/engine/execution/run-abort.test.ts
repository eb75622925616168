import { describe, expect, it } from 'vitest';
import { CanceledError, TimeoutError } from '../../errors.js';
import { createManualClock } from '../../../testing/manual-clock.js';
import { RunAbort } from './run-abort.js';

describe('RunAbort', () => {
  it('gives a signal asked for after the abort, already aborted with the first reason', () => {
    const abort = new RunAbort();
    abort.abort(new CanceledError('canceled by alice'));
    abort.abort(new TimeoutError('too late'));
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBeInstanceOf(CanceledError);
    expect(abort.reason?.message).toBe('canceled by alice');
  });

  it('aborts a signal handed out before the abort, once', () => {
    const abort = new RunAbort();
    const signal = abort.signal;
    let calls = 0;
    signal.addEventListener('abort', () => calls++);
    expect(signal.aborted).toBe(false);
    abort.abort(new CanceledError('canceled'));
    abort.abort(new CanceledError('again'));
    expect(calls).toBe(1);
    expect(abort.signal).toBe(signal);
  });

  it('aborts with a TimeoutError at the deadline, and not once disarmed', async () => {
    const clock = createManualClock();
    const late = new RunAbort();
    late.armDeadline(clock, clock.now() + 1_000, 'run-1');
    const disarmed = new RunAbort();
    disarmed.armDeadline(clock, clock.now() + 1_000, 'run-2');
    disarmed.disarm();
    await clock.advance(999);
    expect(late.reason).toBeUndefined();
    await clock.advance(1);
    expect(late.reason).toBeInstanceOf(TimeoutError);
    expect(late.signal.aborted).toBe(true);
    expect(disarmed.reason).toBeUndefined();
  });
});
