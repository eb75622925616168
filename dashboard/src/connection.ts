/**
 * Whether the server answers: any request that got no answer at all (NETWORK_ERROR) marks the
 * connection lost, the next answer marks it back. The banner reads it; polls and streams keep
 * retrying on their own, so it clears by itself once the server is back.
 */
import { useSyncExternalStore } from 'react';

let online = true;
const listeners = new Set<() => void>();

/** Records the outcome of a request: `error` is what it threw, undefined when it was answered. */
export function noteRequestOutcome(error?: unknown): void {
  const reached = !(error instanceof Error && 'code' in error && (error as { code: unknown }).code === 'NETWORK_ERROR');
  if (reached === online) return;
  online = reached;
  for (const listener of listeners) listener();
}

/** True while the last request reached the server. */
export function useOnline(): boolean {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => online,
  );
}
