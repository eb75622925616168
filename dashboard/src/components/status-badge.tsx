/** A run's or a step's status as a coloured label. */
import type { ReactNode } from 'react';

const LABELS: Record<string, string> = { ACTIVE: 'running', INACTIVE: 'waiting', SUCCEEDED: 'succeeded', FAILED: 'failed', CANCELED: 'canceled' };

/** A run status (`ACTIVE` reads "running", `INACTIVE` "waiting"); the raw status is in `data-status` for tests and styles. */
export function StatusBadge({ status }: { status: string }): ReactNode {
  return (
    <span className={`badge status-${status.toLowerCase()}`} data-status={status} title={status}>
      {LABELS[status] ?? status.toLowerCase()}
    </span>
  );
}
