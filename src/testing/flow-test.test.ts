/**
 * `createFlowTest`: virtual time skips a 30-day WAIT, retry backoffs and a step timeout at once,
 * with exactly the timeline of a manual clock driven through the same timers one by one; mocked
 * modules and models, events and approvals, and assertions that throw the runner-neutral
 * AssertionError.
 */
import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { defineFlow, type Module } from '../index.js';
import { Engine } from '../core/engine/engine.js';
import { createMemoryStores } from '../store/memory/memory-store.js';
import { createFlowTest, createManualClock, createSequentialIds } from './index.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_MS = 365 * DAY_MS;

const renewal = defineFlow({
  id: 'billing/renewal',
  actions: {
    main: {
      params: { customer: { type: 'text', required: true } },
      outputs: { charge: { type: 'map', returned: true }, notified: { type: 'boolean', returned: true } },
      startAt: 'wait_month',
      steps: {
        wait_month: { stepType: 'WAIT', durationMs: 30 * DAY_MS, defaultNextStepInstanceId: 'charge' },
        charge: {
          stepType: 'MODULE',
          moduleIdentifier: 'billing/charge',
          inputMappings: { customer: '$.input.customer' },
          retry: { maxAttempts: 4, backoffMs: 1000, backoffRate: 2, errorEquals: ['UNAVAILABLE'] },
          outputMappings: { '$.outputs.charge': '$' },
          defaultNextStepInstanceId: 'notify',
        },
        notify: { stepType: 'MODULE', moduleIdentifier: 'mail/send', timeoutMs: 5000, catch: [{ errorEquals: ['TIMEOUT'], next: 'not_notified' }], defaultNextStepInstanceId: 'notified' },
        notified: { stepType: 'SET', target: '$.outputs.notified', expression: 'true' },
        not_notified: { stepType: 'SET', target: '$.outputs.notified', expression: 'false' },
      },
    },
  },
});

/** Fails twice with UNAVAILABLE, then charges; remembers when each attempt ran. */
function flakyCharge(now: () => number, attempts: number[]): Module {
  return (input) => {
    attempts.push(now());
    if (attempts.length < 3) throw Object.assign(new Error('the payment provider is down'), { code: 'UNAVAILABLE' });
    return { chargeId: `ch-${String(input.customer)}`, attempt: attempts.length };
  };
}

/** Never answers: only the step's timeout ends it. */
const hangingMail: Module = (_input, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));

