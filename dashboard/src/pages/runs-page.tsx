/**
 * The runs page: the runs this token may see, newest first, filtered by status, flow, label,
 * tags and start time, paged by the listing's marker, with search by id. It polls the page shown
 * every second (the API streams one run's events, not a listing's changes), so new runs and status
 * changes appear without reloading. Child runs on the page fold under their parent.
 */
import { Fragment, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import type { Run, RunList } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { StatusBadge } from '../components/status-badge.js';
import { flowPath, formatDuration, formatTime, runPath } from '../format.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';
import { filtersFromSearch, listOptions, searchFromFilters, STATUSES, type RunFilters } from './runs-filters.js';

const PAGE_SIZE = 50;
/** Between two reads of the page shown. */
export const RUNS_POLL_MS = 1_000;

/** The runs page. */
export function RunsPage(): ReactNode {
  const { client } = useSession();
  const search = useSearch();
  const [, navigate] = useLocation();
  const filters = filtersFromSearch(search);
  // Markers of the pages before this one: "previous" pops, "next" pushes.
  // Paging belongs to one filter: another one (or the back button) starts at the newest page.
  const [paging, setPaging] = useState<{ search: string; markers: (string | null)[] }>({ search, markers: [null] });
  const markers = paging.search === search ? paging.markers : [null];
  const setMarkers = (next: (string | null)[]): void => setPaging({ search, markers: next });
  const marker = markers[markers.length - 1] ?? null;
  // The count of the filter in the address: read once per filter (the first page with a total), not by every poll.
  const [total, setTotal] = useState<{ search: string; count: number; estimate: boolean } | null>(null);
  const runs = useApi<RunList>(
    async () => {
      const options = { ...listOptions(filters), limit: PAGE_SIZE, ...(marker ? { marker } : {}) };
      // The count only on the first read of a filter: polls page by marker alone, which costs no count.
      if (total?.search !== search && marker === null) {
        const page = await client.listRuns(options);
        setTotal({ search, count: page.total ?? page.runs.length, estimate: page.totalIsEstimate === true });
        return page;
      }
      return client.listRuns({ ...options, markerOnly: true });
    },
    [client, search, marker],
    { pollMs: RUNS_POLL_MS },
  );
  const setFilters = (next: RunFilters): void => {
    navigate(`/runs${searchFromFilters(next)}`);
  };
  return (
    <section>
      <h1>Runs</h1>
      <FilterBar key={search} filters={filters} onChange={setFilters} onOpen={(id) => navigate(runPath(id))} />
      <ErrorMessage error={runs.error} />
      {runs.data && (
        <>
          <p className="muted" data-testid="runs-count">
            {total?.search === search ? `${total.estimate ? 'about ' : ''}${total.count.toLocaleString('en')} run${total.count === 1 ? '' : 's'}` : ''}
          </p>
          <RunsTable runs={runs.data.runs} />
          <div className="pager">
            <button type="button" disabled={markers.length <= 1} onClick={() => setMarkers(markers.slice(0, -1))}>
              ← Newer
            </button>
            <button type="button" disabled={!runs.data.hasNextPage || !runs.data.marker} onClick={() => setMarkers([...markers, runs.data!.marker])}>
              Older →
            </button>
          </div>
        </>
      )}
      {!runs.data && !runs.error && <p className="muted">Loading…</p>}
    </section>
  );
}

function FilterBar({ filters, onChange, onOpen }: { filters: RunFilters; onChange: (f: RunFilters) => void; onOpen: (id: string) => void }): ReactNode {
  const [draft, setDraft] = useState(filters);
  const [runId, setRunId] = useState('');
  const apply = (event: FormEvent): void => {
    event.preventDefault();
    onChange(draft);
  };
  const toggle = (status: RunFilters['status'][number]): void => {
    const next = { ...draft, status: draft.status.includes(status) ? draft.status.filter((s) => s !== status) : [...draft.status, status] };
    setDraft(next);
    onChange(next);
  };
  const text = (name: 'flow' | 'label' | 'tags', placeholder: string): ReactNode => (
    <input aria-label={name} name={name} placeholder={placeholder} value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} />
  );
  return (
    <div className="filters">
      <form onSubmit={apply}>
        <span className="status-toggles">
          {STATUSES.map((status) => (
            <label key={status} className="check">
              <input type="checkbox" name={`status-${status}`} checked={draft.status.includes(status)} onChange={() => toggle(status)} />
              <StatusBadge status={status} />
            </label>
          ))}
        </span>
        {text('flow', 'flow id')}
        {text('label', 'label contains')}
        {text('tags', 'tags (a,b)')}
        <label>
          from <input type="datetime-local" name="from" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </label>
        <label>
          to <input type="datetime-local" name="to" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (runId.trim()) onOpen(runId.trim());
        }}
      >
        <input aria-label="run id" name="runId" placeholder="open run by id" value={runId} onChange={(e) => setRunId(e.target.value)} />
        <button type="submit">Open</button>
      </form>
    </div>
  );
}

/** The table; runs whose parent is on the page fold under it. */
export function RunsTable({ runs }: { runs: Run[] }): ReactNode {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const onPage = new Set(runs.map((r) => r.runId));
  const children = new Map<string, Run[]>();
  for (const run of runs) {
    if (run.parentRunId && onPage.has(run.parentRunId)) children.set(run.parentRunId, [...(children.get(run.parentRunId) ?? []), run]);
  }
  const top = runs.filter((r) => !(r.parentRunId && onPage.has(r.parentRunId)));
  const rows = (run: Run, depth: number): ReactNode => {
    const kids = children.get(run.runId) ?? [];
    const isOpen = open.has(run.runId);
    return (
      <Fragment key={run.runId}>
        <RunRow run={run} depth={depth} childCount={kids.length} isOpen={isOpen} onToggle={() => setOpen((s) => new Set(s.has(run.runId) ? [...s].filter((x) => x !== run.runId) : [...s, run.runId]))} />
        {isOpen && kids.map((kid) => rows(kid, depth + 1))}
      </Fragment>
    );
  };
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
      <tbody>{top.map((run) => rows(run, 0))}</tbody>
    </table>
  );
}

function RunRow({ run, depth, childCount, isOpen, onToggle }: { run: Run; depth: number; childCount: number; isOpen: boolean; onToggle: () => void }): ReactNode {
  const duration = (run.endTime ?? Date.now()) - run.startTime;
  return (
    <tr data-run-id={run.runId} className={depth > 0 ? 'child' : ''}>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td style={{ paddingLeft: `${0.5 + depth * 1.25}rem` }}>
        {childCount > 0 && (
          <button type="button" className="fold" aria-expanded={isOpen} onClick={onToggle} title={`${childCount} child run${childCount === 1 ? '' : 's'}`}>
            {isOpen ? '▾' : '▸'} {childCount}
          </button>
        )}
        <Link href={runPath(run.runId)} className="mono">
          {run.runId.slice(0, 8)}…
        </Link>
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
