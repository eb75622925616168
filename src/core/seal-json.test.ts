import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneJson } from './json.js';
import { jsonSize } from './json-size.js';
import { sealJson } from './seal-json.js';
import { isSealed, sealedSize } from './sealed-values.js';

const bytes = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value) ?? 'null').length;
const big = (): Record<string, unknown> => ({ s: 0, lines: Array.from({ length: 200 }, (_, k) => ({ sku: `sku-${k}`, name: `Item é ${k}`, qty: k % 7, price: k + 0.5, tags: ['a', 'b'] })) });

describe('sealJson', () => {
  it('returns a deeply frozen copy: the caller keeps its own object, mutable, and changing it changes nothing sealed', () => {
    const input = big();
    const sealed = sealJson(input, { path: 'input', maxDepth: 100 });
    expect(sealed).toEqual(input);
    expect(sealed).not.toBe(input);
    expect(Object.isFrozen(sealed) && Object.isFrozen((sealed.lines as unknown[])[3]) && Object.isFrozen(((sealed.lines as { tags: unknown[] }[])[3]!).tags)).toBe(true);
    (input.lines as { qty: number }[])[3]!.qty = 99;
    expect((sealed.lines as { qty: number }[])[3]!.qty).toBe(3);
  });

  it('knows the JSON size of what it sealed, exactly, so budgets measure it without walking it again', () => {
    const sealed = sealJson(big(), { path: 'input', maxDepth: 100 });
    expect(isSealed(sealed)).toBe(true);
    expect(sealedSize(sealed)).toBe(bytes(sealed));
    expect(jsonSize({ frames: [{ item: sealed }] })).toBe(bytes({ frames: [{ item: sealed }] }));
  });

  it('is shared, not copied, by cloneJson', () => {
    const sealed = sealJson(big(), { path: 'input', maxDepth: 100 });
    const copy = cloneJson({ run: { input: sealed }, other: [1] });
    expect(copy.run.input).toBe(sealed);
  });

  it('refuses a value nested deeper than the limit with INVALID_INPUT naming the path', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 101; i++) deep = { a: deep };
    expect(() => sealJson(deep, { path: 'input', maxDepth: 100 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details: expect.objectContaining({ limit: 100 }) }));
    const sealed = sealJson({ a: 1 }, { path: 'input', maxDepth: 100 });
    // A sealed part counts its own levels where it is put again.
    expect(() => sealJson({ x: { y: sealed } }, { path: 'input', maxDepth: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('leaves what is not plain data mutable and unshared, as before: undefined properties, dates, functions', () => {
    const withUndefined = sealJson({ a: undefined, b: { c: 1 } }, { path: 'input', maxDepth: 100 });
    expect(Object.isFrozen(withUndefined)).toBe(false);
    expect(withUndefined).toHaveProperty('a', undefined);
    const withDate = sealJson({ at: new Date(0) }, { path: 'input', maxDepth: 100 });
    expect(withDate.at).toEqual(new Date(0));
    expect(isSealed(withDate)).toBe(false);
  });

  it('gives up on a value larger than maxBytes (a doubling value) after checking its nesting, and returns it as it is', () => {
    let d: unknown = [];
    for (let i = 0; i < 40; i++) d = [d, d];
    expect(sealJson(d, { path: 'input', maxDepth: 100, maxBytes: 1024 * 1024 })).toBe(d);
  });

  it('shares a value its caller froze all the way down instead of copying it, measured and registered the same', () => {
    const deepFreeze = <T>(value: T): T => {
      if (typeof value === 'object' && value !== null) for (const part of Object.values(value)) deepFreeze(part);
      return Object.freeze(value);
    };
    const input = deepFreeze(big());
    const sealed = sealJson(input, { path: 'input', maxDepth: 100 });
    expect(sealed).toBe(input);
    expect(sealedSize(sealed)).toBe(bytes(input));
    // Sealed once, it is known: a second run with the same input walks nothing.
    expect(sealJson({ wrapper: input }, { path: 'input', maxDepth: 100 }).wrapper).toBe(input);
    // The nesting limit and the size bound hold for it as for anything else.
    expect(() => sealJson(deepFreeze({ a: { b: { c: {} } } }), { path: 'input', maxDepth: 3 })).toThrow(/input\.a\.b\.c.*nested more than 3/);
  });

  it('copies a frozen value that holds a part its caller can still change, and freezes the copy', () => {
    const mutable = { qty: 1 };
    const input = Object.freeze({ lines: Object.freeze([Object.freeze({ qty: 2 }), mutable]) });
    const sealed = sealJson(input, { path: 'input', maxDepth: 100 });
    expect(sealed).not.toBe(input);
    expect(sealed).toEqual(input);
    mutable.qty = 5;
    expect(sealed.lines[1]!.qty).toBe(1);
    expect(Object.isFrozen(sealed.lines[1])).toBe(true);
  });

  it('shares the copy it made of an object handed in again unchanged, and copies again what changed since', () => {
    const input = big();
    const first = sealJson(input, { path: 'input', maxDepth: 100 });
    expect(sealJson(input, { path: 'input', maxDepth: 100 })).toBe(first);
    expect(sealJson({ run: 2, input }, { path: 'input', maxDepth: 100 }).input).toBe(first);
    // Held to the limits of the walk that meets it again, like any sealed part.
    expect(() => sealJson({ input }, { path: 'input', maxDepth: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(sealJson({ input }, { path: 'input', maxDepth: 100, maxBytes: 1024 }).input).toBe(input);

    (input.lines as { qty: number }[])[3]!.qty = 99;
    const changed = sealJson(input, { path: 'input', maxDepth: 100 });
    expect(changed).not.toBe(first);
    expect((changed.lines as { qty: number }[])[3]!.qty).toBe(99);
    expect((first.lines as { qty: number }[])[3]!.qty).toBe(3);
    expect(sealedSize(changed)).toBe(bytes(input));

    // Whatever a fresh copy would hold differently: a key moved, -0 for 0, a member added or gone.
    const doc: Record<string, unknown> = { a: 'x'.repeat(600), n: 0, b: ['y'.repeat(600)] };
    const before = sealJson(doc, { path: 'input', maxDepth: 100 });
    delete doc.a;
    doc.a = 'x'.repeat(600);
    expect(Object.keys(sealJson(doc, { path: 'input', maxDepth: 100 }))).toEqual(['n', 'b', 'a']);
    doc.n = -0;
    expect(Object.is(sealJson(doc, { path: 'input', maxDepth: 100 }).n, -0)).toBe(true);
    (doc.b as unknown[]).push(1);
    expect(sealJson(doc, { path: 'input', maxDepth: 100 }).b).toEqual(['y'.repeat(600), 1]);
    doc.gone = undefined;
    expect(Object.isFrozen(sealJson(doc, { path: 'input', maxDepth: 100 }))).toBe(false);
    delete doc.gone;
    doc.f = () => 1;
    expect(sealJson(doc, { path: 'input', maxDepth: 100 })).not.toHaveProperty('f');
    expect(before).toEqual({ a: 'x'.repeat(600), n: 0, b: ['y'.repeat(600)] });
  });

  it('never gives back an earlier copy of an object changed in place since (property)', () => {
    const part = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ minLength: 500, maxLength: 1200 }));
    const edit = fc.record({ at: fc.nat(), key: fc.constantFrom('a', 'b', 'c', '0', '__proto__'), kind: fc.constantFrom('set', 'delete', 'move', 'push', 'pop', 'none'), value: part });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.oneof(part, fc.array(part, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 3 }), part, { maxKeys: 4 }))), fc.array(edit, { maxLength: 4 }), (root, edits) => {
        const value = { pad: 'p'.repeat(1100), root };
        const first = sealJson(value, { path: 'input', maxDepth: 100 });
        for (const e of edits) {
          const containers: object[] = [];
          const collect = (v: unknown): void => {
            if (typeof v !== 'object' || v === null) return;
            containers.push(v);
            for (const member of Object.values(v)) collect(member);
          };
          collect(value);
          const target = containers[e.at % containers.length] as Record<string, unknown> & unknown[];
          if (e.kind === 'set') Object.defineProperty(target, e.key, { value: structuredClone(e.value), enumerable: true, writable: true, configurable: true });
          else if (e.kind === 'delete') delete target[e.key];
          else if (e.kind === 'move' && Object.hasOwn(target, e.key)) {
            const moved = target[e.key];
            delete target[e.key];
            Object.defineProperty(target, e.key, { value: moved, enumerable: true, writable: true, configurable: true });
          } else if (e.kind === 'push' && Array.isArray(target)) target.push(structuredClone(e.value));
          else if (e.kind === 'pop' && Array.isArray(target)) target.pop();
        }
        const again = sealJson(value, { path: 'input', maxDepth: 100 });
        expect(JSON.stringify(again)).toBe(JSON.stringify(value));
        // What a first copy of it gives: made from a clone, which no earlier copy was made of.
        expect(again).toStrictEqual(sealJson(structuredClone(value), { path: 'input', maxDepth: 100 }));
        // Measured exactly, whichever parts were copied again: the budgets read this size.
        if (isSealed(again)) expect(sealedSize(again)).toBe(bytes(again));
        if (JSON.stringify(value) === JSON.stringify(first) && edits.every((e) => e.kind === 'none')) expect(again).toBe(first);
      }),
      { numRuns: 300 },
    );
  });

  it('copies and measures exactly any document, siblings whose keys differ at the same place included (property)', () => {
    const key = fc.oneof(fc.constantFrom('sku', 'name', 'qty', 'k"ey', 'é', '😀', '\n'), fc.string({ maxLength: 4 }));
    const line = fc.dictionary(key, fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 })), { maxKeys: 5 });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.array(line, { maxLength: 3 }), { maxLength: 3 }), (lines, nested) => {
        const value = { pad: 'p'.repeat(1100), lines, nested };
        const sealed = sealJson(value, { path: 'input', maxDepth: 100 });
        expect(JSON.stringify(sealed)).toBe(JSON.stringify(value));
        expect(sealedSize(sealed)).toBe(bytes(value));
      }),
      { numRuns: 300 },
    );
  });

  it('copies arrays as JSON has them: holes and undefined as null, never the caller\'s subclass or extra properties', () => {
    class Lines extends Array<unknown> {}
    const lines = Lines.from([1, { a: 2 }]);
    const holey = [1, , 3];
    const tagged = Object.assign([1, 2], { note: 'not data' });
    const sealed = sealJson({ lines, holey, tagged, pad: 'p'.repeat(1100) }, { path: 'input', maxDepth: 100 });
    expect(Object.getPrototypeOf(sealed.lines)).toBe(Array.prototype);
    expect(sealed.lines).toEqual([1, { a: 2 }]);
    expect(JSON.stringify(sealed.holey)).toBe('[1,null,3]');
    expect(sealed.tagged).not.toHaveProperty('note');
    expect(jsonSize(sealed)).toBe(bytes({ lines: [1, { a: 2 }], holey: [1, null, 3], tagged: [1, 2], pad: 'p'.repeat(1100) }));
  });
});
