/**
 * A run's page: its record (status, times, owner, monitors and managers, input, output, error),
 * the actions the token may take, the flow's graph coloured by step state, and the timeline,
 * logs, items, ledger, streamed outputs and child runs — all following the run live through its
 * event stream (see use-run-stream.ts). The record is read again on every status change.
 */
import { lazy, Suspense, useCallback, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link } from 'wouter';
import type { FlowDefinition, Run } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { JsonView } from '../components/json-view.js';
import { StatusBadge } from '../components/status-badge.js';
import { flowPath, formatDuration, formatTime, runPath } from '../format.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';
import { applyRunRecord } from '../run-model.js';
import { useRunStream } from '../use-run-stream.js';
import { RunActions } from './run-actions.js';
import { ChildRuns, ItemsList, LedgerList, LogList, Timeline } from './run-sections.js';

const FlowGraph = lazy(() => import('../graph/flow-graph.js').then((m) => ({ default: m.FlowGraph })));

type Tab = 'timeline' | 'logs' | 'items' | 'ledger' | 'outputs' | 'children';

/** The page of run `runId`. */
export function RunPage({ runId }: { runId: string }): ReactNode {
  const { client } = useSession();
  // The definition a run executes never changes: keep the first one read, so the stream is not restarted by re-reads.
  const definitionRef = useRef<{ runId: string; definition: FlowDefinition | undefined } | null>(null);
  const run = useApi<Run>(
    async () => {
      const withDefinition = definitionRef.current?.runId !== runId;
      const answer = await client.getRun(runId, { includeFlowDefinition: withDefinition });
      if (withDefinition) definitionRef.current = { runId, definition: answer.flowDefinition };
      return answer;
    },
    [client, runId],
  );
  const definition = definitionRef.current?.runId === runId ? definitionRef.current.definition : undefined;
  const reload = run.reload;
  const stream = useRunStream(client, runId, definition, run.data?.runId === runId ? run.data.actionName : undefined, useCallback(() => reload(), [reload]));
  const [tab, setTab] = useState<Tab>('timeline');
  // Each record read says where the run stands (frames, suspension): the graph takes its word over the events' inference.
  const stamp = useRef(0);
  const recordStamp = useMemo(() => {
    if (run.data?.runId === runId) applyRunRecord(stream.model, run.data);
    return ++stamp.current;
  }, [stream.model, run.data, runId]);
  if (run.error && !run.data) return <ErrorMessage error={run.error} />;
  if (!run.data || run.data.runId !== runId) return <p className="muted">Loading…</p>;
  const r = run.data;
  const { model } = stream;
  const suspended = r.status === 'INACTIVE' && r.suspension?.kind === 'approval' ? { stepId: r.suspension.stepId, reason: r.suspension.reason ?? 'waits for a decision' } : null;
  const tabs: [Tab, string][] = [
    ['timeline', `Timeline (${model.visits.length})`],
    ['logs', `Logs (${model.logs.length})`],
    ['items', `Items (${model.items.size})`],
    ['ledger', `Ledger (${model.ledger.length})`],
    ['outputs', `Outputs (${Object.keys(model.outputs).length})`],
    ['children', 'Child runs'],
  ];
  return (
    <section className="run">
      <h1>
        <StatusBadge status={r.status} /> {r.label ?? r.flowTitle ?? r.flowId} <span className="mono muted small">{r.runId}</span>
      </h1>
      <ErrorMessage error={run.error} />
      {!stream.connected && stream.error && <ErrorMessage error={stream.error}>{(stream.error as { code?: string }).code === 'NETWORK_ERROR' && <p>Reconnecting to the run's event stream…</p>}</ErrorMessage>}
      <dl className="facts">
        <dt>Flow</dt>
        <dd>
          <Link href={flowPath(r.flowId)}>{r.flowId}</Link> v{r.flowVersion} · action <code>{r.actionName}</code>
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(r.startTime)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(r.endTime)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration((r.endTime ?? Date.now()) - r.startTime)}</dd>
        <dt>Owner</dt>
        <dd>
          {r.runOwnerString ?? r.runOwner}
          {r.createdBy !== r.runOwner && <span className="muted"> (created by {r.createdByString ?? r.createdBy})</span>}
          {r.runAs && <span className="muted"> · runs as {r.runAs}</span>}
        </dd>
        <dt>Monitors</dt>
        <dd>{principals(r.monitors)}</dd>
        <dt>Managers</dt>
        <dd>{principals(r.managers)}</dd>
        <dt>Tags</dt>
        <dd>
          {r.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </dd>
        {r.parentRunId && (
          <>
            <dt>Parent</dt>
            <dd>
              <Link href={runPath(r.parentRunId)} className="mono">
                {r.parentRunId}
              </Link>
              {r.detached && <span className="muted"> (launched)</span>}
            </dd>
          </>
        )}
        <dt>Source</dt>
        <dd>{r.source}</dd>
      </dl>
      <RunActions run={r} approval={suspended ?? model.approval} onChanged={reload} />
      {r.runError && (
        <div className="error" role="alert" data-testid="run-error">
          <strong>{r.runError.code}</strong> {r.runError.description}
          {r.runError.stepId && <span className="muted"> (step {r.runError.stepId})</span>}
        </div>
      )}
      <div className="columns">
        <div>
          <h2>Input</h2>
          <JsonView value={r.input} />
        </div>
        <div>
          <h2>Output</h2>
          <JsonView value={r.output ?? undefined} />
        </div>
      </div>
      <h2>Graph</h2>
      {definition ? (
        <Suspense fallback={<div className="graph muted">Loading the graph…</div>}>
          <FlowGraph definition={definition} focus={r.actionName} model={model} version={stream.version + recordStamp} />
        </Suspense>
      ) : (
        <p className="muted">The flow's definition is not visible to this token.</p>
      )}
      <div className="tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button key={id} type="button" role="tab" aria-selected={tab === id} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      <div className="tab-panel">
        {tab === 'timeline' && <Timeline visits={model.visits} startTime={r.startTime} endTime={r.endTime} />}
        {tab === 'logs' && <LogList logs={model.logs} />}
        {tab === 'items' && <ItemsList items={[...model.items.values()]} />}
        {tab === 'ledger' && <LedgerList ledger={model.ledger} />}
        {tab === 'outputs' && <JsonView value={Object.keys(model.outputs).length ? model.outputs : undefined} />}
        {tab === 'children' && <ChildRuns runId={r.runId} version={model.ledger.length} />}
      </div>
    </section>
  );
}

function principals(set: { users: string[]; groups: string[] }): string {
  const all = [...set.users, ...set.groups.map((g) => `group ${g}`)];
  return all.length ? all.join(', ') : '—';
}
