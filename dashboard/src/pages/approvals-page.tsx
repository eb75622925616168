/**
 * The approvals page: the runs waiting for a decision this token may make (the server answers
 * only those), oldest wait first as the API lists them, with the step, the policy's reason and
 * since when, and approve / reject with a comment inline. Paged by the listing's marker; polled
 * every few seconds so a decision made elsewhere drops the row.
 */
import { useState, type ReactNode } from 'react';
import { Link } from 'wouter';
import type { ApprovalList, PendingApproval } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { flowPath, formatDuration, formatTime, runPath } from '../format.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';

const PAGE_SIZE = 25;
const POLL_MS = 5_000;

/** The approvals page. */
export function ApprovalsPage(): ReactNode {
  const { client } = useSession();
  // Markers of the pages before this one: "previous" pops, "next" pushes.
  const [markers, setMarkers] = useState<(string | null)[]>([null]);
  const marker = markers[markers.length - 1] ?? null;
  const approvals = useApi<ApprovalList>(() => client.listApprovals({ limit: PAGE_SIZE, ...(marker ? { marker } : {}) }), [client, marker], { pollMs: POLL_MS });
  const list = approvals.data;
  return (
    <section>
      <h1>Approvals</h1>
      <ErrorMessage error={approvals.error} />
      {list && list.approvals.length === 0 && <p className="empty">Nothing waits for a decision you may make.</p>}
      {list && list.approvals.length > 0 && (
        <table className="approvals">
          <thead>
            <tr>
              <th>Run</th>
              <th>Flow</th>
              <th>Step</th>
              <th>Reason</th>
              <th>Waiting since</th>
              <th>Decision</th>
            </tr>
          </thead>
          <tbody>
            {list.approvals.map((approval) => (
              <ApprovalRow key={`${approval.run.runId}/${approval.graph}/${approval.stepId}`} approval={approval} onDecided={approvals.reload} />
            ))}
          </tbody>
        </table>
      )}
      {list && (markers.length > 1 || list.hasNextPage) && (
        <div className="pager">
          <button type="button" disabled={markers.length <= 1} onClick={() => setMarkers(markers.slice(0, -1))}>
            ← Previous
          </button>
          <button type="button" disabled={!list.hasNextPage || !list.marker} onClick={() => setMarkers([...markers, list.marker])}>
            Next →
          </button>
        </div>
      )}
      {!list && !approvals.error && <p className="muted">Loading…</p>}
    </section>
  );
}

function ApprovalRow({ approval, onDecided }: { approval: PendingApproval; onDecided: () => void }): ReactNode {
  const { client } = useSession();
  const { run, stepId } = approval;
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const decide = async (decision: 'approve' | 'reject'): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const options = { stepId, ...(comment.trim() ? { comment: comment.trim() } : {}) };
      await (decision === 'approve' ? client.approve(run.runId, options) : client.reject(run.runId, options));
      onDecided();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const where = approval.source ? `${approval.source.file ?? ''}:${approval.source.line}` : null;
  return (
    <tr data-approval-run={run.runId}>
      <td>
        <Link href={runPath(run.runId)} className="mono">
          {run.runId.slice(0, 8)}…
        </Link>
        {run.label && <div className="muted">{run.label}</div>}
      </td>
      <td>
        <Link href={flowPath(run.flowId)}>{run.flowTitle ?? run.flowId}</Link> <span className="muted">v{run.flowVersion}</span>
      </td>
      <td>
        <code>{stepId}</code>
        {approval.graph !== `action:${run.actionName}` && <span className="muted"> in {approval.graph}</span>}
        {where && <div className="muted mono">{where}</div>}
      </td>
      <td>{approval.reason ?? <span className="muted">—</span>}</td>
      <td title={formatTime(approval.since)}>
        {formatTime(approval.since)}
        <div className="muted">{formatDuration(Date.now() - approval.since)} ago</div>
      </td>
      <td className="decision">
        <input aria-label={`comment for ${run.runId}`} name="comment" placeholder="comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} />
        <button type="button" disabled={busy} onClick={() => void decide('approve')}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void decide('reject')}>
          Reject
        </button>
        <ErrorMessage error={error} />
      </td>
    </tr>
  );
}
