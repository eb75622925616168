import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

describe('engine.principals', () => {
  it('manages users, groups, service accounts, members and act-as grants', async () => {
    const clock = createManualClock();
    const engine = createEngine({ stores: createMemoryStores(), clock, poll: false });
    const p = engine.principals;
    expect(await p.createUser({ id: 'alice@example.com', displayName: 'Alice' })).toEqual({ id: 'alice@example.com', kind: 'user', displayName: 'Alice', isAdministrator: false, createdAt: clock.now() });
    await p.createGroup({ id: 'group:ops' });
    await p.createServiceAccount({ id: 'svc-billing' });
    await p.addMember('group:ops', 'alice@example.com');
    await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'group:ops' });
    expect(await p.listMembers('group:ops')).toEqual(['alice@example.com']);
    expect(await p.listActAsGrants('svc-billing')).toEqual(['group:ops']);
    expect(await p.resolve('alice@example.com')).toEqual({ id: 'alice@example.com', kind: 'user', groups: ['group:ops'], actAs: ['svc-billing'], isAdministrator: false });
    expect((await p.list({ kind: 'group' })).map((r) => r.id)).toEqual(['group:ops']);
    expect(await p.get('svc-billing')).toMatchObject({ kind: 'serviceAccount' });
    await p.delete('group:ops');
    expect(await p.resolve('alice@example.com')).toEqual({ id: 'alice@example.com', kind: 'user', groups: [], actAs: [], isAdministrator: false });
    await engine.close();
  });

  it('treats an id no store knows as a user in no group (seed 002 trusts userId as given)', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    expect(await engine.principals.resolve('someone')).toEqual({ id: 'someone', kind: 'user', groups: [], actAs: [] });
    await engine.close();
  });

  it('refuses bad ids and unknown principals by name', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    const p = engine.principals;
    await expect(p.createUser({ id: '' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'id' }] });
    await expect(p.createUser({ id: 'a b' })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('"a b"') });
    await expect(p.createGroup({ id: 'ops', displayName: 7 as unknown as string })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'displayName' }] });
    await expect(p.get('nobody')).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND', message: 'principal "nobody" does not exist' });
    await expect(p.delete('nobody')).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
    await expect(p.addMember('nobody', 'x')).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
    await p.createUser({ id: 'ops' });
    await expect(p.createGroup({ id: 'ops' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await engine.close();
  });

  it('grants, lists and revokes event rights, refusing a bad right, pattern or principal by name and storing nothing', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    const p = engine.principals;
    await p.createUser({ id: 'alice' });
    await p.grantEvents({ principalId: 'alice', right: 'publish', pattern: 'orders.*' });
    await expect(p.grantEvents({ principalId: 'alice', right: 'read' as 'publish', pattern: 'x' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'right' }] });
    await expect(p.grantEvents({ principalId: 'alice', right: 'subscribe', pattern: 'orders.*.eu' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'pattern' }] });
    await expect(p.grantEvents({ principalId: 'a b', right: 'subscribe', pattern: '*' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'principalId' }] });
    await expect(p.grantEvents({ principalId: 'nobody', right: 'subscribe', pattern: '*' })).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
    expect(await p.listEventGrants()).toEqual([{ principalId: 'alice', right: 'publish', pattern: 'orders.*' }]);
    expect(await p.listEventGrants({ principalId: 'alice' })).toHaveLength(1);
    expect(await p.revokeEvents({ principalId: 'alice', right: 'publish', pattern: 'orders.*' })).toBe(true);
    expect(await p.listEventGrants()).toEqual([]);
    await engine.close();
  });

  it('checks run roles and principals of a start at the edge', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    const flow = { id: 'f', actions: { main: { startAt: 's', steps: { s: { stepType: 'SUCCEED' as const } } } } };
    await expect(engine.startRun({ flow, runMonitoringBy: 'mona' as unknown as string[] })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'runMonitoringBy' }] });
    await expect(engine.startRun({ flow, managers: { groups: [''] } })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'managers.groups' }] });
    await expect(engine.startRun({ flow, userId: '' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'userId' }] });
    const { requestId } = await engine.startRun({ flow, monitors: { users: ['mona'] }, runMonitoringBy: ['mona', 'max'], runManagingGroups: ['ops'] });
    expect(await engine.getRun(requestId)).toMatchObject({ monitors: { users: ['mona', 'max'], groups: [] }, managers: { users: [], groups: ['ops'] } });
    await engine.close();
  });
});
