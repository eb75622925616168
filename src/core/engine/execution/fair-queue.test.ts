import { describe, expect, it } from 'vitest';
import { FairQueue } from './fair-queue.js';

describe('FairQueue', () => {
  it('serves owners in turn, then trees in turn, first in first out within a tree', () => {
    const queue = new FairQueue<string>();
    for (const [entry, runOwner, treeId] of [['a1', 'a', 't1'], ['a2', 'a', 't1'], ['a3', 'a', 't2'], ['b1', 'b', 't3']] as const) queue.push(entry, { runOwner, treeId });
    expect([queue.take(), queue.take(), queue.take(), queue.take(), queue.take()]).toEqual(['a1', 'b1', 'a3', 'a2', undefined]);
  });

  it("passes over an owner at its share in one look, not one per queued tree: a burst of one user's 10,000 runs costs each take nothing", () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 10_000; i++) queue.push(`u${i}`, { runOwner: 'burst', treeId: `tree-${i}` });
    queue.push('v', { runOwner: 'other', treeId: 'tree-v' });
    let looked = 0;
    const accept = (): boolean => {
      looked += 1;
      return true;
    };
    expect(queue.take(accept, (owner) => owner !== 'burst')).toBe('v');
    expect(queue.take(accept, (owner) => owner !== 'burst')).toBeUndefined();
    expect(looked).toBe(1);
    expect(queue.size).toBe(10_000);
    // Once the owner has room again, its runs come out in order.
    expect(queue.take(accept, () => true)).toBe('u0');
  });

  it('judges entries queued without a party by the entry alone, whatever the owners', () => {
    const queue = new FairQueue<string>();
    queue.push('anonymous');
    expect(queue.take(() => true, () => false)).toBe('anonymous');
  });
});
