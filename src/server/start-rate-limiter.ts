/**
 * The HTTP start budget (`maxStartsPerSecond`, core/budgets.ts): a token bucket per principal.
 * A bucket holds as many starts as the rate (the burst) and refills continuously; a request that
 * starts `n` runs takes `n` tokens, and one larger than the burst is let through when the bucket
 * is full and leaves it in debt, so the rate holds over time whatever the batch size. A refused
 * request starts nothing and learns when to come back (`Retry-After`, whole seconds).
 *
 * Memory stays bounded: a bucket that has refilled is the same as none and is dropped when the
 * map grows past `maxPrincipals`; past that, the least recently used ones go first.
 */
import { FlowError } from '../core/errors.js';

/** Options of a {@link StartRateLimiter}. */
export interface StartRateLimiterOptions {
  /** Starts per principal per second, and the burst. */
  startsPerSecond: number;
  /** The time in ms (the engine's clock, so tests drive it). */
  now: () => number;
  /** Buckets kept before idle ones are dropped (default 10,000). */
  maxPrincipals?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The limiters shared by every front end of one engine (see {@link StartRateLimiter.of}). */
const byEngine = new WeakMap<object, StartRateLimiter>();

/** Token buckets of HTTP starts, one per principal. */
export class StartRateLimiter {
  /**
   * The one limiter of `engine`, made with `options` the first time: flowrun's routes and the
   * Globus Flows API served by one process take from the same buckets, so a principal cannot
   * double its budget by starting through both ports.
   */
  static of(engine: object, options: StartRateLimiterOptions): StartRateLimiter {
    let limiter = byEngine.get(engine);
    if (limiter === undefined) {
      limiter = new StartRateLimiter(options);
      byEngine.set(engine, limiter);
    }
    return limiter;
  }

  readonly #rate: number;
  readonly #now: () => number;
  readonly #maxPrincipals: number;
  /** In least recently used order: a bucket is moved to the end when it is used. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: StartRateLimiterOptions) {
    this.#rate = options.startsPerSecond;
    this.#now = options.now;
    this.#maxPrincipals = options.maxPrincipals ?? 10_000;
  }

  /** Buckets held now (tests). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes `starts` tokens of `principalId`'s bucket, or throws LIMIT_EXCEEDED (`details: {limit:
   * 'maxStartsPerSecond', max, value, retryAfterSeconds}`) having taken nothing.
   */
  take(principalId: string, starts: number): void {
    const now = this.#now();
    const bucket = this.#refilled(this.#buckets.get(principalId), now);
    const needed = Math.min(starts, this.#rate);
    if (bucket.tokens < needed) {
      this.#keep(principalId, bucket);
      const retryAfterSeconds = Math.max(1, Math.ceil((needed - bucket.tokens) / this.#rate));
      throw new FlowError('LIMIT_EXCEEDED', `too many starts; retry in ${retryAfterSeconds} s (budget maxStartsPerSecond is ${this.#rate})`, {
        details: { limit: 'maxStartsPerSecond', max: this.#rate, value: starts, retryAfterSeconds },
      });
    }
    bucket.tokens -= starts;
    this.#keep(principalId, bucket);
  }

  /**
   * Takes `starts` tokens of `principalId`'s bucket after the fact, into debt if need be: the runs
   * a request started beyond what it could know before (the subscribers an event reached).
   */
  charge(principalId: string, starts: number): void {
    if (!(starts > 0)) return;
    const bucket = this.#refilled(this.#buckets.get(principalId), this.#now());
    bucket.tokens -= starts;
    this.#keep(principalId, bucket);
  }

  #refilled(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.#rate, at: now };
    return { tokens: Math.min(this.#rate, bucket.tokens + (Math.max(0, now - bucket.at) * this.#rate) / 1000), at: now };
  }

  #keep(principalId: string, bucket: Bucket): void {
    this.#buckets.delete(principalId);
    this.#buckets.set(principalId, bucket);
    if (this.#buckets.size <= this.#maxPrincipals) return;
    const now = this.#now();
    for (const [id, held] of this.#buckets) {
      if (this.#refilled(held, now).tokens >= this.#rate) this.#buckets.delete(id);
    }
    for (const id of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#maxPrincipals) break;
      this.#buckets.delete(id);
    }
  }
}
