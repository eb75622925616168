import { describe, expect, it } from 'vitest';
import { RecentMap } from './recent-map.js';

describe('RecentMap', () => {
  it('keeps the most recently set entries, never more than its capacity', () => {
    const map = new RecentMap<string, { n: number }>(8);
    for (let n = 0; n < 100; n++) {
      map.set(`k${n}`, { n });
      expect(map.size).toBeLessThanOrEqual(8);
      // The last capacity / 2 entries set are always there.
      for (let back = 0; back < 4 && back <= n; back++) expect(map.get(`k${n - back}`)).toEqual({ n: n - back });
    }
    expect(map.has('k0')).toBe(false);
    expect(map.get('k0')).toBeUndefined();
  });

  it('makes an entry set again young, so it outlives entries set after it the first time', () => {
    const map = new RecentMap<string, { n: number }>(4);
    map.set('a', { n: 1 });
    map.set('b', { n: 2 }); // young full: a and b become old
    map.set('a', { n: 3 }); // a young again, b stays old
    map.set('c', { n: 4 }); // young full: b is dropped
    expect(map.get('a')).toEqual({ n: 3 });
    expect(map.has('b')).toBe(false);
    expect(map.get('c')).toEqual({ n: 4 });
    expect(map.size).toBe(2);
  });

  it('deletes from either generation', () => {
    const map = new RecentMap<string, { n: number }>(4);
    map.set('a', { n: 1 });
    map.set('b', { n: 2 });
    map.set('c', { n: 3 });
    map.delete('a');
    map.delete('c');
    expect(map.has('a')).toBe(false);
    expect(map.has('c')).toBe(false);
    expect(map.get('b')).toEqual({ n: 2 });
  });
});
