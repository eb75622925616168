/**
 * Transient changes between processes (issue 14, seed 002): a store shared by several processes
 * carries the transient item changes and output snapshots one of them publishes to the others'
 * subscribers — every one sent while they listen, in order, whole — and keeps none of them.
 */
import { describe, expect, it } from 'vitest';
import type { Store, StoreChange, TransientChange } from '../core/store.js';

/** What the transient suite needs: the store under test, and another store object over the same database (another process's view). */
export interface TransientConformanceOptions {
  store: () => Store;
  openAnother: ((store: Store) => Store) | { skip: string };
}

/** Waits until `done()` holds, letting I/O happen (sockets, LISTEN); throws after `rounds` turns of 5 ms. */
async function until(done: () => boolean, rounds = 2_000): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!done()) throw new Error('gave up waiting');
}

function change(runId: string, afterSeq: number, content: unknown): TransientChange {
  return { runId, afterSeq, origin: 'engine-a', event: { kind: 'item', change: 'updated', item: { id: 'typing', type: 'typing', status: 'in_progress', content, transient: true, runId, createdAt: 0, updatedAt: 0 } } };
}

/** The transient-change tests of the store conformance suite. */
export function describeTransientConformance(options: TransientConformanceOptions): void {
  const another = options.openAnother;
  describe.skipIf(typeof another !== 'function')(`transient changes across processes${typeof another === 'function' ? '' : ` (skipped: ${another.skip})`}`, () => {
    it('delivers every change another process publishes while it listens, in order and whole: large ones, identical ones, output snapshots', async () => {
      const writer = options.store();
      const reader = (another as (store: Store) => Store)(writer);
      const received: StoreChange[] = [];
      const unsubscribe = await reader.subscribe!((c) => {
        if (c.transient) received.push(c);
      });
      try {
        const sent: TransientChange[] = [];
        for (let i = 0; i < 300; i++) sent.push(change('run-t', 1 + Math.floor(i / 100), i % 3 === 0 ? 'same' : `text ${i}`));
        // Larger than a PostgreSQL NOTIFY payload, with characters of every UTF-8 length.
        sent.push({ runId: 'run-t', afterSeq: 4, origin: 'engine-a', event: { kind: 'output', name: 'report', value: { text: 'é€😀x'.repeat(20_000) } } });
        sent.push(change('run-t', 4, 'after the large one'));
        for (const c of sent) void writer.publishTransient!(c);
        await until(() => received.length >= sent.length);
        expect(received.map((c) => c.transient)).toEqual(sent);
        expect(received.every((c) => c.runId === 'run-t')).toBe(true);
        // Never stored.
        expect(await writer.getRunEvents('run-t')).toEqual([]);
      } finally {
        await unsubscribe();
        await reader.close();
      }
    });

    it('sends nothing to a process after it stopped listening', async () => {
      const writer = options.store();
      const reader = (another as (store: Store) => Store)(writer);
      const received: StoreChange[] = [];
      const unsubscribe = await reader.subscribe!((c) => c.transient && received.push(c));
      await writer.publishTransient!(change('run-u', 1, 'first'));
      await until(() => received.length === 1);
      await unsubscribe();
      await writer.publishTransient!(change('run-u', 1, 'second'));
      // A change that is published after it must come after the last one: nothing of the second came.
      const again: StoreChange[] = [];
      const resubscribe = await reader.subscribe!((c) => c.transient && again.push(c));
      await writer.publishTransient!(change('run-u', 1, 'third'));
      await until(() => again.length >= 1);
      expect(received.map((c) => (c.transient!.event as { item: { content: string } }).item.content)).toEqual(['first']);
      expect(again.map((c) => (c.transient!.event as { item: { content: string } }).item.content)).toEqual(['third']);
      await resubscribe();
      await reader.close();
    });
  });
}
