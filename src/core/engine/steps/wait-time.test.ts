/** A waiting run's log says until when in a date people read, not an epoch. */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../create-engine.js';
import { createMemoryStores } from '../../../store/memory/memory-store.js';
import { createManualClock } from '../../../testing/manual-clock.js';
import { describeTime } from './wait-step.js';

describe('WAIT log entries', () => {
  it('name the time a timer falls due as an ISO 8601 UTC date', async () => {
    const clock = createManualClock(Date.UTC(2026, 11, 5, 7, 0, 0));
    const engine = createEngine({ stores: createMemoryStores(), clock });
    const flow = { id: 'pause', actions: { main: { startAt: 'nap', steps: { nap: { stepType: 'WAIT' as const, durationMs: 60_000 } } } } };
    const { requestId } = await engine.startRun({ flow, input: {} });
    await engine.whenIdle();
    const { entries } = await engine.getRunLogs(requestId);
    expect(entries.map((e) => e.description)).toContain('step nap waits until 2026-12-05T07:01:00.000Z');
    await engine.close();
  });

  it('writes a time no date can hold as its number', () => {
    expect(describeTime(1e20)).toBe('100000000000000000000');
  });
});
