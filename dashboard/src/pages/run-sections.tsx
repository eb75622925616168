/** The lower sections of a run page: timeline (waterfall of step visits), logs, items, ledger and child runs. */
import { useState, type ReactNode } from 'react';
import { Link } from 'wouter';
import type { LiveRunEvent, LogEntry, Run } from '../../../src/client/index.js';
import { JsonView } from '../components/json-view.js';
import { ErrorMessage } from '../components/error-message.js';
import { StatusBadge } from '../components/status-badge.js';
import { formatDuration, formatTime, runPath } from '../format.js';
import type { StepVisit } from '../run-model.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';

/** Entries rendered at most (the newest): the rest are counted, not drawn. */
const SHOWN = 1_000;

/** Step visits as bars on the run's time axis, with durations and attempts. */
export function Timeline({ visits, startTime, endTime }: { visits: StepVisit[]; startTime: number; endTime: number | null }): ReactNode {
  if (visits.length === 0) return <p className="empty">No step has finished yet.</p>;
  const shown = visits.slice(-SHOWN);
  // A run still going is drawn up to now, so bars keep their true share of its time.
  const end = Math.max(endTime ?? Date.now(), ...shown.map((v) => v.startedAt + v.durationMs), startTime + 1);
  const span = end - startTime;
  return (
    <div className="timeline">
      {visits.length > SHOWN && <p className="muted">the last {SHOWN} of {visits.length} visits</p>}
      {shown.map((v, i) => (
        <div key={i} className={`visit visit-${v.outcome}`} data-step={v.stepId}>
          <span className="visit-name">
            {v.stepId}
            {v.attempt > 1 && <span className="muted"> (attempt {v.attempt})</span>}
          </span>
          <span className="visit-track">
            <span className="visit-bar" style={{ left: `${((v.startedAt - startTime) / span) * 100}%`, width: `max(2px, ${(v.durationMs / span) * 100}%)` }} />
          </span>
          <span className="visit-time">{formatDuration(v.durationMs)}</span>
        </div>
      ))}
    </div>
  );
}

/** The run's log entries, newest last. */
export function LogList({ logs }: { logs: LogEntry[] }): ReactNode {
  if (logs.length === 0) return <p className="empty">No log entries.</p>;
  const shown = logs.slice(-SHOWN);
  return (
    <div>
      {logs.length > SHOWN && <p className="muted">the last {SHOWN} of {logs.length} entries</p>}
      <table className="logs">
        <tbody>
          {shown.map((entry, i) => (
            <tr key={logs.length - shown.length + i} data-code={entry.code}>
              <td className="mono small">{formatTime(entry.time)}</td>
              <td>
                <code>{entry.code}</code>
              </td>
              <td>{entry.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type ItemRecord = Extract<LiveRunEvent, { kind: 'item' }>['item'];

/** The run's items (transient ones included, marked), in their latest state. */
export function ItemsList({ items }: { items: ItemRecord[] }): ReactNode {
  if (items.length === 0) return <p className="empty">No items.</p>;
  return (
    <ul className="items">
      {items.slice(-SHOWN).map((item) => (
        <li key={item.id}>
          <code>{item.type}</code> <span className="muted">{item.status}</span>
          {item.transient && <span className="tag">transient</span>}
          {item.stepId && <span className="muted"> · step {item.stepId}</span>}
          <JsonView value={item.content} openDepth={1} />
        </li>
      ))}
    </ul>
  );
}

type LedgerRecord = Extract<LiveRunEvent, { kind: 'ledger' }>['entry'];

/** The ledger of control flow: run / goto / launch / decide / call / governance, with the source line of `.flow` steps. */
export function LedgerList({ ledger }: { ledger: LedgerRecord[] }): ReactNode {
  if (ledger.length === 0) return <p className="empty">No control-flow entries.</p>;
  return (
    <table className="ledger">
      <tbody>
        {ledger.slice(-SHOWN).map((entry, i) => (
          <tr key={i}>
            <td className="mono small">{formatTime(entry.time)}</td>
            <td>
              <code>{entry.kind}</code>
            </td>
            <td>
              {entry.from.graph} / <strong>{entry.from.stepId}</strong>
              {entry.from.source && (
                <span className="muted">
                  {' '}
                  ({entry.from.source.file ?? 'flow'}:{entry.from.source.line})
                </span>
              )}
            </td>
            <td>
              {typeof entry.to.runId === 'string' ? (
                <Link href={runPath(entry.to.runId)} className="mono">
                  {String(entry.to.flowId ?? '')} {entry.to.runId.slice(0, 8)}…
                </Link>
              ) : (
                <span className="mono small">{JSON.stringify(entry.to)}</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The runs this run started (calls and launches), re-read when `version` changes; each one unfolds to the runs it started in turn. */
export function ChildRuns({ runId, version }: { runId: string; version: number }): ReactNode {
  const { client } = useSession();
  const children = useApi<Run[]>(() => client.getRunChildren(runId), [client, runId, version]);
  if (children.error) return <ErrorMessage error={children.error} />;
  if (!children.data) return <p className="muted">Loading…</p>;
  if (children.data.length === 0) return <p className="empty">This run started no other run.</p>;
  return (
    <ul className="children">
      {children.data.map((child) => (
        <ChildRun key={child.runId} child={child} version={version} />
      ))}
    </ul>
  );
}

function ChildRun({ child, version }: { child: Run; version: number }): ReactNode {
  const [open, setOpen] = useState(false);
  return (
    <li data-child-run={child.runId}>
      <button type="button" className="fold" aria-expanded={open} onClick={() => setOpen(!open)} title="the runs it started">
        {open ? '▾' : '▸'}
      </button>
      <StatusBadge status={child.status} />{' '}
      <Link href={runPath(child.runId)} className="mono">
        {child.runId}
      </Link>{' '}
      {child.flowId} <span className="muted">{child.detached ? 'launched' : 'called'} · {formatTime(child.startTime)}</span>
      {open && (
        <div className="nested">
          <ChildRuns runId={child.runId} version={version} />
        </div>
      )}
    </li>
  );
}
