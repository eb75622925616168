/**
 * The runs page: the runs this token may see, newest first, filtered by status, flow, label,
 * tags and start time, paged by the listing's marker, with search by id. It polls the page shown
 * (the API streams one run's events, not a listing's changes) — the newest page five times a
 * second, answered 304 while the store is unchanged — so new runs and status changes appear
 * without reloading.
 *
 * Without a filter it lists the roots of run trees (`rootsOnly`), each with a fold that loads its
 * children, so a child sits under its parent whatever page the parent is on. With a filter it lists
 * every matching run, children included, each child naming its parent: someone asking for FAILED
 * runs wants the failed child of a run that succeeded, which a roots-only list would hide.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { useLocation, useSearch } from 'wouter';
import type { RunList } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { StatusBadge } from '../components/status-badge.js';
import { runPath } from '../format.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';
import { filtersFromSearch, hasFilter, listOptions, searchFromFilters, STATUSES, type RunFilters } from './runs-filters.js';
import { RunsTable } from './runs-table.js';
import { OLDER_PAGE_POLL_MS, RUNS_POLL_MS } from './runs-polling.js';

const PAGE_SIZE = 50;

/** The runs page. */
export function RunsPage(): ReactNode {
  const { client } = useSession();
  const search = useSearch();
  const [, navigate] = useLocation();
  const filters = filtersFromSearch(search);
  const flat = hasFilter(filters);
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
      const options = { ...listOptions(filters), limit: PAGE_SIZE, childCounts: true, ...(flat ? {} : { rootsOnly: true }), ...(marker ? { marker } : {}) };
      // The count only on the first read of a filter: polls page by marker alone, which costs no count.
      if (total?.search !== search && marker === null) {
        const page = await client.listRuns(options);
        setTotal({ search, count: page.total ?? page.runs.length, estimate: page.totalIsEstimate === true });
        return page;
      }
      return client.listRuns({ ...options, markerOnly: true });
    },
    [client, search, marker],
    { pollMs: marker === null ? RUNS_POLL_MS : OLDER_PAGE_POLL_MS },
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
            {total?.search === search ? `${total.estimate ? 'about ' : ''}${total.count.toLocaleString('en')} ${flat ? 'run' : 'top-level run'}${total.count === 1 ? '' : 's'}` : ''}
          </p>
          <RunsTable runs={runs.data.runs} showParents={flat} />
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
