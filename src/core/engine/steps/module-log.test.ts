/**
 * Seed 003's monitoring loop reads the latest logs of an ACTIVE run: `ctx.log` in a module that
 * runs for a long time is written while it runs, not when the step ends.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type LiveRunEvent } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

const monitor: FlowDefinition = {
  id: 'ops/monitor',
  actions: { main: { startAt: 'watch', steps: { watch: { stepType: 'MODULE', moduleIdentifier: 'watch' } } } },
};

describe('ctx.log during a step', () => {
  it('reaches getRunLogs and watchers while the module still runs', async () => {
    const clock = createManualClock();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const engine = createEngine({
      stores: createMemoryStores(),
      clock,
      poll: false,
      pollIntervalMs: 50,
      modules: {
        watch: async (_input, ctx) => {
          ctx.log('Checked', 'disk 41 % full', { disk: 41 });
          ctx.log('Checked', 'disk 42 % full', { disk: 42 });
          await gate;
          return 'ok';
        },
      },
    });
    const { requestId } = await engine.startRun({ flow: monitor });
    const seen: LiveRunEvent[] = [];
    const watching = (async () => {
      for await (const event of engine.watchRun(requestId)) seen.push(event);
    })();
    await clock.advance(20); // the next flush, ~10 ms after the first entry
    expect((await engine.getRun(requestId)).status).toBe('ACTIVE');
    const { entries } = await engine.getRunLogs(requestId);
    expect(entries.filter((e) => e.code === 'Checked').map((e) => e.description)).toEqual(['disk 41 % full', 'disk 42 % full']);
    await clock.advance(50);
    expect(seen.filter((e) => e.kind === 'log' && e.entry.code === 'Checked')).toHaveLength(2);
    release();
    await clock.advance(50);
    await watching;
    expect(seen.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    // Written once: the step's completion does not repeat them.
    expect((await engine.getRunLogs(requestId)).entries.filter((e) => e.code === 'Checked')).toHaveLength(2);
    await engine.close();
  });

  it('keeps a run\'s module logs within maxHistoryPerRun and refuses an entry larger than maxValueBytes', async () => {
    const engine = createEngine({
      stores: createMemoryStores(),
      poll: false,
      runtimeConfig: { maxHistoryPerRun: 5, budgets: { maxValueBytes: 1_000 } },
      modules: {
        watch: async (_input, ctx) => {
          for (let i = 0; i < 50; i++) ctx.log('Tick', `tick ${i}`);
          try {
            ctx.log('Huge', 'x', { blob: 'x'.repeat(2_000) });
          } catch (error) {
            return (error as { code: string }).code;
          }
          return 'logged';
        },
      },
    });
    const result = await engine.runAction({ flow: monitor });
    expect(result.output).toBe('LIMIT_EXCEEDED');
    const { entries } = await engine.getRunLogs(result.requestId);
    expect(entries.filter((e) => e.code === 'Tick').length).toBeLessThanOrEqual(5);
    expect(entries.some((e) => e.code === 'HistoryTruncated')).toBe(true);
    await engine.close();
  });
});
