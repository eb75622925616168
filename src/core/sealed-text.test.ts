import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cloneJson } from './json.js';
import { jsonSize } from './json-size.js';
import { sealJson } from './seal-json.js';
import { jsonOf, sealInput } from './sealed-text.js';
import { isSealed, sealedSize } from './sealed-values.js';

const bytes = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value) ?? 'null').length;
/** An input shaped as a run's usually is: small params, and a param holding a large list (≥ 64 KiB of JSON). */
const big = (extra: unknown = 'end'): { s: number; payload: { note: string; lines: unknown[] } } => ({
  s: 1,
  payload: { note: 'é ✓', lines: [...Array.from({ length: 1500 }, (_, k) => ({ sku: `sku-${k}`, name: `Item é ${k}`, qty: k % 7, price: k + 0.5, tags: ['a', 'b'] })), extra] },
});
const limits = { path: 'input', maxDepth: 64, maxBytes: 16 * 1024 * 1024 };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('sealInput', () => {
  it('gives the data sealJson gives, frozen, sealed with its exact JSON size, and shared by cloneJson', () => {
    // Non-ASCII (é, ✓, a surrogate pair) and what JSON escapes: sizes in UTF-8 bytes of the JSON.
    const odd = '😀 ✓ \u2028 "q" \\ \u0001';
    const input = big(odd);
    const sealed = sealInput(input, limits);
    expect(sealed).toEqual(input);
    expect(sealed).toEqual(sealJson(big(odd), limits));
    expect(Object.isFrozen(sealed) && Object.isFrozen(sealed.payload) && Object.isFrozen(sealed.payload.lines) && Object.isFrozen(sealed.payload.lines[3])).toBe(true);
    expect(isSealed(sealed) && isSealed(sealed.payload) && isSealed(sealed.payload.lines)).toBe(true);
    expect(sealedSize(sealed)).toBe(bytes(input));
    expect(sealedSize(sealed.payload)).toBe(bytes(input.payload));
    expect(sealedSize(sealed.payload.lines)).toBe(bytes(input.payload.lines));
    expect(jsonSize({ frames: [{ item: sealed }] })).toBe(bytes({ frames: [{ item: input }] }));
    expect(cloneJson({ input: sealed }).input).toBe(sealed);
  });

  it('keeps the large list as its JSON text, parsed once, the first time it is read', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const sealed = sealInput(big(), limits);
    expect(parse).not.toHaveBeenCalled();
    expect(sealed.s).toBe(1);
    expect(sealed.payload.note).toBe('é ✓');
    expect(parse).not.toHaveBeenCalled();
    const lines = sealed.payload.lines;
    expect(lines).toHaveLength(1501);
    expect(sealed.payload.lines).toBe(lines);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('is not changed by the caller changing its object afterwards, before or after the list is read', () => {
    const input = big();
    const sealed = sealInput(input, limits);
    (input.payload.lines[3] as { qty: number }).qty = 99;
    input.payload.lines.push('more');
    input.payload.note = 'changed';
    expect((sealed.payload.lines[3] as { qty: number }).qty).toBe(3);
    expect(sealed.payload.lines).toHaveLength(1501);
    expect(sealed.payload.note).toBe('é ✓');
    (input.payload.lines[4] as { qty: number }).qty = 99;
    expect((sealed.payload.lines[4] as { qty: number }).qty).toBe(4);
  });

  it('writes the JSON the caller handed in (jsonOf), its sealed params and the bound input holding them included', () => {
    const input = big();
    const sealed = sealInput(input, limits);
    const parse = vi.spyOn(JSON, 'parse');
    expect(jsonOf(sealed)).toBe(JSON.stringify(input));
    expect(jsonOf(sealed.payload)).toBe(JSON.stringify(input.payload));
    // What binding makes of it: a new sealed object holding the sealed params.
    const bound = sealJson({ ...sealed, extra: [1, 2] }, { path: 'input', maxDepth: 1000 });
    expect(jsonOf(bound)).toBe(JSON.stringify({ ...input, extra: [1, 2] }));
    expect(parse).not.toHaveBeenCalled();
  });

  it('gives the same sealed value for an object handed in again unchanged, and a new one once it changed', () => {
    const input = big();
    const first = sealInput(input, limits);
    expect(sealInput(input, limits)).toBe(first);
    (input.payload.lines[0] as { qty: number }).qty = 42;
    const second = sealInput(input, limits);
    expect(second).not.toBe(first);
    expect((second.payload.lines[0] as { qty: number }).qty).toBe(42);
    expect((first.payload.lines[0] as { qty: number }).qty).toBe(0);
  });

  it('refuses a list nested too deep, or holding a cycle, with the error sealJson gives', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = { a: deep };
    const error = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('did not throw');
    };
    const expected = error(() => sealJson(big(deep), limits));
    expect(error(() => sealInput(big(deep), limits))).toEqual(expected);
    expect((expected as { code: string }).code).toBe('INVALID_INPUT');
    const cyclic = big();
    const loop: Record<string, unknown> = { x: 1 };
    loop.self = loop;
    cyclic.payload.lines.push(loop);
    const expectedCycle = error(() => sealJson(cyclic, limits));
    expect(error(() => sealInput(cyclic, limits))).toEqual(expectedCycle);
  });

  it('returns an input over maxBytes as it is, as sealJson does', () => {
    // (sealJson's count is from below, and stops the walk: the budget itself is applied to the run's state, measured exactly.)
    const input = big();
    const max = 10_000;
    expect(sealInput(input, { ...limits, maxBytes: max })).toBe(input);
    const other = big();
    expect(sealJson(other, { ...limits, maxBytes: max })).toBe(other);
    expect(sealedSize(sealInput(big(), { ...limits, maxBytes: bytes(input) }))).toBe(bytes(input));
  });

  it('seals what JSON would not write back as it is (undefined, functions, NaN, -0, a Date, a hole) as sealJson does', () => {
    const hiddenToJson = Object.defineProperty({ a: 1 }, 'toJSON', { value: () => 'hidden', enumerable: false });
    const odd = [hiddenToJson, { toJSON: () => 'own' }, undefined, () => 1, Number.NaN, -0, Number.POSITIVE_INFINITY, new Date(0), new Map([[1, 2]]), { u: undefined }, { f: () => 1 }, [1, , 3], 10n];
    for (const extra of odd) {
      const viaText = (() => {
        try {
          return { value: sealInput(big(extra), limits) };
        } catch (error) {
          return { error };
        }
      })();
      const viaCopy = (() => {
        try {
          return { value: sealJson(big(extra), limits) };
        } catch (error) {
          return { error };
        }
      })();
      expect(viaText).toEqual(viaCopy);
      if ('value' in viaText) {
        const last = (v: unknown): unknown => (v as { payload: { lines: unknown[] } }).payload.lines[1500];
        if (typeof extra === 'number') expect(Object.is(last(viaText.value), last(viaCopy.value))).toBe(true);
        expect(Object.isFrozen(viaText.value)).toBe(Object.isFrozen(viaCopy.value));
      }
    }
  });

  it('gives sealJson’s data and size for any JSON data in the list, or around it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), (item, params) => {
        const make = (): Record<string, unknown> => ({ ...params, payload: { ...big(item).payload } });
        const viaText = sealInput(make(), limits);
        const viaCopy = sealJson(make(), limits);
        expect(viaText).toEqual(viaCopy);
        expect(sealedSize(viaText)).toBe(sealedSize(viaCopy));
        expect(sealedSize(viaText)).toBe(bytes(viaCopy));
        expect(jsonOf(viaText)).toBe(JSON.stringify(viaCopy));
      }),
      { numRuns: 60 },
    );
  });
});
