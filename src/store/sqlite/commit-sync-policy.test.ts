/**
 * Where a group commit's fsync runs (issue 13 item 6): on the event loop while that costs less
 * than the hop to the thread pool, off it when the disk is slow or the loop has other work.
 * Driven with numbers, never the clock.
 */
import { describe, expect, it } from 'vitest';
import { CommitSyncPolicy } from './commit-sync-policy.js';

/** The choices of `commits` transactions, each noted with `note` once chosen. */
function choices(policy: CommitSyncPolicy, commits: number, note: (offLoop: boolean) => void): boolean[] {
  return Array.from({ length: commits }, () => {
    const offLoop = policy.chooseOffLoop();
    note(offLoop);
    return offLoop;
  });
}

describe('CommitSyncPolicy', () => {
  it('keeps the fsync of a lone run on the loop, trying the thread pool once in 32 commits', () => {
    const policy = new CommitSyncPolicy();
    // Fast fsyncs, and nothing else ran while one was in the pool.
    const made = choices(policy, 320, (offLoop) => (offLoop ? policy.noteOffLoop({ roundTripMs: 0.2, loopActiveMs: 0.05 }) : policy.noteInline(0.1)));
    expect(made.filter(Boolean)).toHaveLength(10);
  });

  it('moves the fsync off the loop while the loop has other work during it, and back once it has none', () => {
    const policy = new CommitSyncPolicy();
    let busy = true;
    const note = (offLoop: boolean) => (offLoop ? policy.noteOffLoop({ roundTripMs: 2, loopActiveMs: busy ? 1.8 : 0.05 }) : policy.noteInline(0.1));
    const whileBusy = choices(policy, 100, note);
    // Inline until the first probe, then off the loop for as long as requests keep it busy.
    expect(whileBusy.indexOf(true)).toBe(31);
    expect(whileBusy.slice(31).every(Boolean)).toBe(true);
    busy = false;
    // The off-loop fsync that finds the loop idle (and fast: 2 ms round trip counts as the fsync's, slow)…
    const afterwards = choices(policy, 100, (offLoop) => (offLoop ? policy.noteOffLoop({ roundTripMs: 0.3, loopActiveMs: 0.05 }) : policy.noteInline(0.1)));
    expect(afterwards.slice(10).filter(Boolean).length).toBeLessThanOrEqual(3);
  });

  it('moves the fsync off the loop after a few slow ones in a row, not after a lone slow one (a checkpoint)', () => {
    const lone = new CommitSyncPolicy();
    lone.noteInline(9);
    expect(lone.chooseOffLoop()).toBe(false);

    const slowDisk = new CommitSyncPolicy();
    for (let i = 0; i < 3; i++) slowDisk.noteInline(5);
    expect(slowDisk.chooseOffLoop()).toBe(true);
    // Still slow in the pool (the loop idle the whole time): it stays there.
    for (let i = 0; i < 20; i++) slowDisk.noteOffLoop({ roundTripMs: 5, loopActiveMs: 0.05 });
    expect(slowDisk.chooseOffLoop()).toBe(true);
    // Fast again: back on the loop within a few commits.
    for (let i = 0; i < 20; i++) slowDisk.noteOffLoop({ roundTripMs: 0.2, loopActiveMs: 0.05 });
    expect(slowDisk.chooseOffLoop()).toBe(false);
  });
});
