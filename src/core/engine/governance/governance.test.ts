import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../../../index.js';
import type { GovernanceDecision, GovernanceRequest } from './governance-policy.js';
import { createManualClock } from '../../../testing/index.js';

const charge: FlowDefinition = {
  id: 'billing/charge',
  actions: {
    main: {
      params: { amount: { type: 'number', required: true } },
      startAt: 'prepare',
      steps: {
        prepare: { stepType: 'COMPUTE', expression: 'input.amount * 2', defaultNextStepInstanceId: 'charge' },
        charge: { stepType: 'MODULE', moduleIdentifier: 'card/charge', inputMappings: { amount: '$.steps.prepare' }, defaultNextStepInstanceId: 'done', catch: [{ errorEquals: ['GOVERNANCE_REJECTED'], next: 'refused' }] },
        done: { stepType: 'COMPUTE', expression: '{charged: steps.charge.charged}' },
        refused: { stepType: 'COMPUTE', expression: '{refused: steps.charge.error.code}' },
      },
    },
  },
  subflows: {},
};

function setup(decide: (request: GovernanceRequest) => GovernanceDecision | Promise<GovernanceDecision>) {
  const requests: GovernanceRequest[] = [];
  const calls: unknown[] = [];
  const engine = createEngine({
    stores: createMemoryStores(),
    poll: false,
    runtimeConfig: {
      modules: { 'card/charge': (input) => (calls.push(input), { charged: input.amount }) },
      governance: (request) => (requests.push(request), decide(request)),
    },
  });
  return { engine, requests, calls };
}

async function settled(engine: ReturnType<typeof createEngine>, runId: string) {
  await engine.whenIdle();
  return engine.getRun(runId);
}

