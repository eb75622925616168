/**
 * A queue served in turns: principals (a run's `runOwner`) take turns, and within a principal its
 * run trees take turns; within one tree, first in first out. One principal's thousand queued
 * entries therefore delay another principal's next entry by one of theirs, not by all of them —
 * whatever order the entries arrived in. Used for the runs waiting for a slot (run-scheduler.ts)
 * and for the executors waiting for a turn of the event loop (turn-gate.ts).
 */
import type { RunParty } from './fair-shares.js';

/** Entries queued without a party (a run known by id only) share this key. */
const NOBODY = '';

/** A queue whose entries are taken round-robin by owner, then by tree. */
export class FairQueue<T> {
  /** By owner, then by tree; a Map's order is the rotation: the key served last goes to the end. */
  readonly #owners = new Map<string, Map<string, T[]>>();
  #size = 0;

  /** Entries queued. */
  get size(): number {
    return this.#size;
  }

  /** Queues `entry` behind the others of its tree. */
  push(entry: T, party?: RunParty): void {
    const ownerKey = party?.runOwner ?? NOBODY;
    const treeKey = party?.treeId ?? NOBODY;
    let trees = this.#owners.get(ownerKey);
    if (!trees) this.#owners.set(ownerKey, (trees = new Map()));
    const entries = trees.get(treeKey);
    if (entries) entries.push(entry);
    else trees.set(treeKey, [entry]);
    this.#size += 1;
  }

  /**
   * Takes the next entry in turn: the first owner in rotation with an acceptable tree, that tree's
   * oldest entry; the owner and tree served go to the back of their rotations. Trees `accept`
   * refuses (at their share) keep their place. `acceptOwner` refuses a whole owner at once
   * (at its share), so a take costs a look per owner, not per queued tree of a full owner — a
   * burst of 10,000 one-run trees of one user is not scanned at every take. Undefined when no
   * entry is acceptable.
   */
  take(accept: (entry: T) => boolean = () => true, acceptOwner?: (runOwner: string) => boolean): T | undefined {
    for (const [ownerKey, trees] of this.#owners) {
      // Entries without a party share NOBODY's key whatever their owner: only `accept` judges them.
      if (acceptOwner && ownerKey !== NOBODY && !acceptOwner(ownerKey)) continue;
      for (const [treeKey, entries] of trees) {
        if (!accept(entries[0]!)) continue;
        const entry = entries.shift()!;
        this.#size -= 1;
        trees.delete(treeKey);
        if (entries.length > 0) trees.set(treeKey, entries);
        this.#owners.delete(ownerKey);
        if (trees.size > 0) this.#owners.set(ownerKey, trees);
        return entry;
      }
    }
    return undefined;
  }

  /** Drops every entry. */
  clear(): void {
    this.#owners.clear();
    this.#size = 0;
  }
}
