/**
 * The runs table as a tree: each row with children has a fold showing how many (the listing's
 * `childCount`: at most 20 counted, then "20+"); unfolding reads that run's children from
 * `GET /runs/{id}/children` (oldest first, 50 more per "show more"), so children fold under their
 * parent whichever page the parent is on, and they unfold in turn. An open branch re-reads its
 * children while open, so their status follows too.
 */
import { Fragment, useState, type ReactNode } from 'react';
import { Link } from 'wouter';
import type { Run, RunList } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { StatusBadge } from '../components/status-badge.js';
import { flowPath, formatDuration, formatTime, runPath } from '../format.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';

const CHILD_PAGE = 50;
/** Between two reads of an open branch (slower than the page: a branch is rarely what changes). */
const CHILDREN_POLL_MS = 3_000;
const COLUMNS = 9;

/** The table; `showParents` adds a link to the parent on rows that have one (a flat, filtered list). */
export function RunsTable({ runs, showParents = false }: { runs: Run[]; showParents?: boolean }): ReactNode {
  if (runs.length === 0) return <p className="empty">No runs match.</p>;
  return (
    <table className="runs">
      <thead>
        <tr>
          <th>Status</th>
          <th>Run</th>
          <th>Flow</th>
          <th>Action</th>
          <th>Label</th>
          <th>Tags</th>
          <th>Owner</th>
          <th>Started</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <RunBranch key={run.runId} run={run} depth={0} showParent={showParents} />
        ))}
      </tbody>
    </table>
  );
}

/** A run's row and, when unfolded, its children's branches. */
function RunBranch({ run, depth, showParent }: { run: Run; depth: number; showParent: boolean }): ReactNode {
  const [open, setOpen] = useState(false);
  return (
    <Fragment>
      <RunRow run={run} depth={depth} isOpen={open} onToggle={() => setOpen(!open)} showParent={showParent} />
      {open && <Children parent={run} depth={depth + 1} />}
    </Fragment>
  );
}

function Children({ parent, depth }: { parent: Run; depth: number }): ReactNode {
  const { client } = useSession();
  // One growing read (oldest first: new children come at the end), so the open branch polls as one request.
  const [limit, setLimit] = useState(CHILD_PAGE);
  const children = useApi<RunList>(() => client.listRunChildren(parent.runId, { limit, childCounts: true }), [client, parent.runId, limit], { pollMs: CHILDREN_POLL_MS });
  const indent = { paddingLeft: `${0.5 + depth * 1.25}rem` };
  if (children.error && !children.data) {
    return (
      <tr className="child">
        <td colSpan={COLUMNS} style={indent}>
          <ErrorMessage error={children.error} />
        </td>
      </tr>
    );
  }
  if (!children.data) {
    return (
      <tr className="child">
        <td colSpan={COLUMNS} style={indent} className="muted">
          Loading child runs…
        </td>
      </tr>
    );
  }
  return (
    <>
      {children.data.runs.map((kid) => (
        <RunBranch key={kid.runId} run={kid} depth={depth} showParent={false} />
      ))}
      {children.data.runs.length === 0 && (
        <tr className="child">
          <td colSpan={COLUMNS} style={indent} className="muted">
            No child runs this token may read.
          </td>
        </tr>
      )}
      {children.data.hasNextPage && (
        <tr className="child">
          <td colSpan={COLUMNS} style={indent}>
            <button type="button" className="link" onClick={() => setLimit(limit + CHILD_PAGE)}>
              Show more child runs of {parent.runId.slice(0, 8)}…
            </button>
          </td>
        </tr>
      )}
    </>
  );
}

function RunRow({ run, depth, isOpen, onToggle, showParent }: { run: Run; depth: number; isOpen: boolean; onToggle: () => void; showParent: boolean }): ReactNode {
  const duration = (run.endTime ?? Date.now()) - run.startTime;
  const count = run.childCount ?? 0;
  const countText = `${count}${run.childCountIsEstimate ? '+' : ''}`;
  return (
    <tr data-run-id={run.runId} className={depth > 0 ? 'child' : ''}>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td style={{ paddingLeft: `${0.5 + depth * 1.25}rem` }}>
        {count > 0 && (
          <button type="button" className="fold" aria-expanded={isOpen} onClick={onToggle} title={`${countText} child run${count === 1 ? '' : 's'}`}>
            {isOpen ? '▾' : '▸'} {countText}
          </button>
        )}
        <Link href={runPath(run.runId)} className="mono">
          {run.runId.slice(0, 8)}…
        </Link>
        {showParent && run.parentRunId && (
          <div className="muted" data-parent-run={run.parentRunId}>
            ↳ child of{' '}
            <Link href={runPath(run.parentRunId)} className="mono">
              {run.parentRunId.slice(0, 8)}…
            </Link>
          </div>
        )}
      </td>
      <td>
        <Link href={flowPath(run.flowId)}>{run.flowTitle ?? run.flowId}</Link> <span className="muted">v{run.flowVersion}</span>
      </td>
      <td>{run.actionName}</td>
      <td>{run.label ?? ''}</td>
      <td>
        {run.tags.map((t) => (
          <span key={t} className="tag">
            {t}
          </span>
        ))}
      </td>
      <td>{run.runOwnerString ?? run.runOwner}</td>
      <td>{formatTime(run.startTime)}</td>
      <td>{formatDuration(duration)}</td>
    </tr>
  );
}
