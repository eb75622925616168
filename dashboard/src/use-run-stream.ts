/**
 * Follows a run live: its event stream (`GET /runs/{id}/stream`, through the client's
 * `watchRun`) replays every persisted event, then sends new ones as they happen. When the
 * connection drops, the hook says so and opens the stream again after the last seq it folded
 * (`Last-Event-ID`), so nothing is lost or folded twice; it backs off up to 5 s between tries.
 * Events are folded at once but rendered at most once per animation frame, and the fold yields
 * the main thread every ~8 ms: a run with ten thousand log entries replays without ten thousand
 * renders or a frozen page.
 */
import { useEffect, useRef, useState } from 'react';
import type { FlowClient, FlowDefinition } from '../../src/client/index.js';
import { noteRequestOutcome } from './connection.js';
import { applyRunEvent, emptyRunModel, type RunModel } from './run-model.js';

/** The live state of a run page's stream. */
export interface RunStream {
  model: RunModel;
  /** Bumped on every render-worthy change (the model is folded in place). */
  version: number;
  connected: boolean;
  error: Error | undefined;
}

/** Streams the run's events into a {@link RunModel}; `onStatus` hears every status event (to re-read the run). */
export function useRunStream(client: FlowClient, runId: string, definition: FlowDefinition | undefined, actionName: string | undefined, onStatus: () => void): RunStream {
  const modelRef = useRef<RunModel | null>(null);
  const [version, setVersion] = useState(0);
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const onStatusRef = useRef(onStatus);
  onStatusRef.current = onStatus;
  const ready = actionName !== undefined;
  useEffect(() => {
    if (!ready) return;
    const model = emptyRunModel(definition, actionName);
    modelRef.current = model;
    setVersion((v) => v + 1);
    const controller = new AbortController();
    let frame = 0;
    const render = (): void => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setVersion((v) => v + 1);
      });
    };
    void (async () => {
      let delayMs = 250;
      while (!controller.signal.aborted) {
        try {
          setConnected(true);
          let ended = false;
          let sliceStart = performance.now();
          for await (const event of client.watchRun(runId, { afterSeq: model.lastSeq, signal: controller.signal, maxReconnects: 0 })) {
            applyRunEvent(model, event, definition);
            // A replay of thousands of events arrives in a few large chunks, all parsed in one task:
            // hand the main thread back every few ms so the page keeps answering clicks and paints.
            if (performance.now() - sliceStart > 8) {
              await new Promise((resolve) => setTimeout(resolve, 0));
              sliceStart = performance.now();
            }
            delayMs = 250;
            if (event.kind === 'status') {
              onStatusRef.current();
              if (!event.transient && ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(event.status)) ended = true;
            }
            render();
          }
          noteRequestOutcome();
          setError(undefined);
          // The stream ends after the terminal status; a run that ended before we came ends it at once.
          if (ended || model.status === null || ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(model.status)) break;
        } catch (e) {
          if (controller.signal.aborted) break;
          noteRequestOutcome(e);
          setConnected(false);
          const code = (e as { code?: string }).code;
          // Not found, not allowed: no point retrying.
          if (code !== 'NETWORK_ERROR' && code !== 'UNAVAILABLE' && code !== 'LIMIT_EXCEEDED') {
            setError(e as Error);
            break;
          }
          setError(e as Error);
          await new Promise((r) => setTimeout(r, delayMs));
          delayMs = Math.min(delayMs * 2, 5_000);
        }
      }
      if (!controller.signal.aborted) setConnected(false);
    })();
    return () => {
      controller.abort();
      cancelAnimationFrame(frame);
    };
  }, [client, runId, definition, actionName, ready]);
  return { model: modelRef.current ?? emptyRunModel(definition, actionName ?? 'main'), version, connected, error };
}
