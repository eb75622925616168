/**
 * The serialized answers of `GET /runs/{id}`, kept per principal and request target while the
 * store says nothing it reads has changed (`Store.readGeneration`). A repeated read then costs
 * authentication and one generation check instead of the run, principal and flow lookups, the
 * permission check, the view and its JSON.
 *
 * Why this is exact: an answer is stored under the generation read *before* any of the reads that
 * built it, and served only while the store still returns that generation. Everything the answer
 * depends on comes from the store (the run, its roles, the principal and its groups, the flow
 * version, display names) or is part of the key (the principal as authenticated — id and asserted
 * groups — and the path with its query). Authentication runs on every request, so a revoked or
 * expired token is refused at once; a run changed, a manager removed or a group left anywhere
 * (this process or another one over the same store) moves the generation, and the next read is
 * built afresh and checked again.
 */
import type { Store } from '../core/store.js';
import type { AuthenticatedPrincipal } from './api-tokens.js';

/** Cached answers; a new generation empties it. Bounded by entries and by the characters held. */
export class RunResponseCache {
  readonly #entries = new Map<string, string>();
  readonly #readGeneration: () => Promise<number>;
  readonly #maxEntries: number;
  readonly #maxChars: number;
  #generation = -1;
  #chars = 0;

  /** Null when the store cannot tell when its contents change: nothing can be cached exactly then. */
  static over(store: Store, limits: { maxEntries?: number; maxChars?: number } = {}): RunResponseCache | null {
    const readGeneration = store.readGeneration?.bind(store);
    return readGeneration ? new RunResponseCache(readGeneration, limits) : null;
  }

  private constructor(readGeneration: () => Promise<number>, limits: { maxEntries?: number; maxChars?: number }) {
    this.#readGeneration = readGeneration;
    this.#maxEntries = limits.maxEntries ?? 1_000;
    this.#maxChars = limits.maxChars ?? 8 * 1024 * 1024;
  }

  /** True when nothing is cached: a request need not even check the generation. */
  get isEmpty(): boolean {
    return this.#entries.size === 0;
  }

  /** The store's generation now: read it before reading what an answer is built from. */
  generation(): Promise<number> {
    return this.#readGeneration();
  }

  /** The answer cached for `key`, if it was built under the store's current generation. */
  async find(key: string): Promise<string | undefined> {
    const generation = await this.#readGeneration();
    if (generation !== this.#generation) {
      this.#reset(generation);
      return undefined;
    }
    return this.#entries.get(key);
  }

  /** The answer cached for `key`, if it was built under `generation`, the store's generation read now (`readGenerationNow`). */
  findNow(generation: number, key: string): string | undefined {
    if (generation !== this.#generation) {
      if (generation > this.#generation) this.#reset(generation);
      return undefined;
    }
    return this.#entries.get(key);
  }

  /** Keeps `body` for `key`, built from reads made after the store returned `generation`. */
  keep(generation: number, key: string, body: string): void {
    // An answer built under an older generation may already be stale: it is not kept.
    if (generation < this.#generation) return;
    if (generation !== this.#generation) this.#reset(generation);
    if (body.length > this.#maxChars) return;
    if (this.#entries.size >= this.#maxEntries || this.#chars + body.length > this.#maxChars) this.#reset(generation);
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#chars -= previous.length + key.length;
    this.#entries.set(key, body);
    this.#chars += body.length + key.length;
  }

  #reset(generation: number): void {
    this.#entries.clear();
    this.#chars = 0;
    this.#generation = generation;
  }
}

/**
 * The key of an answer: who asked (id and the groups its authentication asserted) and what
 * (path and query, below the router's base path).
 */
export function runResponseKey(principal: AuthenticatedPrincipal, target: string): string {
  const groups = principal.groups && principal.groups.length > 0 ? `\u0000${principal.groups.join('\u0000')}` : '';
  return `${principal.userId}${groups}\u0001${target}`;
}

/** The path and query of a request URL (`http://host/runs/x?include=…` → `/runs/x?include=…`), without building a URL object. */
export function requestTarget(url: string): string {
  const scheme = url.indexOf('://');
  const slash = url.indexOf('/', scheme < 0 ? 0 : scheme + 3);
  return slash < 0 ? '/' : url.slice(slash);
}
