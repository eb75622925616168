import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSize } from './json-size.js';

const bytes = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value) ?? 'null').length;

describe('jsonSize', () => {
  it('counts exactly the bytes JSON.stringify writes', () => {
    const samples: unknown[] = [
      null, true, false, 0, 7, -12.5, 1e21, 123456789, NaN, Infinity, '', 'plain', 'quote " and \\ backslash',
      'tab\tnew\nline\r\u0001\u001f\u007f', 'é ü ß', '日本語', 'emoji 😀 pair', 'lone \ud800 high', 'lone \udc00 low',
      [], [1, 'a', null], [undefined, () => 1], {}, { a: 1, b: undefined, c: () => 2, 'k"ey': [1, { x: 'y' }] },
      { nested: { deeper: { list: [1, 2, 3], text: 'x'.repeat(1000) } } }, new Date(0), { at: new Date(1e12) },
    ];
    for (const sample of samples) expect(jsonSize(sample), JSON.stringify(sample)).toBe(bytes(sample));
    expect(jsonSize(undefined)).toBe(4);
  });

  it('counts any string, and any key, exactly as JSON.stringify writes it: escapes, every plane, lone surrogates', () => {
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udfff'), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 40 });
    fc.assert(fc.property(text, text, (value, key) => jsonSize(value) === bytes(value) && jsonSize({ [key]: value }) === bytes({ [key]: value })), { numRuns: 2000 });
  });

  it('counts a shared reference every time it occurs', () => {
    const leaf = { v: 'abc' };
    const value = [leaf, leaf, { again: leaf }];
    expect(jsonSize(value)).toBe(bytes(value));
  });

  it('stops early on a value that doubles itself 2^28 times', () => {
    let d: unknown = [];
    for (let i = 0; i < 28; i++) d = [d, d];
    const size = jsonSize(d, 1024 * 1024);
    expect(size).toBeGreaterThan(1024 * 1024);
    // Past the bound by at most one recurring member measured whole: far from the 1.3 GB it would write.
    expect(size).toBeLessThan(2 * 1024 * 1024);
  });

  it('measures a value that holds one array 2^40 times over exactly, each recurring array once', () => {
    // [] is 2 bytes; [d, d] is 2 × size(d) + 3.
    let d: unknown = [];
    let expected = 2;
    for (let i = 0; i < 40; i++) {
      d = [d, d];
      expected = 2 * expected + 3;
    }
    expect(jsonSize(d)).toBe(expected);
    const inObjects = { a: d, b: [d, { c: d }] };
    expect(jsonSize(inObjects)).toBe(JSON.stringify({ a: [], b: [[], { c: [] }] }).length + 3 * (expected - 2));
  });

  it('counts shared members of a large value every time, as written', () => {
    const shared = { name: 'é', list: [1, 2, 3] };
    const value = Array.from({ length: 3000 }, (_, i) => (i % 2 === 0 ? shared : { i, shared }));
    expect(jsonSize(value)).toBe(bytes(value));
    const cyclic: unknown[] = Array.from({ length: 2000 }, () => [1]);
    cyclic.push(cyclic);
    expect(jsonSize(cyclic, 50_000)).toBeGreaterThan(50_000);
  });

  it('ends on a cycle and on nesting far deeper than the stack', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonSize(cyclic, 10_000)).toBeGreaterThan(10_000);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(jsonSize(deep)).toBe(400_001);
  });
});