describe('createFlowTest', () => {
  it('skips a 30-day WAIT, exponential backoff and a timeout with the timeline of a clock driven by hand', async () => {
    const attempts: number[] = [];
    const t = createFlowTest({ modules: { 'mail/send': hangingMail }, budgets: { maxRunDurationMs: 60 * DAY_MS } });
    t.mockModule('billing/charge', flakyCharge(() => t.clock.now(), attempts));
    const skipped = await t.run({ flow: renewal, input: { customer: 'ada' } });
    const skippedSteps = await t.steps(skipped.requestId);
    await t.close();

    // The same flow on a manual clock, moved by hand through the same timers.
    const clock = createManualClock();
    const handAttempts: number[] = [];
    const engine = new Engine({
      stores: createMemoryStores(),
      clock,
      ids: createSequentialIds(),
      poll: false,
      leaseMs: YEAR_MS,
      pollIntervalMs: YEAR_MS,
      modules: { 'billing/charge': flakyCharge(() => clock.now(), handAttempts), 'mail/send': hangingMail },
      runtimeConfig: { budgets: { maxRunDurationMs: 60 * DAY_MS } },
    });
    const running = engine.runAction({ flow: renewal, input: { customer: 'ada' } });
    for (const ms of [30 * DAY_MS, 1000, 2000, 5000]) await clock.advance(ms);
    const byHand = await running;
    const handSteps = (await engine.getRunLogs(byHand.requestId, { limit: 1000 })).entries
      .filter((e) => ['StepSucceeded', 'StepFailed', 'StepCaught'].includes(e.code))
      .map((e) => ({ stepId: e.details?.stepId, at: e.time }));
    await engine.close();

    expect(skipped).toMatchObject({ status: 'SUCCEEDED', output: { charge: { chargeId: 'ch-ada', attempt: 3 }, notified: false } });
    expect({ status: skipped.status, output: skipped.output }).toEqual({ status: byHand.status, output: byHand.output });
    expect(skippedSteps.map((s) => ({ stepId: s.stepId, at: s.at }))).toEqual(handSteps);
    expect(attempts).toEqual(handAttempts);
    const start = Date.UTC(2026, 0, 1);
    expect(attempts.map((at) => at - start)).toEqual([30 * DAY_MS, 30 * DAY_MS + 1000, 30 * DAY_MS + 3000]);
    expect(skippedSteps.at(-1)!.at - start).toBe(30 * DAY_MS + 3000 + 5000);
  });

  it('records module calls and asserts steps, ledger and outputs', async () => {
    const t = createFlowTest({
      modules: { 'billing/charge': (input) => ({ chargeId: `ch-${String(input.customer)}` }), 'mail/send': () => ({ sent: true }) },
      budgets: { maxRunDurationMs: 60 * DAY_MS },
    });
    const result = await t.run({ flow: renewal, input: { customer: 'bob' } });
    await t.expectStatus(result.requestId, 'SUCCEEDED');
    await t.expectSteps(result.requestId, ['wait_month', 'charge', 'notify', 'notified']);
    await t.expectOutputs(result.requestId, { notified: true, charge: { chargeId: 'ch-bob' } });
    expect(t.calls('billing/charge')).toEqual([expect.objectContaining({ input: { customer: 'bob' }, stepId: 'charge', attempt: 1, at: Date.UTC(2026, 0, 1) + 30 * DAY_MS })]);
    await expect(t.expectSteps(result.requestId, ['charge'])).rejects.toBeInstanceOf(AssertionError);
    await expect(t.expectOutputs(result.requestId, { notified: false })).rejects.toThrow(/outputs of run/);
    await t.close();
  });

  it('waits for events and approvals, which it cannot skip, and goes on when they come', async () => {
    const order = defineFlow({
      id: 'shop/order',
      actions: {
        main: {
          params: { orderId: { type: 'text', required: true } },
          outputs: { paid: { type: 'map', returned: true } },
          startAt: 'payment',
          steps: {
            payment: { stepType: 'WAIT', event: 'payment.received', match: { orderId: 'input.orderId' }, outputMappings: { '$.outputs.paid': '$.event' }, defaultNextStepInstanceId: 'decide' },
            decide: { stepType: 'DECIDE', transitions: [{ condition: 'outputs.paid.amount > 100', nextStepInstanceId: 'ship' }], defaultNextStepInstanceId: 'ship' },
            ship: { stepType: 'MODULE', moduleIdentifier: 'shop/ship' },
          },
        },
      },
    });
    const t = createFlowTest({
      modules: { 'shop/ship': () => ({ shipped: true }) },
      governance: (request) => (request.stepType === 'MODULE' ? { decision: 'approve', reason: 'shipping costs money' } : 'allow'),
    });
    const run = await t.start({ flow: order, input: { orderId: 'o-7' } });
    expect(run.status).toBe('INACTIVE');
    await expect(t.finish(run.runId)).rejects.toMatchObject({ code: 'STILL_WAITING' });
    await t.advance(DAY_MS);
    await t.publishEvent('payment.received', { orderId: 'o-7', amount: 250 });
    await expect(t.finish(run.runId)).rejects.toThrow(/approval at step "ship"/);
    await t.approve(run.runId);
    const ended = await t.finish(run.runId);
    expect(ended).toMatchObject({ status: 'SUCCEEDED', output: { paid: { orderId: 'o-7', amount: 250 } } });
    await t.expectLedger(run.runId, [{ kind: 'decide', to: { branch: 0, condition: 'outputs.paid.amount > 100', next: 'ship' } }, { kind: 'governance' }]);
    await t.close();
  });

  it('times out an event that never comes at the virtual deadline, and mocks models per test', async () => {
    const t = createFlowTest({ models: { 'acme:writer': (request) => ({ title: `About ${String(request.input.topic)}` }) } });
    const flow = defineFlow({
      id: 'docs/title',
      actions: {
        main: {
          startAt: 'ask',
          steps: {
            ask: { stepType: 'ASK', model: 'acme:writer', inputMappings: { topic: '"tea"' }, returns: { title: { type: 'text' } }, defaultNextStepInstanceId: 'wait' },
            wait: { stepType: 'WAIT', event: 'never', timeoutMs: 3 * DAY_MS, catch: [{ errorEquals: ['TIMEOUT'], next: 'late' }] },
            late: { stepType: 'SUCCEED', expression: 'steps.ask' },
          },
        },
      },
    });
    const result = await t.run({ flow });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { title: 'About tea' } });
    const visits = await t.steps(result.requestId);
    expect(visits.map((v) => [v.stepId, v.outcome, v.at - Date.UTC(2026, 0, 1)])).toEqual([['ask', 'succeeded', 0], ['wait', 'caught', 3 * DAY_MS], ['late', 'succeeded', 3 * DAY_MS]]);
    await t.close();
  });
});

describe('createFlowTest with schedules', () => {
  it('fires a flow\'s schedule at each slot as virtual time advances: a day of an hourly schedule in no time', async () => {
    const hourly = defineFlow({
      id: 'reports/hourly',
      schedules: [{ name: 'hourly', every: '1h' }],
      actions: { main: { startAt: 'work', steps: { work: { stepType: 'COMPUTE', expression: 'schedule.scheduledTime' } } } },
    });
    const t = createFlowTest({ flows: [hourly], startMs: Date.UTC(2026, 0, 1, 0, 30) });
    await t.advance(DAY_MS);
    const runs = (await t.engine.listRuns({ flowId: 'reports/hourly', limit: 100 })).runs;
    expect(runs).toHaveLength(24);
    expect(runs.every((r) => r.status === 'SUCCEEDED' && r.source === 'schedule')).toBe(true);
    const slots = runs.map((r) => r.startTime).sort((a, b) => a - b);
    expect(slots[0]).toBe(Date.UTC(2026, 0, 1, 1));
    expect(slots[23]).toBe(Date.UTC(2026, 0, 2, 0));
    expect(t.clock.now()).toBe(Date.UTC(2026, 0, 2, 0, 30));
    await t.close();
  });
});
