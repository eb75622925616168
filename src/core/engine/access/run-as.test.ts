import { beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type Engine, type FlowDefinition, type StepDefinition } from '../../../index.js';

const flowOf = (id: string, steps: Record<string, StepDefinition>, startAt: string, roles?: FlowDefinition['roles']): FlowDefinition => ({
  id,
  ...(roles ? { roles } : {}),
  actions: { main: { startAt, steps } },
});

/** Started only by svc-billing; calls a flow svc-billing may start and, optionally, one only alice may. */
const refund = flowOf(
  'billing/refund',
  {
    post: { stepType: 'RUN_FLOW', flowDefinitionId: 'ledger/post', defaultNextStepInstanceId: 'audit' },
    audit: { stepType: 'DECIDE', transitions: [{ condition: 'input.audit is true', nextStepInstanceId: 'write_audit' }], defaultNextStepInstanceId: 'done' },
    write_audit: { stepType: 'RUN_FLOW', flowDefinitionId: 'audit/write', defaultNextStepInstanceId: 'done' },
    done: { stepType: 'COMPUTE', expression: '{refunded: true}' },
  },
  'post',
  { starters: ['svc-billing'] },
);
const post = flowOf('ledger/post', { s: { stepType: 'COMPUTE', expression: '"posted"' } }, 's', { starters: ['svc-billing'] });
const audit = flowOf('audit/write', { s: { stepType: 'COMPUTE', expression: '"audited"' } }, 's', { starters: ['alice'] });

/** An open flow that calls billing/refund as `runAs`, catching a refusal when `caught`. */
function orders(runAs: string, options: { caught?: boolean; launch?: boolean } = {}): FlowDefinition {
  const call: StepDefinition = options.launch
    ? { stepType: 'START_FLOW_EXECUTION', runAs, literals: { flowDefinitionId: 'billing/refund' }, defaultNextStepInstanceId: 'after' }
    : { stepType: 'RUN_FLOW', flowDefinitionId: 'billing/refund', runAs, inputMappings: { audit: '$.input.audit' }, defaultNextStepInstanceId: 'after' };
  if (options.caught) call.catch = [{ errorEquals: ['PERMISSION_DENIED'], next: 'denied' }];
  return flowOf(
    `orders/process-${runAs}${options.launch ? '-launch' : ''}${options.caught ? '-caught' : ''}`,
    { call, after: { stepType: 'COMPUTE', expression: '{called: true}' }, denied: { stepType: 'COMPUTE', expression: '{denied: steps.call.error.code}' } },
    'call',
  );
}

