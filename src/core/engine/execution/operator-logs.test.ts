/**
 * The engine's lines an operator acts on: the store going away and coming back (once each, not
 * once per poll), and runs resumed after another process left them (recovery).
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type Logger } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

function recordingLogger(): Logger & { lines: { level: string; fields: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: object, msg?: string) => void lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('operator logs', () => {
  it('logs the store unavailable once at error and available again once at info, however many polls fail', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const logger = recordingLogger();
    const claimRuns = stores.claimRuns.bind(stores);
    let down = false;
    stores.claimRuns = (options) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : claimRuns(options));
    const engine = createEngine({ stores, clock, pollIntervalMs: 1_000, runtimeConfig: { logger } });
    await clock.advance(1_000);
    down = true;
    for (let i = 0; i < 5; i++) await clock.advance(1_000);
    down = false;
    for (let i = 0; i < 3; i++) await clock.advance(1_000);
    await engine.close();
    const notable = logger.lines.filter((l) => l.level !== 'debug').map((l) => [l.level, l.msg.split(':')[0]]);
    expect(notable).toEqual([
      ['error', 'store unavailable'],
      ['info', 'store available again'],
    ]);
  });

  it('logs runs resumed from a process that left them, with their count', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const flow = { id: 'two', actions: { main: { startAt: 'a', steps: { a: { stepType: 'MODULE' as const, moduleIdentifier: 'gate', defaultNextStepInstanceId: 'b' }, b: { stepType: 'MODULE' as const, moduleIdentifier: 'gate' } } } } };
    let open: () => void = () => undefined;
    const first = createEngine({ stores, clock, poll: false, leaseMs: 3_000, modules: { gate: () => new Promise((r) => (open = () => r(1))) } });
    const { requestId } = await first.startRun({ flow });
    await clock.advance(0);
    open(); // step a done, b waits: then the process "dies" (its lease is never renewed)
    await clock.advance(0);
    await first.close();
    await clock.advance(5_000);
    const logger = recordingLogger();
    const second = createEngine({ stores, clock, pollIntervalMs: 1_000, leaseMs: 3_000, runtimeConfig: { logger }, modules: { gate: () => 2 } });
    await clock.advance(1_000);
    await clock.advance(1_000);
    expect((await stores.getRun(requestId))?.status).toBe('SUCCEEDED');
    await second.close();
    expect(logger.lines.filter((l) => l.msg.startsWith('resumed runs'))).toEqual([{ level: 'info', fields: expect.objectContaining({ resumed: 1 }), msg: expect.any(String) }]);
  });
});
