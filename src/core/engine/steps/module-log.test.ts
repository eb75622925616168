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

describe('live order across a write in flight', () => {
  it('announces transient items in the order the module emitted them, also while its log entries are being written', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    let holdWrites = false;
    let releaseWrite: () => void = () => undefined;
    const recordTransition = stores.recordTransition.bind(stores);
    stores.recordTransition = async (transition) => {
      if (holdWrites) await new Promise<void>((r) => (releaseWrite = r));
      return recordTransition(transition);
    };
    let next: () => void = () => undefined;
    const gate = (): Promise<void> => new Promise<void>((r) => (next = r));
    const engine = createEngine({
      stores,
      clock,
      poll: false,
      modules: {
        watch: async (_input, ctx) => {
          ctx.log('Checked', 'first');
          ctx.emitItem({ type: 'typing', content: 0, transient: true });
          ctx.emitItem({ type: 'typing', content: 1, transient: true });
          await gate(); // the log entry is being written now
          ctx.emitItem({ type: 'typing', content: 2, transient: true });
          ctx.emitItem({ type: 'typing', content: 3, transient: true });
          await gate();
          return 'ok';
        },
      },
    });
    const typing: unknown[] = [];
    const { requestId } = await engine.startRun({ flow: monitor });
    engine.onRunEvent(requestId, (event) => event.kind === 'item' && event.transient && typing.push(event.item.content));
    await clock.advance(1);
    holdWrites = true;
    await clock.advance(20); // the flush of 'first' starts and waits in the store
    next();
    await clock.advance(1);
    holdWrites = false;
    releaseWrite();
    await clock.advance(1);
    next();
    await engine.waitForRun(requestId);
    expect(typing).toEqual([0, 1, 2, 3]);
    await engine.close();
  });
});
