import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { DerivedRunIds } from '../core/engine/start/derived-run-ids.js';
import { PooledUuidV7, uuidIds } from './uuid-ids.js';

describe('PooledUuidV7', () => {
  it('makes valid, distinct UUIDv7 ids that sort in the order they were made, within one millisecond and across pool refills', () => {
    const ids = new PooledUuidV7();
    const made = Array.from({ length: 1000 }, () => ids.next(1_800_000_000_000));
    expect(made.every((id) => validate(id) && version(id) === 7)).toBe(true);
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
  });

  it('keeps ids in creation order when the clock steps back', () => {
    const ids = new PooledUuidV7();
    const made = [ids.next(1_800_000_000_500), ids.next(1_800_000_000_100), ids.next(1_800_000_000_100), ids.next(1_800_000_000_600)];
    expect([...made].sort()).toEqual(made);
  });

  it('puts the millisecond in the id, so ids of later milliseconds sort later', () => {
    const ids = new PooledUuidV7();
    const early = ids.next(Date.UTC(2026, 0, 1));
    const late = ids.next(Date.UTC(2026, 0, 1) + 1);
    expect(early.slice(0, 13).replace('-', '')).toBe(Date.UTC(2026, 0, 1).toString(16).padStart(12, '0'));
    expect(late > early).toBe(true);
    expect(uuidIds.newRunId()).not.toBe(uuidIds.newRunId());
  });
});

describe('uuidIds.hmacSha256', () => {
  it('derives the run ids Web Crypto derives, so engines with either id source agree on a slot\'s or an event\'s run', async () => {
    const secret = new Uint8Array(32).fill(7);
    const fast = new DerivedRunIds(async () => secret, uuidIds.hmacSha256);
    const webCrypto = new DerivedRunIds(async () => secret);
    expect(uuidIds.hmacSha256).toBeTypeOf('function');
    expect(await fast.forScheduleSlot('ana', 'nightly', 1_767_225_600_000, 'slot')).toBe(await webCrypto.forScheduleSlot('ana', 'nightly', 1_767_225_600_000, 'slot'));
    expect(await fast.forEvent('e', 'f', { on: 'x', run: 'main' }, 'bob')).toBe(await webCrypto.forEvent('e', 'f', { on: 'x', run: 'main' }, 'bob'));
    expect(await fast.forIdempotencyKey('ana', 'k-1')).toBe(await webCrypto.forIdempotencyKey('ana', 'k-1'));
    // A key longer than SHA-256's block is hashed first, as HMAC says.
    const long = new Uint8Array(100).fill(9);
    expect(await new DerivedRunIds(async () => long, uuidIds.hmacSha256).forEvent('e', 'f', { on: 'x', run: 'main' }, null)).toBe(await new DerivedRunIds(async () => long).forEvent('e', 'f', { on: 'x', run: 'main' }, null));
  });
});

describe('DerivedRunIds.forScheduleSlot', () => {
  it('begins a slot\'s run id with the slot\'s millisecond, so later slots\' runs sort later, and keeps the id apart from the older form', async () => {
    const ids = new DerivedRunIds(async () => new Uint8Array(32).fill(3), uuidIds.hmacSha256);
    const slot = Date.UTC(2026, 0, 5, 10);
    const first = await ids.forScheduleSlot('ana', 'nightly', slot, 'slot');
    expect(validate(first) && version(first)).toBe(8);
    expect(first.replace('-', '').slice(0, 12)).toBe(slot.toString(16).padStart(12, '0'));
    expect(await ids.forScheduleSlot('ana', 'nightly', slot + 60_000, 'slot') > first).toBe(true);
    expect(await ids.forScheduleSlot('ana', 'nightly', slot, 'slot')).toBe(first);
    const others = await Promise.all([ids.forScheduleSlot('bob', 'nightly', slot, 'slot'), ids.forScheduleSlot('ana', 'weekly', slot, 'slot'), ids.forScheduleSlot('ana', 'nightly', slot, 'trigger'), ids.legacyForScheduleSlot('ana', 'nightly', slot, 'slot')]);
    expect(new Set([first, ...others]).size).toBe(5);
  });
});
