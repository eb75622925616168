import { describe, expect, it } from 'vitest';
import { checkScheduleFields, scheduleIssues } from './schedule.js';
import { countSlots, jitterOf, nextSlotAfter, nextSlots, parseEvery, slotsBetween } from './schedule-slots.js';

const at = (iso: string) => Date.parse(iso);

describe('schedule fields', () => {
  it('fills the defaults of a cron schedule', () => {
    expect(checkScheduleFields({ flowId: 'reports/daily', cron: '30 2 * * *', timezone: 'Europe/Paris' })).toEqual({
      flowId: 'reports/daily',
      actionName: 'main',
      spec: { cron: '30 2 * * *', timezone: 'Europe/Paris' },
      startAt: null,
      endAt: null,
      jitterMs: 0,
      maxRuns: null,
      input: {},
      runAs: null,
      overlap: 'skip',
      catchupWindowMs: 600_000,
      pauseAfterFailures: null,
    });
  });

  it('names the field of every problem: an invalid cron, an unknown time zone, a bad interval, a bad policy', () => {
    expect(scheduleIssues({ cron: '61 * * * *', timezone: 'Mars/Base' }, 'schedules[0]')).toEqual([
      { path: 'schedules[0].cron', message: 'invalid cron "61 * * * *": Invalid value for minute: 61' },
      { path: 'schedules[0].timezone', message: 'unknown time zone "Mars/Base" (an IANA name such as "Europe/Paris")' },
    ]);
    expect(scheduleIssues({ cron: '* * *' })[0]).toEqual({ path: 'cron', message: 'invalid cron "* * *": expected 5 or 6 fields, got 3' });
    expect(scheduleIssues({ every: '15 minutes' })[0]!.path).toBe('every');
    expect(scheduleIssues({ every: '500ms' })[0]!.path).toBe('every');
    expect(scheduleIssues({ every: '1h', overlap: 'queue' as never, maxRuns: 0, startAt: 'yesterday' }).map((i) => i.path)).toEqual(['startAt', 'maxRuns', 'overlap']);
    expect(scheduleIssues({})[0]!.path).toBe('cron');
    expect(() => checkScheduleFields({ cron: 'x' }, { code: 'INVALID_DEFINITION' })).toThrow(expect.objectContaining({ code: 'INVALID_DEFINITION' }));
  });
});

describe('schedule slots', () => {
  it('reads cron in its time zone: a 02:30 daily slot falls once on each day around both DST changes', () => {
    for (const [zone, spring, fall] of [
      ['Europe/Paris', '2026-03-27T00:00:00Z', '2026-10-23T00:00:00Z'],
      ['America/New_York', '2026-03-06T00:00:00Z', '2026-10-30T00:00:00Z'],
    ] as const) {
      for (const from of [spring, fall]) {
        const slots = slotsBetween({ cron: '30 2 * * *', timezone: zone }, at(from), at(from) + 4 * 86_400_000, 10).slots;
        const days = slots.map((s) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, dateStyle: 'short' }).format(s));
        expect(new Set(days).size).toBe(4);
        expect(slots).toHaveLength(4);
      }
    }
  });

  it('aligns intervals to the epoch plus their offset, and counts them without walking', () => {
    const spec = { every: '15m', offset: '5m' };
    expect(parseEvery('1h30m')).toBe(5_400_000);
    expect(nextSlotAfter(spec, at('2026-01-01T10:05:00Z'))).toBe(at('2026-01-01T10:20:00Z'));
    expect(nextSlots(spec, at('2026-01-01T10:00:00Z'), 3, null)).toEqual([at('2026-01-01T10:05:00Z'), at('2026-01-01T10:20:00Z'), at('2026-01-01T10:35:00Z')]);
    expect(countSlots(spec, at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'), 1e9)).toBe(365 * 96);
  });

  it('gives each slot the same jitter in every engine, within the bound', () => {
    const jitters = [1, 2, 3, 4, 5].map((i) => jitterOf('s', i * 60_000, 30_000));
    expect(jitters).toEqual([1, 2, 3, 4, 5].map((i) => jitterOf('s', i * 60_000, 30_000)));
    expect(jitters.every((j) => j >= 0 && j < 30_000)).toBe(true);
    expect(new Set(jitters).size).toBeGreaterThan(1);
  });
});
