/**
 * Entity tags of `GET /runs` answers, so a page that polls a listing (the dashboard's runs page)
 * gets `304 Not Modified` — after authentication and one generation check, no listing read —
 * while nothing in the store changed.
 *
 * Why a 304 never hides a change: the tag is made from the store's generation read *before* any
 * of the reads the answer was built from (`Store.readGeneration`, as run-response-cache.ts uses
 * it), the principal as authenticated (id and asserted groups) and the request target (path and
 * query). A conditional request is answered 304 only when the same principal asks the same target
 * and the store returns the same generation now: every read since would have returned what the
 * tagged answer holds. Any write anywhere moves the generation, so the next poll is a full 200.
 * A random part chosen per router keeps tags of another process (or of this one before a restart,
 * whose generations start again from zero) from ever matching. Stores without `readGeneration`
 * get no tag and always a full answer.
 */
import type { Store } from '../core/store.js';
import type { AuthenticatedPrincipal } from './api-tokens.js';
import { runResponseKey } from './run-response-cache.js';

/** Makes and checks the tags of listing answers over one store. */
export class ListingEtags {
  readonly #readGeneration: () => Promise<number>;
  readonly #epoch = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');

  /** Null when the store cannot tell when its contents change: no answer can be tagged exactly then. */
  static over(store: Store): ListingEtags | null {
    const readGeneration = store.readGeneration?.bind(store);
    return readGeneration ? new ListingEtags(readGeneration) : null;
  }

  private constructor(readGeneration: () => Promise<number>) {
    this.#readGeneration = readGeneration;
  }

  /** The store's generation now: read it before the reads an answer is built from. */
  generation(): Promise<number> {
    return this.#readGeneration();
  }

  /** The tag (a quoted strong entity tag) of the answer to `principal` for `target`, built from reads made after the store returned `generation`. */
  async tag(generation: number, principal: AuthenticatedPrincipal, target: string): Promise<string> {
    // Web Crypto, not node:crypto: the router stays a fetch handler that runs anywhere.
    const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${this.#epoch}\u0002${generation}\u0002${runResponseKey(principal, target)}`));
    return `"${Array.from(new Uint8Array(digest, 0, 16), (b) => b.toString(16).padStart(2, '0')).join('')}"`;
  }

  /** True when `ifNoneMatch` names the tag `principal`'s answer for `target` would carry now: the answer it holds is still current. */
  async unchanged(ifNoneMatch: string, principal: AuthenticatedPrincipal, target: string): Promise<boolean> {
    const current = await this.tag(await this.#readGeneration(), principal, target);
    return ifNoneMatch.split(',').some((candidate) => candidate.trim() === current);
  }
}

/**
 * The caching headers of a tagged listing: a browser keeps the answer for this user only and asks
 * again every time (`If-None-Match`), so its `fetch` gets the kept body back on a 304 by itself.
 */
export const LISTING_CACHE_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'private, no-cache', vary: 'Authorization' };

/** True for the target of a runs listing (`/runs` with or without a query), the only answers tagged. */
export function isRunListingTarget(target: string): boolean {
  return target === '/runs' || target.startsWith('/runs?');
}
