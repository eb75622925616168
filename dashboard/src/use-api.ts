/**
 * Loading data from the API into a component: `useApi` runs a call when its inputs change (and
 * every `pollMs` while the tab is visible), keeps the last answer while a new one loads, and hands
 * errors to the page as values — never a thrown render.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { noteRequestOutcome } from './connection.js';

/** The state of one API call. */
export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; with `pollMs`, again after each answer while the page is visible. */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], options: { pollMs?: number } = {}): ApiState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (polling = false): Promise<void> => {
      // A poll does not flag loading: one render per answer, not two.
      if (!polling) setState((s) => ({ ...s, loading: true }));
      try {
        const data = await loadRef.current(controller.signal);
        if (controller.signal.aborted) return;
        noteRequestOutcome();
        setState({ data, error: undefined, loading: false });
      } catch (error) {
        if (controller.signal.aborted) return;
        noteRequestOutcome(error);
        setState((s) => ({ data: s.data, error: error as Error, loading: false }));
      }
      if (options.pollMs !== undefined && !controller.signal.aborted) timer = setTimeout(poll, options.pollMs);
    };
    // A hidden tab does not poll; it catches up when shown again.
    const poll = (): void => {
      if (document.visibilityState === 'hidden') timer = setTimeout(poll, options.pollMs);
      else void run(true);
    };
    void run();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
    // The caller names what the call depends on (`deps`); `load` itself is read through a ref.
  }, [...deps, tick, options.pollMs]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
