import { describe, expect, it } from 'vitest';
import { createManualClock, testModule } from '../../../testing/index.js';
import { OutputWriter, STREAM_INTERVAL_MS } from './output-writer.js';

function writer(outputs: Record<string, unknown> = { lines: [{ id: 0 }] }, maxValueBytes = 1024 * 1024) {
  const clock = createManualClock();
  const streamed: [string, unknown][] = [];
  const w = new OutputWriter({
    outputs,
    declared: { lines: { type: 'list', returned: true, streamable: true }, note: { type: 'text', returned: true } },
    clock,
    maxValueBytes,
    stream: (name, value) => streamed.push([name, value]),
  });
  return { w, clock, outputs, streamed };
}

describe('OutputWriter (ctx.write / ctx.append)', () => {
  it('keeps writes private until the step completes, then commits them', () => {
    const { w, outputs } = writer();
    w.append('lines', { id: 1 });
    w.write('note', 'hi');
    expect(outputs).toEqual({ lines: [{ id: 0 }] });
    expect(w.commit().sort()).toEqual(['lines', 'note']);
    expect(outputs).toEqual({ lines: [{ id: 0 }, { id: 1 }], note: 'hi' });
  });

  it('drops the writes of a failed attempt and names what it had streamed', async () => {
    const { w, clock, outputs } = writer();
    w.append('lines', { id: 1 });
    w.write('note', 'not streamable');
    await clock.advance(0);
    expect(w.discard()).toEqual(['lines']);
    expect(outputs).toEqual({ lines: [{ id: 0 }] });
  });

  it('streams copies of streamable outputs only, at most one snapshot per interval', async () => {
    const { w, clock, streamed } = writer();
    for (let i = 1; i <= 1_000; i++) w.append('lines', { id: i });
    w.write('note', 'x');
    await clock.advance(0);
    expect(streamed).toHaveLength(1);
    w.append('lines', { id: 1_001 });
    await clock.advance(STREAM_INTERVAL_MS - 1);
    expect(streamed).toHaveLength(1);
    await clock.advance(1);
    expect(streamed.map(([name, value]) => [name, (value as unknown[]).length])).toEqual([['lines', 1_001], ['lines', 1_002]]);
  });

  it('ignores writes after the step ended, and rejects undeclared outputs and appends to non-lists', async () => {
    const { w, clock, outputs, streamed } = writer();
    expect(() => w.write('nope', 1)).toThrow(expect.objectContaining({ code: 'UNKNOWN_OUTPUT' }));
    w.write('note', 'text');
    expect(() => w.append('note', 'more')).toThrow(expect.objectContaining({ code: 'INVALID_OUTPUT' }));
    w.commit();
    w.append('lines', { id: 'late' });
    w.write('note', 'late');
    await clock.advance(100);
    expect(outputs).toEqual({ lines: [{ id: 0 }], note: 'text' });
    expect(streamed).toEqual([]);
  });
});

describe('OutputWriter budgets', () => {
  it('refuses a write or an append over maxValueBytes, writes nothing, and fails the step even if the module caught it', () => {
    const { w, outputs } = writer({ lines: [] }, 100);
    let shared: unknown = [];
    for (let i = 0; i < 28; i++) shared = [shared, shared];
    expect(() => w.write('note', shared)).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED', details: expect.objectContaining({ limit: 'maxValueBytes', max: 100 }) }));
    for (let i = 0; i < 9; i++) w.append('lines', 'x'.repeat(8));
    expect(() => w.append('lines', 'x'.repeat(8))).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    expect(() => w.checkFailure()).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    expect(outputs).toEqual({ lines: [] });
  });
});

describe('testModule', () => {
  it('records what a module writes with ctx.write and ctx.append', async () => {
    const result = await testModule(async (_input, ctx) => {
      ctx.append('lines', { id: 1 });
      ctx.append('lines', { id: 2 });
      ctx.write('status', 'done');
    }, {});
    expect(result.outputs).toEqual({ lines: [{ id: 1 }, { id: 2 }], status: 'done' });
  });
});
