import { describe, expect, it } from 'vitest';
import { canActAs, canAdministerFlow, canManageRun, canReadRun, canStartFlow, canViewFlow, eventPatternMatches, holdsEventRight, isEventPattern, isSystemAdministrator, unknownPrincipal, type Principal } from './permissions.js';

const user = (id: string, groups: string[] = [], actAs: string[] = []): Principal => ({ id, kind: 'user', groups, actAs });
const run = { runOwner: 'olivia', monitors: { users: ['mona'], groups: ['auditors'] }, managers: { users: ['manny'], groups: ['ops'] } };
const open = { deployedBy: 'dora' };
const restricted = { deployedBy: 'dora', roles: { administrators: ['adam'], starters: ['sam', 'starters'], viewers: ['vic'] } };

describe('permissions', () => {
  it('opens a flow that names no roles to every principal, administered by its deployer', () => {
    expect(canStartFlow(user('anyone'), open)).toBe(true);
    expect(canViewFlow(user('anyone'), open)).toBe(true);
    expect(canAdministerFlow(user('dora'), open)).toBe(true);
    expect(canAdministerFlow(user('anyone'), open)).toBe(false);
    expect(canAdministerFlow(user(''), { deployedBy: '' })).toBe(false);
  });

  it('lets only starters (by id or group) and administrators start a flow that names starters', () => {
    expect([user('sam'), user('x', ['starters']), user('adam'), user('dora'), user('vic')].map((p) => canStartFlow(p, restricted))).toEqual([true, true, true, false, false]);
    expect([user('vic'), user('sam'), user('adam'), user('other')].map((p) => canViewFlow(p, restricted))).toEqual([true, true, true, false]);
  });

  it('gives monitors reading, managers and owners reading and managing, flow administrators both', () => {
    const who = [user('olivia'), user('mona'), user('g', ['auditors']), user('manny'), user('h', ['ops']), user('adam'), user('otto')];
    expect(who.map((p) => canReadRun(p, run, restricted))).toEqual([true, true, true, true, true, true, false]);
    expect(who.map((p) => canManageRun(p, run, restricted))).toEqual([true, false, false, true, true, true, false]);
  });

  it('gives a system administrator every flow and run role and every event right, but no act-as it was not granted', () => {
    const root: Principal = { ...user('root'), isAdministrator: true };
    expect([canStartFlow, canViewFlow, canAdministerFlow].map((can) => can(root, restricted))).toEqual([true, true, true]);
    expect([canReadRun(root, run, restricted), canManageRun(root, run, restricted)]).toEqual([true, true]);
    expect(['publish', 'subscribe'].map((right) => holdsEventRight(root, [], right as 'publish', 'payments.refund'))).toEqual([true, true]);
    expect(canActAs(root, 'svc-billing')).toBe(false);
    // The mark is what counts, never the name; and a marked group does not act itself.
    expect(isSystemAdministrator(user('admin'))).toBe(false);
    expect(canReadRun(user('admin'), run, restricted)).toBe(false);
    expect(canReadRun({ id: 'admins', kind: 'group', groups: [], actAs: [], isAdministrator: true }, run, restricted)).toBe(false);
  });

  it('never lets a group act', () => {
    const group: Principal = { id: 'ops', kind: 'group', groups: [], actAs: ['svc'] };
    expect([canStartFlow(group, open), canReadRun(group, run, open), canManageRun(group, run, open), canActAs(group, 'svc')]).toEqual([false, false, false, false]);
  });

  it('lets a principal act as a service account it was granted, or as itself', () => {
    expect(canActAs(user('alice', [], ['svc']), 'svc')).toBe(true);
    expect(canActAs(unknownPrincipal('alice'), 'svc')).toBe(false);
    expect(canActAs({ id: 'svc', kind: 'serviceAccount', groups: [], actAs: [] }, 'svc')).toBe(true);
  });

  it('matches event names: exact, "prefix.*" for one or more further segments, "*" for all; groups hold grants for their members but never act', () => {
    const cases: [string, string, boolean][] = [
      ['payment.confirmed', 'payment.confirmed', true],
      ['payment.confirmed', 'payment.confirmed.eu', false],
      ['orders.*', 'orders.created', true],
      ['orders.*', 'orders.eu.created', true],
      ['orders.*', 'orders', false],
      ['orders.*', 'ordersx.created', false],
      ['*', 'anything:at/all', true],
    ];
    expect(cases.map(([pattern, name]) => eventPatternMatches(pattern, name))).toEqual(cases.map((c) => c[2]));
    expect(['a.b', 'a.*', '*', 'a:b/c-d'].every(isEventPattern)).toBe(true);
    expect(['', '*.a', 'a.*.b', 'a*', '.*', 'a.**', 'a b', 42].some(isEventPattern)).toBe(false);
    const grants = [{ principalId: 'payments', right: 'publish' as const, pattern: 'payment.*' }];
    expect(holdsEventRight(user('paula', ['payments']), grants, 'publish', 'payment.confirmed')).toBe(true);
    expect(holdsEventRight(user('paula', ['payments']), grants, 'subscribe', 'payment.confirmed')).toBe(false);
    expect(holdsEventRight(user('otto'), grants, 'publish', 'payment.confirmed')).toBe(false);
    expect(holdsEventRight({ id: 'payments', kind: 'group', groups: [], actAs: [] }, grants, 'publish', 'payment.confirmed')).toBe(false);
  });
});
