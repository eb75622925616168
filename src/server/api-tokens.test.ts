import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores } from '../index.js';
import { createManualClock } from '../testing/index.js';
import { API_TOKEN_PREFIX, apiTokenAuthenticator, bearerToken, hashApiToken, newApiToken } from './api-tokens.js';
import { createFlowApiRouter } from './create-flow-api-router.js';

describe('API tokens', () => {
  it('makes frt_ tokens of 32 random bytes in base64url, never twice the same', () => {
    const tokens = Array.from({ length: 100 }, newApiToken);
    for (const token of tokens) expect(token).toMatch(/^frt_[A-Za-z0-9_-]{43}$/);
    expect(new Set(tokens).size).toBe(100);
    expect(tokens[0]!.startsWith(API_TOKEN_PREFIX)).toBe(true);
  });

  it('hashes a token to the lowercase hex SHA-256 the stores keep', async () => {
    expect(await hashApiToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('reads the bearer token of the Authorization header, and nothing else', () => {
    const req = (value?: string) => new Request('http://x/', value === undefined ? {} : { headers: { authorization: value } });
    expect(bearerToken(req('Bearer frt_abc'))).toBe('frt_abc');
    expect(bearerToken(req('bearer   frt_abc  '))).toBe('frt_abc');
    expect(bearerToken(req('Basic dXNlcjpwYXNz'))).toBeNull();
    expect(bearerToken(req('Bearer a b'))).toBeNull();
    expect(bearerToken(req())).toBeNull();
  });

  it('authenticates a stored token by its hash; a revoked, expired, unknown or malformed one is 401 UNAUTHENTICATED', async () => {
    const stores = createMemoryStores();
    const clock = createManualClock(1_000_000);
    let now = clock.now();
    const engine = createEngine({ stores, clock, poll: false });
    await engine.principals.createUser({ id: 'alice' });
    const good = newApiToken();
    const revoked = newApiToken();
    const expiring = newApiToken();
    await stores.principals.createToken({ tokenId: 't1', principalId: 'alice', tokenHash: await hashApiToken(good), at: now });
    await stores.principals.createToken({ tokenId: 't2', principalId: 'alice', tokenHash: await hashApiToken(revoked), at: now });
    await stores.principals.createToken({ tokenId: 't3', principalId: 'alice', tokenHash: await hashApiToken(expiring), at: now, expiresAt: now + 1000 });
    await stores.principals.revokeToken({ tokenId: 't2', at: now });
    const authenticate = apiTokenAuthenticator(stores, () => now);
    const as = (token: string) => authenticate(new Request('http://x/', { headers: { authorization: `Bearer ${token}` } }));
    expect(await as(good)).toEqual({ userId: 'alice' });
    expect(await as(expiring)).toEqual({ userId: 'alice' });
    expect(await as(revoked)).toBeNull();
    expect(await as(newApiToken())).toBeNull();
    expect(await as(good.slice(4))).toBeNull();
    now += 1000;
    expect(await as(expiring)).toBeNull();
    await clock.advance(1000);

    // The router's default authenticator is this one, over the engine's stores and clock.
    const router = createFlowApiRouter({ engine });
    const get = (token?: string) => router.fetch(new Request('http://x/runs', token ? { headers: { authorization: `Bearer ${token}` } } : {}));
    expect((await get(good)).status).toBe(200);
    for (const token of [undefined, revoked, expiring, 'frt_forged']) {
      const response = await get(token);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
    await engine.close();
  });
});
