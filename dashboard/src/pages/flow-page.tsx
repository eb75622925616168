/**
 * A flow's page: pick a version (the published one first), publish it, see its graph and its
 * definition as JSON, and start a run of one of its actions from a form built from the action's
 * params. A version deployed from a `.flow` file shows that source in a tab beside the JSON.
 */
import { lazy, Suspense, useState, type ReactNode } from 'react';
import type { FlowVersionRecord } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { JsonView } from '../components/json-view.js';
import { formatTime } from '../format.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';
import { StartRunForm } from './start-run-form.js';

const FlowGraph = lazy(() => import('../graph/flow-graph.js').then((m) => ({ default: m.FlowGraph })));

/** The page of flow `flowId`. */
export function FlowPage({ flowId }: { flowId: string }): ReactNode {
  const { client } = useSession();
  const [version, setVersion] = useState<number | null>(null);
  const summary = useApi(async () => (await client.listFlows()).find((f) => f.flowId === flowId) ?? null, [client, flowId]);
  const flow = useApi<FlowVersionRecord>(() => client.getFlow(flowId, version === null ? {} : { version }), [client, flowId, version]);
  const [publishError, setPublishError] = useState<unknown>(null);
  const [action, setAction] = useState<string | null>(null);
  const record = flow.data;
  const latest = summary.data?.latestVersion ?? record?.version ?? 1;
  const actions = record ? Object.keys(record.definition.actions) : [];
  const chosenAction = action && actions.includes(action) ? action : (actions[0] ?? 'main');
  const publish = async (): Promise<void> => {
    if (!record) return;
    setPublishError(null);
    try {
      await client.publishFlow(flowId, record.version);
      summary.reload();
      flow.reload();
    } catch (e) {
      setPublishError(e);
    }
  };
  return (
    <section className="flow">
      <h1>
        {record?.definition.title ?? flowId} <span className="mono muted small">{flowId}</span>
      </h1>
      <ErrorMessage error={summary.error ?? flow.error} />
      {record && (
        <>
          <div className="toolbar">
            <label>
              Version{' '}
              <select name="version" value={record.version} onChange={(e) => setVersion(Number(e.target.value))}>
                {Array.from({ length: latest }, (_, i) => latest - i).map((v) => (
                  <option key={v} value={v}>
                    v{v}
                    {v === summary.data?.publishedVersion ? ' (published)' : ''}
                  </option>
                ))}
              </select>
            </label>
            {record.published ? (
              <span className="tag">published</span>
            ) : (
              <button type="button" onClick={publish}>
                Publish v{record.version}
              </button>
            )}
            <span className="muted">
              deployed by {record.deployedBy} at {formatTime(record.deployedAt)}
            </span>
            {actions.length > 1 && (
              <label>
                Action{' '}
                <select name="action" value={chosenAction} onChange={(e) => setAction(e.target.value)}>
                  {actions.map((a) => (
                    <option key={a}>{a}</option>
                  ))}
                </select>
              </label>
            )}
          </div>
          <ErrorMessage error={publishError} />
          {record.definition.description && <p>{record.definition.description}</p>}
          <h2>Start a run of {chosenAction}</h2>
          <StartRunForm key={`${record.version}/${chosenAction}`} flowId={flowId} version={record.version} actionName={chosenAction} action={record.definition.actions[chosenAction]} />
          <h2>Graph</h2>
          <Suspense fallback={<div className="graph muted">Loading the graph…</div>}>
            <FlowGraph definition={record.definition} />
          </Suspense>
          <DefinitionTabs record={record} />
        </>
      )}
    </section>
  );
}

/** The definition as JSON and, when the version came from a `.flow` file, its source with line numbers (the ledger's `file:line`). */
function DefinitionTabs({ record }: { record: FlowVersionRecord }): ReactNode {
  const [tab, setTab] = useState<'json' | 'source'>('json');
  const source = record.source;
  const shown = source ? tab : 'json';
  return (
    <>
      <h2>Definition</h2>
      {source && (
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={shown === 'json'} onClick={() => setTab('json')}>
            JSON
          </button>
          <button type="button" role="tab" aria-selected={shown === 'source'} onClick={() => setTab('source')}>
            Source{source.fileName ? ` (${source.fileName})` : ''}
          </button>
        </div>
      )}
      {shown === 'json' ? (
        <JsonView value={record.definition} openDepth={1} />
      ) : (
        <pre className="flow-source" data-testid="flow-source">
          {source!.text.split('\n').map((line, i) => (
            <span key={i} className="source-line">
              <span className="line-number">{i + 1}</span>
              {line}
              {'\n'}
            </span>
          ))}
        </pre>
      )}
    </>
  );
}