describe('governance', () => {
  it('asks before a module step, never before pure steps, and records an allow in the ledger', async () => {
    const { engine, requests, calls } = setup(() => 'allow');
    const result = await engine.runAction({ flow: charge, input: { amount: 5 }, userId: 'ada' });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { charged: 10 } });
    expect(requests).toEqual([expect.objectContaining({ stepId: 'charge', stepType: 'MODULE', moduleIdentifier: 'card/charge', input: { amount: 10 }, principal: 'ada', attempt: 1 })]);
    expect(calls).toHaveLength(1);
    expect(await engine.getRunLedger(result.requestId)).toEqual([
      expect.objectContaining({ kind: 'governance', from: expect.objectContaining({ stepId: 'charge' }), to: expect.objectContaining({ decision: 'allow', stepType: 'MODULE' }) }),
    ]);
  });

  it('fails a denied step with GOVERNANCE_DENIED and never runs it', async () => {
    const { engine, calls } = setup(() => ({ decision: 'deny', reason: 'over budget' }));
    const flow = { ...charge, id: 'billing/strict', actions: { main: { ...charge.actions.main!, steps: { ...charge.actions.main!.steps, charge: { stepType: 'MODULE' as const, moduleIdentifier: 'card/charge' } } } } };
    const result = await engine.runAction({ flow, input: { amount: 5 } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'GOVERNANCE_DENIED' });
    expect(result.error?.message).toContain('over budget');
    expect(calls).toHaveLength(0);
    expect(await engine.getRunLedger(result.requestId)).toEqual([expect.objectContaining({ kind: 'governance', to: expect.objectContaining({ decision: 'deny', reason: 'over budget' }) })]);
  });

  it('holds a step needing approval with the run INACTIVE and leased to nobody, then runs it once approved', async () => {
    const { engine, requests, calls } = setup(() => ({ decision: 'approve', reason: 'large amount' }));
    const { requestId } = await engine.startRun({ flow: charge, input: { amount: 50 } });
    const waiting = await settled(engine, requestId);
    // Nothing wakes it before an approval but its deadline (the maxRunDurationMs budget).
    expect(waiting).toMatchObject({ status: 'INACTIVE', leaseOwner: null, readyAt: waiting.deadline });
    expect(waiting.state.suspension).toMatchObject({ kind: 'approval', stepId: 'charge', reason: 'large amount' });
    expect(calls).toHaveLength(0);

    await expect(engine.approve(requestId, { stepId: 'prepare' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await engine.approve(requestId, { stepId: 'charge', by: 'grace', comment: 'ok' });
    const done = await engine.waitForRun(requestId, { timeoutMs: 5_000 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { charged: 100 } });
    expect(calls).toHaveLength(1);
    expect(requests).toHaveLength(1); // an approved step is not asked about again
    await expect(engine.approve(requestId, { stepId: 'charge' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const ledger = await engine.getRunLedger(requestId);
    expect(ledger.map((e) => [e.kind, e.to.decision])).toEqual([
      ['governance', 'approve'],
      ['governance', 'approved'],
    ]);
    expect(ledger[1]!.to).toMatchObject({ by: 'grace', comment: 'ok' });
    const statuses = (await engine.getRunEvents(requestId)).flatMap((e) => (e.kind === 'status' ? [e.status] : []));
    expect(statuses).toEqual(['ACTIVE', 'INACTIVE', 'ACTIVE', 'SUCCEEDED']);
  });

  it('fails a rejected step with GOVERNANCE_REJECTED, which a catch clause handles', async () => {
    const { engine, calls } = setup(() => 'approve');
    const { requestId } = await engine.startRun({ flow: charge, input: { amount: 50 } });
    expect((await settled(engine, requestId)).status).toBe('INACTIVE');
    await engine.reject(requestId, { stepId: 'charge', by: 'grace', comment: 'no' });
    const done = await engine.waitForRun(requestId, { timeoutMs: 5_000 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { refused: 'GOVERNANCE_REJECTED' } });
    expect(calls).toHaveLength(0);
    expect((await engine.getRunLedger(requestId)).map((e) => e.to.decision)).toEqual(['approve', 'rejected']);
  });

  it('lets only managers, the owner and administrators decide when `as` is given', async () => {
    const { engine } = setup(() => 'approve');
    const { requestId } = await engine.startRun({ flow: charge, input: { amount: 1 }, userId: 'ada', runMonitoringBy: ['mo'], runManagingBy: ['max'] });
    await settled(engine, requestId);
    await expect(engine.approve(requestId, { stepId: 'charge', as: 'eve' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(engine.approve(requestId, { stepId: 'charge', as: 'mo' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await engine.approve(requestId, { stepId: 'charge', as: 'max' });
    await expect(engine.approve(requestId, 'charge')).rejects.toMatchObject({ code: 'CONFLICT' }); // decided already
    expect(await engine.waitForRun(requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED' });
    expect((await engine.getRunLedger(requestId)).at(-1)!.to).toMatchObject({ decision: 'approved', by: 'max' });
  });

  it('governs calls into other flows but not subflow calls, and fails the step when the policy throws', async () => {
    const { engine, requests } = setup((r) => {
      if (r.stepType === 'RUN_FLOW') throw new Error('policy down');
      return 'allow';
    });
    await engine.deployFlow(charge, { publish: true });
    const caller: FlowDefinition = {
      id: 'caller',
      actions: { main: { startAt: 'local', steps: { local: { stepType: 'RUN_FLOW', subflow: 'inner', defaultNextStepInstanceId: 'remote' }, remote: { stepType: 'RUN_FLOW', flowDefinitionId: 'billing/charge', literals: { amount: 1 } } } } },
      subflows: { inner: { startAt: 'x', steps: { x: { stepType: 'COMPUTE', expression: '1' } } } },
    };
    const result = await engine.runAction({ flow: caller });
    expect(result.error).toMatchObject({ code: 'GOVERNANCE_FAILED' });
    expect(requests.map((r) => [r.stepId, r.target])).toEqual([['remote', { flowId: 'billing/charge', action: 'main', async: false }]]);
  });

  it('governs launches: a denied START_FLOW_EXECUTION starts nothing', async () => {
    const { engine, requests } = setup((r) => (r.stepType === 'START_FLOW_EXECUTION' ? 'deny' : 'allow'));
    await engine.deployFlow(charge, { publish: true });
    const launcher: FlowDefinition = {
      id: 'launcher',
      actions: { main: { startAt: 'go', steps: { go: { stepType: 'START_FLOW_EXECUTION', literals: { flowDefinitionId: 'billing/charge', initialContextData: { amount: 1 } } } } } },
    };
    const result = await engine.runAction({ flow: launcher });
    expect(result.error).toMatchObject({ code: 'GOVERNANCE_DENIED' });
    expect(requests.map((r) => r.target)).toEqual([{ flowId: 'billing/charge', action: 'main', async: true }]);
    expect((await engine.listRuns({ flowId: 'billing/charge' })).runs).toEqual([]);
  });

  it('ends a run waiting for approval FAILED / TIMEOUT at its deadline, and a canceled one stays canceled', async () => {
    const clock = createManualClock();
    const engine = createEngine({ stores: createMemoryStores(), clock, poll: false, runtimeConfig: { modules: { 'card/charge': () => ({}) }, governance: () => 'approve' } });
    const late = await engine.startRun({ flow: charge, input: { amount: 1 }, timeoutMs: 10_000 });
    const canceled = await engine.startRun({ flow: charge, input: { amount: 1 } });
    await engine.whenIdle();
    expect((await engine.getRun(late.requestId)).readyAt).toBe(clock.now() + 10_000);
    await engine.cancelRun(canceled.requestId);
    await expect(engine.approve(canceled.requestId, { stepId: 'charge' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await clock.advance(10_000);
    expect(await engine.waitForRun(late.requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'FAILED', runError: { code: 'TIMEOUT' } });
    expect((await engine.getRun(canceled.requestId)).status).toBe('CANCELED');
  });
});
