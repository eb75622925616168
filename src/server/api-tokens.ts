/**
 * API tokens: random bearer secrets of which the stores keep only a SHA-256 digest, and the
 * default `authenticate` of the router, which looks a presented token up by that digest.
 * Web Crypto only, so this file runs wherever the router runs (Node, Bun, Deno, edge runtimes).
 */
import type { Store } from '../core/store.js';

/** The prefix of every API token, so a leaked one is recognisable (secret scanners, logs). */
export const API_TOKEN_PREFIX = 'frt_';

/** Who a request acts for: a principal id, trusted by the engine as given, and optional groups. */
export interface AuthenticatedPrincipal {
  userId: string;
  /** Groups asserted by the identity provider: permission checks count them with the groups the stores know. */
  groups?: string[];
}

/** Decides who a request comes from; null means "no valid credentials" (401). */
export type Authenticate = (request: Request) => AuthenticatedPrincipal | null | Promise<AuthenticatedPrincipal | null>;

/** A stored API token, as `store.principals.findTokenByHash` returns it. */
export interface StoredApiToken {
  tokenId: string;
  principalId: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

/** The token lookup the default authenticator needs from `store.principals`. */
export interface ApiTokenLookup {
  findTokenByHash(hash: string): Promise<StoredApiToken | null>;
}

/** A new API token: `frt_` and 32 random bytes in base64url (43 characters). Show it once; store {@link hashApiToken} of it. */
export function newApiToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return API_TOKEN_PREFIX + base64Url(bytes);
}

/**
 * Node's synchronous SHA-256 when the runtime has it (Node ≥ 20.16 exposes builtins without an
 * import, so this file still loads on any runtime): a token check on every request then costs
 * a few µs instead of a round-trip through Web Crypto's thread pool.
 */
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as
  | {
      createHash(algorithm: 'sha256'): { update(data: string, encoding: 'utf8'): { digest(encoding: 'hex'): string } };
      /** One-shot digest (Node ≥ 20.12): no Hash object per call, about half the cost of createHash for a token. */
      hash?(algorithm: 'sha256', data: string, outputEncoding: 'hex'): string;
    }
  | undefined;

/** The hex SHA-256 of a token computed synchronously, or null where the runtime has no synchronous SHA-256. */
function hashApiTokenNow(token: string): string | null {
  if (!nodeCrypto) return null;
  return nodeCrypto.hash ? nodeCrypto.hash('sha256', token, 'hex') : nodeCrypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The lowercase hex SHA-256 of a token: what the stores keep and look tokens up by. */
export async function hashApiToken(token: string): Promise<string> {
  const now = hashApiTokenNow(token);
  if (now !== null) return now;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  const match = header ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null;
  return match ? match[1]! : null;
}

/**
 * {@link Authenticate} that can also answer from what it found before, without a turn through a
 * promise: the default authenticator over a store with `readGenerationNow` (SQLite).
 */
export interface RememberingAuthenticate {
  (request: Request): Promise<AuthenticatedPrincipal | null>;
  /**
   * Who `request` comes from, decided from a token found while the store's generation was
   * `generation` (read now): null for no bearer token of ours, or one found revoked or expired now;
   * undefined when it was not found under that generation (the request then awaits the authenticator).
   */
  now(request: Request, generation: number): AuthenticatedPrincipal | null | undefined;
}

/**
 * The default authenticator: a bearer token is valid when the stores hold its digest, it is not
 * revoked and not expired (`now` in ms). A store without token support authenticates nobody.
 * Only the digest is compared (by the store's index), so the secret itself is never stored or logged.
 * Over a store with `readGenerationNow`, what a lookup found is kept by digest under the generation
 * read before it, and `now()` answers from it while the store returns that generation: a token
 * revoked, created or deleted anywhere moves it; expiry is checked against `now` on every request.
 */
export function apiTokenAuthenticator(store: Store, now: () => number): RememberingAuthenticate {
  const lookup = (store.principals as Partial<ApiTokenLookup>).findTokenByHash?.bind(store.principals);
  const readGenerationNow = store.readGenerationNow?.bind(store);
  const found = new TokensFound();
  const principalOf = (token: StoredApiToken | null): AuthenticatedPrincipal | null =>
    !token || token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= now()) ? null : { userId: token.principalId };
  /** The request's bearer token when it can be one of ours (and the store can look tokens up); null otherwise. */
  const ourToken = (request: Request): string | null => {
    const token = bearerToken(request);
    return token && lookup && token.startsWith(API_TOKEN_PREFIX) && token.length <= 200 ? token : null;
  };
  const authenticate = async (request: Request): Promise<AuthenticatedPrincipal | null> => {
    const token = ourToken(request);
    if (!token || !lookup) return null;
    // Hashed without a turn through a promise where the runtime can (Node): every request pays this.
    const hash = hashApiTokenNow(token) ?? (await hashApiToken(token));
    // Read before the lookup: what it finds is as new as this generation, or newer.
    const generation = readGenerationNow?.();
    const stored = await lookup(hash);
    if (generation !== undefined && stored) found.keep(generation, hash, stored);
    return principalOf(stored);
  };
  return Object.assign(authenticate, {
    now: (request: Request, generation: number): AuthenticatedPrincipal | null | undefined => {
      const token = ourToken(request);
      if (!token) return null;
      const hash = hashApiTokenNow(token);
      if (hash === null) return undefined;
      const stored = found.find(generation, hash);
      return stored === undefined ? undefined : principalOf(stored);
    },
  });
}

/** Tokens found by digest under one store generation (an unknown digest is looked up again); a new generation empties it. Bounded by entries. */
class TokensFound {
  readonly #entries = new Map<string, StoredApiToken>();
  #generation = -1;

  find(generation: number, hash: string): StoredApiToken | undefined {
    if (generation !== this.#generation) {
      this.#reset(generation);
      return undefined;
    }
    return this.#entries.get(hash);
  }

  keep(generation: number, hash: string, token: StoredApiToken): void {
    // Found under an older generation: it may be stale already.
    if (generation < this.#generation) return;
    if (generation !== this.#generation || this.#entries.size >= MAX_TOKENS_KEPT) this.#reset(generation);
    this.#entries.set(hash, { tokenId: token.tokenId, principalId: token.principalId, expiresAt: token.expiresAt, revokedAt: token.revokedAt });
  }

  #reset(generation: number): void {
    this.#entries.clear();
    this.#generation = generation;
  }
}

/** Tokens kept by the default authenticator at most (a full memo starts over): one per client in use. */
const MAX_TOKENS_KEPT = 1_000;

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
