/**
 * Chooses, transaction by transaction, where a SQLite group commit's fsync runs: inside COMMIT on
 * the event loop (synchronous=FULL), or after it in libuv's thread pool (wal-sync.ts). The thread
 * pool is not free: handing the fsync to a pool thread and waking the loop when it returns costs
 * ~0.1 ms of latency and ~0.05 ms of CPU per commit on a 2-vCPU VM (futex wake-ups, an eventfd
 * write, an epoll wake-up: ~4× the system calls of an inline fsync), more than the fsync itself
 * on a fast disk (~0.05 ms). A run executing alone paid that on every step (~355 → ~530 µs a step
 * with every fsync in the pool, RESULTS.md) while nothing else was waiting for the loop. So the
 * fsync leaves the loop only when that buys something: the disk is slow (a blocked loop would
 * hold every request for it), or the loop had other work to do during the last fsync it did not
 * block.
 */

/** What the policy learned from one fsync made off the event loop. */
export interface OffLoopSyncSample {
  /** From handing the fsync to the pool until its callback ran on the loop, in milliseconds. */
  roundTripMs: number;
  /** How long the event loop ran callbacks (was not idle) during that round trip, in milliseconds. */
  loopActiveMs: number;
}

/**
 * An fsync that took at least this long counts as slow: ~10× what the hop to the thread pool
 * costs, and longer than a typical transaction's statements.
 */
const SLOW_SYNC_MS = 1;
/** Weight of the newest commit in the share of slow fsyncs (an average over ~10 commits). */
const SLOW_SHARE_WEIGHT = 0.1;
/**
 * From this share of slow fsyncs among the recent commits, fsyncs leave the loop whatever else is
 * waiting: three slow ones in a row get there, a lone one does not. A COMMIT that ran one of
 * SQLite's automatic checkpoints (every ~1,000 WAL pages; two fsyncs and the copy, several
 * milliseconds) is slow once in ~150 commits; the thread pool would not have spared the loop that
 * checkpoint, which SQLite runs inside COMMIT at NORMAL too.
 */
const SLOW_SHARE = 0.25;
/**
 * The loop counts as having other work when it ran callbacks for at least this share of an
 * off-loop fsync's round trip, and at least {@link MIN_OTHER_WORK_MS}: the commit's own
 * bookkeeping after handing the fsync over takes a few tens of microseconds.
 */
const OTHER_WORK_SHARE = 0.5;
const MIN_OTHER_WORK_MS = 0.2;
/**
 * While fsyncs stay on the loop, every this-many commits one goes to the pool anyway, to see
 * whether the loop has other work meanwhile (requests, other runs): ~0.1 ms once per 32 commits.
 */
const PROBE_EVERY_COMMITS = 32;

/**
 * Decides whether the next transaction's fsync runs off the event loop.
 *
 * Guarantees: only *where* the fsync runs is decided here, never whether: a write is acknowledged
 * after its fsync either way (group-commit-queue.ts). The decision depends only on the samples
 * given, so a test drives it with numbers.
 */
export class CommitSyncPolicy {
  /** The share of slow fsyncs among the recent commits, a moving average. */
  #slowShare = 0;
  /** Whether the loop had other work during the last off-loop fsync. */
  #hadOtherWork = false;
  #commitsSinceProbe = 0;

  /** Whether the next transaction's fsync should run off the event loop. */
  chooseOffLoop(): boolean {
    if (this.#slowShare >= SLOW_SHARE || this.#hadOtherWork) return true;
    if (++this.#commitsSinceProbe < PROBE_EVERY_COMMITS) return false;
    this.#commitsSinceProbe = 0;
    return true;
  }

  /** Notes a COMMIT that fsynced on the loop and took `commitMs` (its fsync and any checkpoint included). */
  noteInline(commitMs: number): void {
    this.#noteSyncMs(commitMs);
  }

  /** Notes an fsync made off the loop. */
  noteOffLoop(sample: OffLoopSyncSample): void {
    const { roundTripMs, loopActiveMs } = sample;
    this.#hadOtherWork = loopActiveMs >= MIN_OTHER_WORK_MS && loopActiveMs >= OTHER_WORK_SHARE * roundTripMs;
    // While the loop ran other callbacks, the pool's callback may have waited for it: only the
    // time the loop sat idle is sure to have been the fsync's.
    this.#noteSyncMs(roundTripMs - loopActiveMs);
    this.#commitsSinceProbe = 0;
  }

  #noteSyncMs(syncMs: number): void {
    this.#slowShare += SLOW_SHARE_WEIGHT * ((syncMs >= SLOW_SYNC_MS ? 1 : 0) - this.#slowShare);
  }
}