describe('run as a service account', () => {
  let engine: Engine;

  beforeEach(async () => {
    engine = createEngine({ stores: createMemoryStores(), poll: false });
    const p = engine.principals;
    await p.createUser({ id: 'alice' });
    await p.createUser({ id: 'bob' });
    await p.createServiceAccount({ id: 'svc-billing' });
    await p.createServiceAccount({ id: 'svc-idle' });
    await p.grantActAs({ serviceAccountId: 'svc-billing', principalId: 'alice' });
    await p.grantActAs({ serviceAccountId: 'svc-idle', principalId: 'alice' });
    for (const flow of [refund, post, audit]) await engine.deployFlow(flow, { deployedBy: 'ops' });
  });

  const runsOf = async (flowId: string) => (await engine.listRuns({ flowId })).runs;

  it('runs the callee as the service account: it records the caller as createdBy and the account as runAs', async () => {
    const result = await engine.runAction({ flow: orders('svc-billing'), userId: 'alice', input: {} });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { called: true } });
    const [child] = await runsOf('billing/refund');
    expect(child).toMatchObject({ createdBy: 'alice', runAs: 'svc-billing', runOwner: 'alice', parentRunId: result.requestId, status: 'SUCCEEDED' });
    // Its own call runs as the account too, recorded as created by it.
    expect((await runsOf('ledger/post'))[0]).toMatchObject({ createdBy: 'svc-billing', runAs: 'svc-billing', runOwner: 'alice' });
  });

  it('fails the calling step with PERMISSION_DENIED when the caller holds no act-as, and starts nothing', async () => {
    const result = await engine.runAction({ flow: orders('svc-billing'), userId: 'bob', input: {} });
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'PERMISSION_DENIED', message: 'principal "bob" may not act as service account "svc-billing"' } });
    expect(await runsOf('billing/refund')).toEqual([]);
  });

  it('lets the caller catch the refusal like any step error', async () => {
    const result = await engine.runAction({ flow: orders('svc-billing', { caught: true }), userId: 'bob', input: {} });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { denied: 'PERMISSION_DENIED' } });
    expect(await runsOf('billing/refund')).toEqual([]);
  });

  it('refuses a service account that may not start the target flow, even to a caller holding act-as', async () => {
    const result = await engine.runAction({ flow: orders('svc-idle'), userId: 'alice', input: {} });
    expect(result.error).toMatchObject({ code: 'PERMISSION_DENIED', message: 'service account "svc-idle" may not start flow "billing/refund"' });
    expect(await runsOf('billing/refund')).toEqual([]);
  });

  it('checks nested calls as the service account, not as the user behind it', async () => {
    // alice may start audit/write herself, but inside billing/refund the caller is svc-billing.
    const result = await engine.runAction({ flow: orders('svc-billing'), userId: 'alice', input: { audit: true } });
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'PERMISSION_DENIED' } }); // the child's code reaches its caller
    const [child] = await runsOf('billing/refund');
    expect(child!.runError).toMatchObject({ code: 'PERMISSION_DENIED', description: 'service account "svc-billing" may not start flow "audit/write"' });
    expect(await runsOf('audit/write')).toEqual([]);
    await expect(engine.runAction({ flow: 'audit/write', userId: 'alice' })).resolves.toMatchObject({ status: 'SUCCEEDED' });
  });

  it('applies the same checks to START_FLOW_EXECUTION', async () => {
    const allowed = await engine.runAction({ flow: orders('svc-billing', { launch: true }), userId: 'alice', input: {} });
    expect(allowed).toMatchObject({ status: 'SUCCEEDED' });
    await engine.whenIdle();
    expect(await runsOf('billing/refund')).toMatchObject([{ createdBy: 'alice', runAs: 'svc-billing', detached: true }]);
    const refused = await engine.runAction({ flow: orders('svc-billing', { launch: true, caught: true }), userId: 'bob', input: {} });
    expect(refused).toMatchObject({ status: 'SUCCEEDED', output: { denied: 'PERMISSION_DENIED' } });
    expect(await runsOf('billing/refund')).toHaveLength(1);
  });

  it('takes runAs on runAction: checked before anything is created', async () => {
    const ok = await engine.runAction({ flow: 'billing/refund', userId: 'alice', runAs: 'svc-billing', input: {} });
    expect(await engine.getRun(ok.requestId)).toMatchObject({ status: 'SUCCEEDED', createdBy: 'alice', runAs: 'svc-billing' });
    // bob may neither act as svc-billing nor see billing/refund: it answers like a missing flow.
    await expect(engine.runAction({ flow: 'billing/refund', userId: 'bob', runAs: 'svc-billing', requestId: 'bobs-refund' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    await expect(engine.getRun('bobs-refund')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    // alice may not start billing/refund as herself (nor see it: it names starters, and she is none).
    await expect(engine.runAction({ flow: 'billing/refund', userId: 'alice' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
  });

  it('lets trusted code (no userId) act as any service account, which must still be allowed to start the flow', async () => {
    await expect(engine.runAction({ flow: 'billing/refund', runAs: 'svc-billing', input: {} })).resolves.toMatchObject({ status: 'SUCCEEDED' });
    await expect(engine.runAction({ flow: 'billing/refund', runAs: 'svc-idle' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(engine.runAction({ flow: 'billing/refund', runAs: 'alice' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: '"alice" is not a service account' });
  });
});
