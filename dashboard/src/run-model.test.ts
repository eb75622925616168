import { describe, expect, it } from 'vitest';
import type { FlowDefinition, LiveRunEvent } from '../../src/client/index.js';
import { applyRunEvent, applyRunRecord, emptyRunModel, stepState } from './run-model.js';

const flow: FlowDefinition = {
  id: 'demo/approval',
  actions: {
    main: {
      startAt: 'check',
      steps: {
        check: { stepType: 'DECIDE', transitions: [{ condition: 'input.amount > 1000', nextStepInstanceId: 'refuse' }], defaultNextStepInstanceId: 'charge' },
        refuse: { stepType: 'FAIL', code: 'TOO_LARGE' },
        charge: { stepType: 'MODULE', moduleIdentifier: 'charge', defaultNextStepInstanceId: 'receipt' },
        receipt: { stepType: 'COMPUTE', expression: '{ok: true}' },
      },
    },
  },
};

let seq = 0;
const at = (body: Record<string, unknown>): LiveRunEvent => ({ runId: 'r1', seq: ++seq, time: 1000 + seq, ...body }) as LiveRunEvent;
const log = (code: string, details: Record<string, unknown>) => at({ kind: 'log', entry: { time: 1000 + seq, code, description: code, details } });

describe('the run page model', () => {
  it('colours steps as the run goes: running, waiting for approval, done, and skipped once it ended', () => {
    const model = emptyRunModel(flow, 'main');
    applyRunEvent(model, at({ kind: 'status', status: 'ACTIVE' }), flow);
    expect(stepState(model, 'action:main/check')).toBe('running');
    applyRunEvent(model, at({ kind: 'ledger', entry: { time: 1, kind: 'decide', from: { flowId: 'demo/approval', graph: 'action:main', stepId: 'check' }, to: { next: 'charge' } } }), flow);
    applyRunEvent(model, log('StepSucceeded', { stepId: 'check', graph: 'action:main', startedAt: 1000, durationMs: 2, attempt: 1 }), flow);
    expect([stepState(model, 'action:main/check'), stepState(model, 'action:main/charge')]).toEqual(['done', 'running']);
    applyRunEvent(model, log('ApprovalRequested', { stepId: 'charge' }), flow);
    applyRunEvent(model, at({ kind: 'status', status: 'INACTIVE' }), flow);
    expect(stepState(model, 'action:main/charge')).toBe('waiting');
    expect(model.approval?.stepId).toBe('charge');
    applyRunEvent(model, log('StepApproved', { stepId: 'charge' }), flow);
    applyRunEvent(model, at({ kind: 'status', status: 'ACTIVE' }), flow);
    expect(model.approval).toBeNull();
    applyRunEvent(model, log('StepSucceeded', { stepId: 'charge', graph: 'action:main', startedAt: 1010, durationMs: 5, attempt: 1 }), flow);
    expect(stepState(model, 'action:main/receipt')).toBe('running');
    applyRunEvent(model, log('StepSucceeded', { stepId: 'receipt', graph: 'action:main', startedAt: 1020, durationMs: 1, attempt: 1 }), flow);
    applyRunEvent(model, at({ kind: 'status', status: 'SUCCEEDED' }), flow);
    expect(['check', 'charge', 'receipt', 'refuse'].map((s) => stepState(model, `action:main/${s}`))).toEqual(['done', 'done', 'done', 'skipped']);
    expect(model.visits.map((v) => [v.stepId, v.durationMs])).toEqual([['check', 2], ['charge', 5], ['receipt', 1]]);
    expect(model.lastSeq).toBe(seq);
  });

  it('marks a failed step, keeps retries on the timeline, and does not move lastSeq for transient events', () => {
    const model = emptyRunModel(flow, 'main');
    applyRunEvent(model, log('StepRetrying', { stepId: 'charge', attempt: 1, startedAt: 1, durationMs: 3 }), flow);
    applyRunEvent(model, log('StepFailed', { stepId: 'charge', graph: 'action:main', attempt: 2, startedAt: 9, durationMs: 4 }), flow);
    const last = model.lastSeq;
    applyRunEvent(model, { ...at({ kind: 'item', change: 'added', item: { id: 'i1', type: 'note', status: 'done', content: 1, transient: true, runId: 'r1', createdAt: 1, updatedAt: 1 } }), seq: last, transient: true }, flow);
    applyRunEvent(model, at({ kind: 'status', status: 'FAILED' }), flow);
    expect(stepState(model, 'action:main/charge')).toBe('failed');
    expect(model.visits.map((v) => v.outcome)).toEqual(['retrying', 'failed']);
    expect(model.items.get('i1')?.transient).toBe(true);
  });

  it("takes the record's frames and suspension over the events' guess, until the run visits that step again", () => {
    const model = emptyRunModel(flow, 'main');
    applyRunEvent(model, at({ kind: 'status', status: 'ACTIVE' }), flow);
    // The events alone would guess `check` (the start); the record says the run is in `charge`.
    applyRunRecord(model, { status: 'ACTIVE', frames: [{ graph: 'action:main', at: 'charge', attempt: 1 }] });
    expect([stepState(model, 'action:main/check'), stepState(model, 'action:main/charge')]).toEqual(['pending', 'running']);
    applyRunRecord(model, { status: 'INACTIVE', suspension: { kind: 'approval', stepId: 'charge', graph: 'action:main', since: 1 } });
    expect(stepState(model, 'action:main/charge')).toBe('waiting');
    // The run moved on: a visit of `charge` after the read ends the record's word, and the events speak again.
    applyRunEvent(model, log('StepSucceeded', { stepId: 'charge', graph: 'action:main', startedAt: 1010, durationMs: 5, attempt: 1 }), flow);
    expect([stepState(model, 'action:main/charge'), stepState(model, 'action:main/receipt')]).toEqual(['done', 'running']);
  });
});
