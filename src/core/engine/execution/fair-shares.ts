/**
 * Fair shares of one engine's slots (`maxConcurrentRuns`): no run tree executes more than half
 * of them at once and no principal (a run's `runOwner`) more than three quarters, so a fork bomb,
 * or one user's many loops, always leaves slots for everyone else's runs. Counted here: runs
 * executing in this engine, and runs leased to it that are about to (a reservation, which lapses
 * with its lease if the run never starts here). The scheduler asks before it leases, claims or
 * dispatches a run; claims pass over the trees and owners that are full ({@link FairShares.skip}).
 *
 * The shares do not waste slots: when the runs passed over are the only ones ready, a last claim
 * lets them fill the free slots but a {@link FairShares.reserve} (one in sixteen), which another
 * user's new run takes at once — not after a fork tree's run ended or gave its slot back (issue 12:
 * a fork bomb filled every slot, and a user's 3-step run waited for one in the queue, behind the
 * tree's writes). Such a run past its share gives its slot back every 256 steps
 * (it goes back to the store, ready), where the next claim takes other users' runs first. A run
 * blocked in a module keeps its slot until the module returns.
 */
import type { Clock } from '../../clock.js';
import type { ClaimSkip } from '../../store.js';

/** Whose run it is, for the shares: its tree and its owner. */
export interface RunParty {
  treeId: string;
  runOwner: string;
}

interface Held {
  party: RunParty;
  /** When a reservation lapses; null while the run executes here. */
  expiresAt: number | null;
}

/** The per-tree and per-owner counts of one engine's slots. */
export class FairShares {
  /** Most runs of one tree executing at once here: half the slots (at least 1). */
  readonly treeShare: number;
  /** Most runs of one owner executing at once here: three quarters of the slots (at least 1). */
  readonly ownerShare: number;
  /** Slots the last claim for runs past their share leaves free for others' new runs: one in sixteen (none below 16 slots). */
  readonly reserve: number;
  readonly #clock: Clock;
  readonly #held = new Map<string, Held>();
  readonly #reservations = new Set<string>();
  /** No reservation lapses before this time: checks in between skip the scan (they run for every queued run). */
  #nextLapseAt = Number.POSITIVE_INFINITY;
  readonly #trees = new Map<string, number>();
  readonly #owners = new Map<string, number>();

  constructor(options: { maxConcurrentRuns: number; clock: Clock }) {
    this.treeShare = Math.max(1, Math.ceil(options.maxConcurrentRuns / 2));
    this.ownerShare = Math.max(1, Math.ceil((options.maxConcurrentRuns * 3) / 4));
    this.reserve = Math.floor(options.maxConcurrentRuns / 16);
    this.#clock = options.clock;
  }

  /** True when one more run of `party` would pass its tree's or its owner's share. */
  isFull(party: RunParty): boolean {
    this.#lapse();
    return (this.#trees.get(party.treeId) ?? 0) >= this.treeShare || (this.#owners.get(party.runOwner) ?? 0) >= this.ownerShare;
  }

  /** True when one more run of owner `runOwner` would pass its share. */
  isOwnerFull(runOwner: string): boolean {
    this.#lapse();
    return (this.#owners.get(runOwner) ?? 0) >= this.ownerShare;
  }

  /** True when `party`'s tree or owner holds more than its share (slots given while nobody else waited). */
  isOver(party: RunParty): boolean {
    this.#lapse();
    return (this.#trees.get(party.treeId) ?? 0) > this.treeShare || (this.#owners.get(party.runOwner) ?? 0) > this.ownerShare;
  }

  /** Counts run `runId` of `party`: executing (no `expiresAt`) or reserved until `expiresAt`. Counting it again only updates it. */
  hold(runId: string, party: RunParty, expiresAt: number | null = null): void {
    const held = this.#held.get(runId);
    if (held) {
      // A reservation becomes an execution; an execution is never downgraded.
      if (expiresAt === null) {
        held.expiresAt = null;
        this.#reservations.delete(runId);
      }
      return;
    }
    this.#held.set(runId, { party, expiresAt });
    if (expiresAt !== null) {
      this.#reservations.add(runId);
      this.#nextLapseAt = Math.min(this.#nextLapseAt, expiresAt);
    }
    this.#trees.set(party.treeId, (this.#trees.get(party.treeId) ?? 0) + 1);
    this.#owners.set(party.runOwner, (this.#owners.get(party.runOwner) ?? 0) + 1);
  }

  /** Stops counting run `runId` (it ended or waits, or was not claimed); `onlyReserved`: only if it is not executing. */
  release(runId: string, options: { onlyReserved?: boolean } = {}): void {
    const held = this.#held.get(runId);
    if (!held || (options.onlyReserved && held.expiresAt === null)) return;
    this.#held.delete(runId);
    this.#reservations.delete(runId);
    decrement(this.#trees, held.party.treeId);
    decrement(this.#owners, held.party.runOwner);
  }

  /** The trees and owners a claim must pass over: those at their share. */
  skip(): ClaimSkip {
    this.#lapse();
    return {
      treeIds: [...this.#trees].filter(([, n]) => n >= this.treeShare).map(([id]) => id),
      runOwners: [...this.#owners].filter(([, n]) => n >= this.ownerShare).map(([id]) => id),
    };
  }

  /**
   * How many runs one claim (passing over {@link skip}) may take out of `free` slots without any
   * tree or owner passing its share, whoever the claimed runs belong to: no more than the least
   * room left to a tree or owner that has runs here, nor than a share itself.
   */
  claimLimit(free: number): number {
    let limit = Math.min(free, this.treeShare, this.ownerShare);
    for (const n of this.#trees.values()) if (n < this.treeShare) limit = Math.min(limit, this.treeShare - n);
    for (const n of this.#owners.values()) if (n < this.ownerShare) limit = Math.min(limit, this.ownerShare - n);
    return limit;
  }

  #lapse(): void {
    if (this.#reservations.size === 0) return;
    const now = this.#clock.now();
    if (now < this.#nextLapseAt) return;
    let next = Number.POSITIVE_INFINITY;
    for (const runId of this.#reservations) {
      const expiresAt = this.#held.get(runId)?.expiresAt ?? 0;
      if (expiresAt <= now) this.release(runId);
      else next = Math.min(next, expiresAt);
    }
    this.#nextLapseAt = next;
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 0) - 1;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
