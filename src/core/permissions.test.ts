import { describe, expect, it } from 'vitest';
import { canActAs, canAdministerFlow, canManageRun, canReadRun, canStartFlow, canViewFlow, unknownPrincipal, type Principal } from './permissions.js';

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

  it('never lets a group act', () => {
    const group: Principal = { id: 'ops', kind: 'group', groups: [], actAs: ['svc'] };
    expect([canStartFlow(group, open), canReadRun(group, run, open), canManageRun(group, run, open), canActAs(group, 'svc')]).toEqual([false, false, false, false]);
  });

  it('lets a principal act as a service account it was granted, or as itself', () => {
    expect(canActAs(user('alice', [], ['svc']), 'svc')).toBe(true);
    expect(canActAs(unknownPrincipal('alice'), 'svc')).toBe(false);
    expect(canActAs({ id: 'svc', kind: 'serviceAccount', groups: [], actAs: [] }, 'svc')).toBe(true);
  });
});
