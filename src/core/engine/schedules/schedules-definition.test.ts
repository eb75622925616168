import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../create-engine.js';
import { createSqliteStore } from '../../../store/sqlite/create-filesystem-stores.js';
import { createManualClock } from '../../../testing/manual-clock.js';
import type { FlowDefinition } from '../../model.js';

const dir = mkdtempSync(join(tmpdir(), 'flowrun-schedule-def-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MIN = 60_000;
const at = (hhmm: string) => Date.parse(`2026-01-05T${hhmm}Z`);

const version = (v: number, extra: Partial<FlowDefinition> = {}): FlowDefinition => ({
  id: 'ops/rollup',
  actions: { main: { startAt: 'see', steps: { see: { stepType: 'COMPUTE', expression: '{v: input.v, slot: schedule.scheduledTime}' } } } },
  schedules: [{ name: 'minutely', every: '1m', input: { v }, overlap: 'allowAll' }],
  ...extra,
});

describe("a flow definition's schedules", () => {
  it('are created when the flow is published, and a new version replaces them without a double fire at the switch', async () => {
    const path = join(dir, 'switch.db');
    const clock = createManualClock(at('09:59:30'));
    const [a, b] = [0, 1].map(() => createEngine({ stores: createSqliteStore({ path }), clock, poll: false, workerId: `w${Math.random()}` }));
    await a!.deployFlow(version(1), { publish: true });
    const schedule = await a!.schedules.get('ops/rollup#minutely');
    expect(schedule).toMatchObject({ origin: 'definition', definitionVersion: 1, owner: '', nextFireTimes: [at('10:00:00'), at('10:01:00'), at('10:02:00'), at('10:03:00'), at('10:04:00')] });
    await clock.advance(30_000);
    await Promise.all([a!.schedules.pollOnce(), b!.schedules.pollOnce()]);
    // At 10:01 one engine fires the due slot while the other publishes version 2 and polls.
    await clock.advance(MIN);
    await Promise.all([a!.schedules.pollOnce(), b!.deployFlow(version(2), { publish: true }).then(() => b!.schedules.pollOnce())]);
    await clock.advance(MIN);
    await Promise.all([a!.schedules.pollOnce(), b!.schedules.pollOnce()]);
    await Promise.all([a!.whenIdle(), b!.whenIdle()]);
    const runs = (await a!.listRuns({ flowId: 'ops/rollup', orderBy: 'startTime', orderDir: 'asc' })).runs;
    const slots = runs.map((r) => (r.output as { slot: number }).slot);
    expect(slots).toEqual([at('10:00:00'), at('10:01:00'), at('10:02:00')]);
    expect((runs[2]!.output as { v: number }).v).toBe(2);
    expect((await a!.schedules.get('ops/rollup#minutely')).definitionVersion).toBe(2);
    // A version without the schedule removes it; its runs stay.
    await a!.deployFlow(version(3, { schedules: [] }), { publish: true });
    await expect(a!.schedules.get('ops/rollup#minutely')).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    expect((await a!.listRuns({ flowId: 'ops/rollup' })).runs).toHaveLength(3);
    for (const e of [a!, b!]) await e.close();
  });

  it('refuses a definition whose schedule has an invalid cron or an unknown time zone, naming the field', async () => {
    const engine = createEngine({ stores: createSqliteStore({ path: join(dir, 'bad.db') }), poll: false });
    const bad = version(1, { schedules: [{ name: 'x', cron: '0 2 * * *', timezone: 'Mars/Olympus' }, { name: 'y', cron: 'every day', action: 'nope' }] });
    await expect(engine.deployFlow(bad)).rejects.toMatchObject({
      code: 'INVALID_DEFINITION',
      issues: [
        { path: 'schedules[0].timezone', message: expect.stringMatching(/unknown time zone "Mars\/Olympus"/) },
        { path: 'schedules[1].action', message: expect.stringMatching(/unknown action "nope"/) },
        { path: 'schedules[1].cron', message: expect.stringMatching(/invalid cron "every day"/) },
      ],
    });
    await expect(engine.schedules.update('ops/rollup#minutely', { every: '5m' })).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    await engine.deployFlow(version(1));
    // Declared by the definition: changed by publishing, not through the API.
    await expect(engine.schedules.update('ops/rollup#minutely', { every: '5m' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await engine.close();
  });
});
