/**
 * The principal part of the store conformance suite (users, groups, service accounts, members,
 * act-as grants), run by `runStoreConformance` against every store.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../core/store.js';

const T0 = Date.UTC(2026, 0, 1);

/** Registers the principal tests; `store()` is the fresh store of the current test. */
export function describePrincipalConformance(store: () => Store): void {
  describe('principals', () => {
    async function seed(): Promise<void> {
      const p = store().principals;
      await p.createPrincipal({ id: 'alice', kind: 'user', displayName: 'Alice', at: T0 });
      await p.createPrincipal({ id: 'bob', kind: 'user', at: T0 + 1 });
      await p.createPrincipal({ id: 'ops', kind: 'group', at: T0 + 2 });
      await p.createPrincipal({ id: 'svc-billing', kind: 'serviceAccount', at: T0 + 3 });
      await p.createPrincipal({ id: 'svc-reports', kind: 'serviceAccount', at: T0 + 4 });
    }

    it('creates users, groups and service accounts and reads them back', async () => {
      await seed();
      const p = store().principals;
      expect(await p.getPrincipal('alice')).toEqual({ id: 'alice', kind: 'user', displayName: 'Alice', isAdministrator: false, createdAt: T0 });
      expect(await p.getPrincipal('bob')).toEqual({ id: 'bob', kind: 'user', displayName: null, isAdministrator: false, createdAt: T0 + 1 });
      expect(await p.getPrincipal('ops')).toMatchObject({ kind: 'group' });
      expect(await p.getPrincipal('svc-billing')).toMatchObject({ kind: 'serviceAccount' });
      expect(await p.getPrincipal('nobody')).toBeNull();
    });

    it('refuses an id already taken, by a principal of any kind, and changes nothing', async () => {
      await seed();
      const p = store().principals;
      await expect(p.createPrincipal({ id: 'alice', kind: 'user', at: T0 + 9 })).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(p.createPrincipal({ id: 'ops', kind: 'serviceAccount', at: T0 + 9 })).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await p.getPrincipal('ops')).toMatchObject({ kind: 'group', createdAt: T0 + 2 });
    });

    it('lists principals in id order, by kind, in keyset pages', async () => {
      await seed();
      const p = store().principals;
      expect((await p.listPrincipals()).map((r) => r.id)).toEqual(['alice', 'bob', 'ops', 'svc-billing', 'svc-reports']);
      expect((await p.listPrincipals({ kind: 'serviceAccount' })).map((r) => r.id)).toEqual(['svc-billing', 'svc-reports']);
      const first = await p.listPrincipals({ limit: 2 });
      expect(first.map((r) => r.id)).toEqual(['alice', 'bob']);
      expect((await p.listPrincipals({ limit: 2, afterId: first.at(-1)!.id })).map((r) => r.id)).toEqual(['ops', 'svc-billing']);
      expect(await p.listPrincipals({ afterId: 'svc-reports' })).toEqual([]);
    });

    it('adds and removes group members; adding twice is harmless', async () => {
      await seed();
      const p = store().principals;
      await p.addGroupMember({ groupId: 'ops', memberId: 'bob' });
      await p.addGroupMember({ groupId: 'ops', memberId: 'alice' });
      await p.addGroupMember({ groupId: 'ops', memberId: 'alice' });
      await p.addGroupMember({ groupId: 'ops', memberId: 'svc-billing' });
      expect(await p.listGroupMembers('ops')).toEqual(['alice', 'bob', 'svc-billing']);
      expect(await p.removeGroupMember({ groupId: 'ops', memberId: 'bob' })).toBe(true);
      expect(await p.removeGroupMember({ groupId: 'ops', memberId: 'bob' })).toBe(false);
      expect(await p.listGroupMembers('ops')).toEqual(['alice', 'svc-billing']);
    });

    it('refuses members of unknown or wrong principals by name', async () => {
      await seed();
      const p = store().principals;
      await p.createPrincipal({ id: 'admins', kind: 'group', at: T0 });
      await expect(p.addGroupMember({ groupId: 'nope', memberId: 'alice' })).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND', message: 'principal "nope" does not exist' });
      await expect(p.addGroupMember({ groupId: 'ops', memberId: 'nope' })).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
      await expect(p.addGroupMember({ groupId: 'alice', memberId: 'bob' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'groupId' }] });
      await expect(p.addGroupMember({ groupId: 'ops', memberId: 'admins' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'memberId' }] });
      await expect(p.listGroupMembers('nope')).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
      await expect(p.listGroupMembers('alice')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect(await p.listGroupMembers('ops')).toEqual([]);
    });

    it('grants and revokes act-as to users, groups and service accounts', async () => {
      await seed();
      const p = store().principals;
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'alice' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'alice' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'ops' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'svc-reports' });
      expect(await p.listActAsGrants('svc-billing')).toEqual(['alice', 'ops', 'svc-reports']);
      expect(await p.revokeActAs({ serviceAccountId: 'svc-billing', principalId: 'ops' })).toBe(true);
      expect(await p.revokeActAs({ serviceAccountId: 'svc-billing', principalId: 'ops' })).toBe(false);
      expect(await p.listActAsGrants('svc-billing')).toEqual(['alice', 'svc-reports']);
      expect(await p.listActAsGrants('svc-reports')).toEqual([]);
      await expect(p.grantActAs({ serviceAccountId: 'alice', principalId: 'bob' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'serviceAccountId' }] });
      await expect(p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'nope' })).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
      await expect(p.listActAsGrants('nope')).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
    });

    it('grants and revokes event rights by pattern, lists them in order, by holder, and deletes them with their principal', async () => {
      await seed();
      const p = store().principals;
      await p.grantEvents({ principalId: 'alice', right: 'subscribe', pattern: 'orders.*' });
      await p.grantEvents({ principalId: 'alice', right: 'publish', pattern: 'payment.confirmed' });
      await p.grantEvents({ principalId: 'alice', right: 'publish', pattern: 'payment.confirmed' });
      await p.grantEvents({ principalId: 'ops', right: 'publish', pattern: '*' });
      await p.grantEvents({ principalId: 'svc-billing', right: 'subscribe', pattern: 'a.daily' });
      expect(await p.listEventGrants()).toEqual([
        { principalId: 'alice', right: 'publish', pattern: 'payment.confirmed' },
        { principalId: 'alice', right: 'subscribe', pattern: 'orders.*' },
        { principalId: 'ops', right: 'publish', pattern: '*' },
        { principalId: 'svc-billing', right: 'subscribe', pattern: 'a.daily' },
      ]);
      expect(await p.listEventGrants({ principalIds: ['ops', 'svc-billing', 'nobody'] })).toEqual([
        { principalId: 'ops', right: 'publish', pattern: '*' },
        { principalId: 'svc-billing', right: 'subscribe', pattern: 'a.daily' },
      ]);
      expect(await p.listEventGrants({ principalIds: [] })).toEqual([]);
      expect(await p.revokeEvents({ principalId: 'alice', right: 'subscribe', pattern: 'orders.*' })).toBe(true);
      expect(await p.revokeEvents({ principalId: 'alice', right: 'subscribe', pattern: 'orders.*' })).toBe(false);
      expect(await p.revokeEvents({ principalId: 'alice', right: 'subscribe', pattern: 'payment.confirmed' })).toBe(false);
      await expect(p.grantEvents({ principalId: 'nobody', right: 'publish', pattern: '*' })).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
      expect(await p.deletePrincipal('ops')).toBe(true);
      await p.createPrincipal({ id: 'ops', kind: 'group', at: T0 + 10 });
      expect(await p.listEventGrants({ principalIds: ['alice', 'ops'] })).toEqual([{ principalId: 'alice', right: 'publish', pattern: 'payment.confirmed' }]);
    });

    it('resolves a principal with its groups and the service accounts it may act as, directly or through a group', async () => {
      await seed();
      const p = store().principals;
      await p.createPrincipal({ id: 'admins', kind: 'group', at: T0 });
      await p.addGroupMember({ groupId: 'ops', memberId: 'alice' });
      await p.addGroupMember({ groupId: 'admins', memberId: 'alice' });
      await p.grantActAs({ serviceAccountId: 'svc-reports', principalId: 'ops' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'admins' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'alice' });
      expect(await p.resolvePrincipal('alice')).toEqual({ id: 'alice', kind: 'user', groups: ['admins', 'ops'], actAs: ['svc-billing', 'svc-reports'], isAdministrator: false });
      expect(await p.resolvePrincipal('bob')).toEqual({ id: 'bob', kind: 'user', groups: [], actAs: [], isAdministrator: false });
      expect(await p.resolvePrincipal('ops')).toEqual({ id: 'ops', kind: 'group', groups: [], actAs: ['svc-reports'], isAdministrator: false });
      expect(await p.resolvePrincipal('nobody')).toBeNull();
    });

    it('answers many lookups at once, each with its own groups and grants', async () => {
      await seed();
      const p = store().principals;
      await p.addGroupMember({ groupId: 'ops', memberId: 'bob' });
      await p.grantActAs({ serviceAccountId: 'svc-reports', principalId: 'ops' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'alice' });
      const ids = Array.from({ length: 30 }, (_, i) => ['alice', 'bob', 'ops', 'nobody', 'svc-billing'][i % 5]!);
      const resolved = await Promise.all(ids.map((id) => p.resolvePrincipal(id)));
      const expected = {
        alice: { id: 'alice', kind: 'user', groups: [], actAs: ['svc-billing'], isAdministrator: false },
        bob: { id: 'bob', kind: 'user', groups: ['ops'], actAs: ['svc-reports'], isAdministrator: false },
        ops: { id: 'ops', kind: 'group', groups: [], actAs: ['svc-reports'], isAdministrator: false },
        nobody: null,
        'svc-billing': { id: 'svc-billing', kind: 'serviceAccount', groups: [], actAs: [], isAdministrator: false },
      } as Record<string, unknown>;
      expect(resolved).toEqual(ids.map((id) => expected[id]));
    });

    it('marks system administrators, directly or through a group, and unmarks them; display names change in place', async () => {
      await seed();
      const p = store().principals;
      await p.addGroupMember({ groupId: 'ops', memberId: 'bob' });
      expect(await p.updatePrincipal({ id: 'alice', isAdministrator: true })).toEqual({ id: 'alice', kind: 'user', displayName: 'Alice', isAdministrator: true, createdAt: T0 });
      expect(await p.resolvePrincipal('alice')).toMatchObject({ id: 'alice', isAdministrator: true });
      expect(await p.resolvePrincipal('bob')).toMatchObject({ id: 'bob', isAdministrator: false });
      await p.updatePrincipal({ id: 'ops', isAdministrator: true });
      expect(await p.resolvePrincipal('bob')).toMatchObject({ id: 'bob', groups: ['ops'], isAdministrator: true });
      await p.removeGroupMember({ groupId: 'ops', memberId: 'bob' });
      expect(await p.resolvePrincipal('bob')).toMatchObject({ isAdministrator: false });
      expect(await p.updatePrincipal({ id: 'alice', displayName: 'Alice Liddell' })).toMatchObject({ displayName: 'Alice Liddell', isAdministrator: true });
      expect(await p.updatePrincipal({ id: 'alice', isAdministrator: false })).toMatchObject({ displayName: 'Alice Liddell', isAdministrator: false });
      expect(await p.updatePrincipal({ id: 'alice', displayName: null })).toMatchObject({ displayName: null });
      expect(await p.resolvePrincipal('alice')).toMatchObject({ isAdministrator: false });
      expect((await p.listPrincipals()).filter((r) => r.isAdministrator).map((r) => r.id)).toEqual(['ops']);
      await expect(p.updatePrincipal({ id: 'nobody', isAdministrator: true })).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
      expect(await p.getPrincipal('nobody')).toBeNull();
    });

    it('deletes a principal with its memberships and grants on either side; the id may be used again', async () => {
      await seed();
      const p = store().principals;
      await p.addGroupMember({ groupId: 'ops', memberId: 'alice' });
      await p.addGroupMember({ groupId: 'ops', memberId: 'bob' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'ops' });
      await p.grantActAs({ serviceAccountId: 'svc-reports', principalId: 'alice' });
      await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'bob' });
      expect(await p.deletePrincipal('ops')).toBe(true);
      expect(await p.deletePrincipal('ops')).toBe(false);
      expect(await p.resolvePrincipal('alice')).toEqual({ id: 'alice', kind: 'user', groups: [], actAs: ['svc-reports'], isAdministrator: false });
      expect(await p.listActAsGrants('svc-billing')).toEqual(['bob']);
      expect(await p.deletePrincipal('alice')).toBe(true);
      expect(await p.listActAsGrants('svc-reports')).toEqual([]);
      expect(await p.deletePrincipal('svc-billing')).toBe(true);
      expect(await p.resolvePrincipal('bob')).toEqual({ id: 'bob', kind: 'user', groups: [], actAs: [], isAdministrator: false });
      await p.createPrincipal({ id: 'ops', kind: 'group', at: T0 + 10 });
      expect(await p.listGroupMembers('ops')).toEqual([]);
      expect((await p.listPrincipals()).map((r) => r.id)).toEqual(['bob', 'ops', 'svc-reports']);
    });

    describe('API tokens', () => {
      const HASH_A = 'a'.repeat(64);
      const HASH_B = 'b'.repeat(64);
      const HASH_C = 'c'.repeat(64);

      it('records a token by its hash and finds it back by the hash', async () => {
        await seed();
        const p = store().principals;
        const created = await p.createToken({ tokenId: 'tok-1', principalId: 'alice', tokenHash: HASH_A, at: T0 + 5, expiresAt: T0 + 1000, description: 'laptop' });
        const expected = { tokenId: 'tok-1', principalId: 'alice', tokenHash: HASH_A, createdAt: T0 + 5, expiresAt: T0 + 1000, revokedAt: null, description: 'laptop' };
        expect(created).toEqual(expected);
        expect(await p.findTokenByHash(HASH_A)).toEqual(expected);
        expect(await p.findTokenByHash(HASH_B)).toBeNull();
        await p.createToken({ tokenId: 'tok-2', principalId: 'svc-billing', tokenHash: HASH_B, at: T0 + 6 });
        expect(await p.findTokenByHash(HASH_B)).toEqual({ tokenId: 'tok-2', principalId: 'svc-billing', tokenHash: HASH_B, createdAt: T0 + 6, expiresAt: null, revokedAt: null, description: null });
      });

      it('refuses a duplicate id or hash, an unknown principal and a group, writing nothing', async () => {
        await seed();
        const p = store().principals;
        await p.createToken({ tokenId: 'tok-1', principalId: 'alice', tokenHash: HASH_A, at: T0 });
        await expect(p.createToken({ tokenId: 'tok-1', principalId: 'bob', tokenHash: HASH_B, at: T0 })).rejects.toMatchObject({ code: 'CONFLICT' });
        await expect(p.createToken({ tokenId: 'tok-2', principalId: 'bob', tokenHash: HASH_A, at: T0 })).rejects.toMatchObject({ code: 'CONFLICT' });
        await expect(p.createToken({ tokenId: 'tok-3', principalId: 'nobody', tokenHash: HASH_C, at: T0 })).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
        await expect(p.createToken({ tokenId: 'tok-4', principalId: 'ops', tokenHash: HASH_C, at: T0 })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'principalId' }] });
        expect((await p.listTokens()).map((t) => t.tokenId)).toEqual(['tok-1']);
        expect(await p.findTokenByHash(HASH_B)).toBeNull();
        expect(await p.findTokenByHash(HASH_C)).toBeNull();
      });

      it('lists tokens in creation order, of everyone or of one principal', async () => {
        await seed();
        const p = store().principals;
        await p.createToken({ tokenId: 'tok-b', principalId: 'bob', tokenHash: HASH_B, at: T0 + 2 });
        await p.createToken({ tokenId: 'tok-a', principalId: 'alice', tokenHash: HASH_A, at: T0 + 3 });
        await p.createToken({ tokenId: 'tok-c', principalId: 'alice', tokenHash: HASH_C, at: T0 + 1 });
        expect((await p.listTokens()).map((t) => t.tokenId)).toEqual(['tok-c', 'tok-b', 'tok-a']);
        expect((await p.listTokens({ principalId: 'alice' })).map((t) => t.tokenId)).toEqual(['tok-c', 'tok-a']);
        expect(await p.listTokens({ principalId: 'nobody' })).toEqual([]);
      });

      it('revokes a token once and keeps the first revocation time; the hash still finds it', async () => {
        await seed();
        const p = store().principals;
        await p.createToken({ tokenId: 'tok-1', principalId: 'alice', tokenHash: HASH_A, at: T0 });
        expect(await p.revokeToken({ tokenId: 'tok-1', at: T0 + 10 })).toBe(true);
        expect(await p.revokeToken({ tokenId: 'tok-1', at: T0 + 20 })).toBe(false);
        expect(await p.revokeToken({ tokenId: 'nope', at: T0 + 20 })).toBe(false);
        expect(await p.findTokenByHash(HASH_A)).toMatchObject({ tokenId: 'tok-1', revokedAt: T0 + 10 });
        expect(await p.listTokens()).toMatchObject([{ tokenId: 'tok-1', revokedAt: T0 + 10 }]);
      });

      it('deletes the tokens of a deleted principal', async () => {
        await seed();
        const p = store().principals;
        await p.createToken({ tokenId: 'tok-1', principalId: 'alice', tokenHash: HASH_A, at: T0 });
        await p.createToken({ tokenId: 'tok-2', principalId: 'bob', tokenHash: HASH_B, at: T0 });
        expect(await p.deletePrincipal('alice')).toBe(true);
        expect(await p.findTokenByHash(HASH_A)).toBeNull();
        expect((await p.listTokens()).map((t) => t.tokenId)).toEqual(['tok-2']);
        await p.createPrincipal({ id: 'alice', kind: 'user', at: T0 + 5 });
        expect(await p.listTokens({ principalId: 'alice' })).toEqual([]);
      });
    });
  });
}
