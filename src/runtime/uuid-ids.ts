/**
 * Ids of runs and items: UUIDv7, so run ids sort by creation time (and index well).
 */
import { createHash, type Hash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { IdSource } from '../core/clock.js';

/** Random bytes drawn per refill: one Web Crypto call serves 256 ids instead of one. */
const POOL_BYTES = 4096;

/**
 * UUIDv7 from pooled random bytes. `uuid` draws 16 fresh bytes through `crypto.getRandomValues`
 * for every id unless given them (4 % of a start's CPU); given them, it no longer keeps its
 * per-millisecond counter, so that counter is kept here the way `uuid` keeps it (RFC 9562
 * method 1): a new millisecond starts the 31-bit counter at a random value, an id within the same
 * millisecond (or after the clock stepped back) takes the next one, and an overflow moves on to
 * the next millisecond. Ids of one process therefore sort in the order they were made.
 */
export class PooledUuidV7 {
  readonly #pool = new Uint8Array(POOL_BYTES);
  #offset = POOL_BYTES;
  #msecs = Number.NEGATIVE_INFINITY;
  #seq = 0;

  /** A new id; `now` is the clock in ms (defaults to `Date.now()`). */
  next(now: number = Date.now()): string {
    if (this.#offset + 16 > POOL_BYTES) {
      globalThis.crypto.getRandomValues(this.#pool);
      this.#offset = 0;
    }
    const random = this.#pool.subarray(this.#offset, this.#offset + 16);
    this.#offset += 16;
    if (now > this.#msecs) {
      this.#msecs = now;
      this.#seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    } else {
      this.#seq = (this.#seq + 1) | 0;
      if (this.#seq === 0) this.#msecs++;
    }
    return uuidv7({ random, msecs: this.#msecs, seq: this.#seq });
  }
}

const ids = new PooledUuidV7();

/** SHA-256's state after the key's inner and outer pads, per key: each HMAC copies them instead of hashing the key again. */
const keyedStates = new WeakMap<Uint8Array, { inner: Hash; outer: Hash }>();

/**
 * HMAC-SHA-256 (RFC 2104) as `createHmac` computes it, from hash states that have taken the key's
 * pads already: a burst derives thousands of ids with one key, and two of the four SHA-256 blocks
 * an id costs are the same for all of them. A key is read once, when first seen: callers pass the
 * same bytes object for the same key (DerivedRunIds does) and never change it.
 */
function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  let states = keyedStates.get(key);
  if (!states) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? createHash('sha256').update(key).digest() : key);
    states = { inner: createHash('sha256').update(block.map((b) => b ^ 0x36)), outer: createHash('sha256').update(block.map((b) => b ^ 0x5c)) };
    keyedStates.set(key, states);
  }
  const inner = states.inner.copy().update(data).digest();
  return states.outer.copy().update(inner).digest();
}

/** UUIDv7 ids for runs, items and messages, and Node's HMAC for the ids derived from names. */
export const uuidIds: IdSource = {
  newRunId: () => ids.next(),
  newId: () => ids.next(),
  hmacSha256,
};
