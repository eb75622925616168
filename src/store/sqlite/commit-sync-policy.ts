/**
 * Chooses, transaction by transaction, where a SQLite group commit's fsync runs: inside COMMIT on
 * the event loop (synchronous=FULL), or after it in libuv's thread pool (wal-sync.ts). The thread
 * pool is not free: handing the fsync to a pool thread and waking the loop when it returns costs
 * ~0.1 ms of latency and ~0.05 ms of CPU per commit on a 2-vCPU VM (futex wake-ups, an eventfd
 * write, an epoll wake-up: ~4× the system calls of an inline fsync), more than the fsync itself
 * on a fast disk (~0.05 ms), and on a busy CPU each of its two wake-ups may wait for a time
 * slice. A run executing alone paid that on every step (~355 → ~530 µs a step with every fsync in
 * the pool, RESULTS.md) while nothing else was waiting for the loop. So the fsync leaves the loop
 * only when the loop had other work to do during the last fsync it did not block; to find out,
 * one fsync in a while goes to the pool anyway — sooner when fsyncs are slow, as a request
 * arriving meanwhile would wait longer, and less often while it keeps finding the loop idle.
 */

/** What the policy learned from one fsync made off the event loop. */
export interface OffLoopSyncSample {
  /** From handing the fsync to the pool until its callback ran on the loop, in milliseconds. */
  roundTripMs: number;
  /** How long the event loop ran callbacks (was not idle) during that round trip, in milliseconds. */
  loopActiveMs: number;
}

/**
 * The loop counts as having other work when it ran callbacks for at least this share of an
 * off-loop fsync's round trip, and at least {@link MIN_OTHER_WORK_MS}: the commit's own
 * bookkeeping after handing the fsync over takes a few tens of microseconds.
 */
const OTHER_WORK_SHARE = 0.5;
const MIN_OTHER_WORK_MS = 0.2;
/**
 * While fsyncs stay on the loop, one goes to the pool anyway once this many commits went by
 * (~0.1 ms once per 32 commits on a fast disk)…
 */
const PROBE_EVERY_COMMITS = 32;
/** …or once the commits on the loop held it this long in all, in milliseconds (a slow disk). */
const PROBE_AFTER_BLOCKED_MS = 10;
/**
 * Each probe that finds the loop idle doubles the wait for the next, up to this factor (every 256
 * commits or 80 ms held): a lone run on a slow disk pays for few probes, and a request arriving
 * meanwhile waits for one fsync at most, as it would without any probe.
 */
const MAX_PROBE_SCALE = 8;

/**
 * Decides whether the next transaction's fsync runs off the event loop.
 *
 * Guarantees: only *where* the fsync runs is decided here, never whether: a write is acknowledged
 * after its fsync either way (group-commit-queue.ts). The decision depends only on the samples
 * given, so a test drives it with numbers.
 */
export class CommitSyncPolicy {
  /** Whether the loop had other work during the last off-loop fsync. */
  #hadOtherWork = false;
  #commitsSinceProbe = 0;
  #blockedMsSinceProbe = 0;
  #probeScale = 1;

  /** Whether the next transaction's fsync should run off the event loop. */
  chooseOffLoop(): boolean {
    if (this.#hadOtherWork) return true;
    return ++this.#commitsSinceProbe >= PROBE_EVERY_COMMITS * this.#probeScale || this.#blockedMsSinceProbe >= PROBE_AFTER_BLOCKED_MS * this.#probeScale;
  }

  /** Notes an fsync made on the loop (or a COMMIT that made one) that took `syncMs`. */
  noteInline(syncMs: number): void {
    this.#blockedMsSinceProbe += syncMs;
  }

  /** Notes an fsync made off the loop. */
  noteOffLoop(sample: OffLoopSyncSample): void {
    const { roundTripMs, loopActiveMs } = sample;
    this.#hadOtherWork = loopActiveMs >= MIN_OTHER_WORK_MS && loopActiveMs >= OTHER_WORK_SHARE * roundTripMs;
    this.#probeScale = this.#hadOtherWork ? 1 : Math.min(MAX_PROBE_SCALE, this.#probeScale * 2);
    this.#commitsSinceProbe = 0;
    this.#blockedMsSinceProbe = 0;
  }
}
