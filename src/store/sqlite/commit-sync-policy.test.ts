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
  it('keeps the fsync of a lone run on the loop, trying the thread pool after 32 commits, then less and less often', () => {
    const policy = new CommitSyncPolicy();
    // Fast fsyncs, and nothing else ran while one was in the pool.
    const made = choices(policy, 2000, (offLoop) => (offLoop ? policy.noteOffLoop({ roundTripMs: 0.2, loopActiveMs: 0.05 }) : policy.noteInline(0.1)));
    const probes = made.flatMap((offLoop, i) => (offLoop ? [i + 1] : []));
    // After 32, 64, 128 and 256 commits, then every 256.
    expect(probes.slice(0, 6)).toEqual([32, 96, 224, 480, 736, 992]);
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

  it('keeps slow fsyncs on the loop while nothing else waits for it, and looks for other work sooner', () => {
    const policy = new CommitSyncPolicy();
    // 4 ms fsyncs and an idle loop during the probes: a probe once the loop was held 10 ms (after
    // 3 commits), then 20, 40, 80 ms; the rest inline.
    const made = choices(policy, 60, (offLoop) => (offLoop ? policy.noteOffLoop({ roundTripMs: 4.2, loopActiveMs: 0.05 }) : policy.noteInline(4)));
    expect(made.flatMap((offLoop, i) => (offLoop ? [i + 1] : []))).toEqual([4, 10, 21, 42]);
    // A probe that finds requests being served meanwhile: the fsyncs leave the loop.
    while (!policy.chooseOffLoop()) policy.noteInline(4);
    policy.noteOffLoop({ roundTripMs: 4.5, loopActiveMs: 3 });
    expect(policy.chooseOffLoop()).toBe(true);
  });
});
