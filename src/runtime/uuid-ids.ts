/**
 * Ids of runs and items: UUIDv7, so run ids sort by creation time (and index well).
 */
import { createHmac } from 'node:crypto';
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

/** UUIDv7 ids for runs, items and messages, and Node's HMAC for the ids derived from names. */
export const uuidIds: IdSource = {
  newRunId: () => ids.next(),
  newId: () => ids.next(),
  hmacSha256: (key, data) => createHmac('sha256', key).update(data).digest(),
};
