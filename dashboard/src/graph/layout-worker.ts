/**
 * Lays flows out off the main thread: dagre takes a few hundred ms for a chain of 200 steps,
 * which in the page would freeze it while a big run's page loads. One message in (a definition
 * and an action), one out (the nodes and edges, or the error's message).
 */
import type { FlowDefinition } from '../../../src/client/index.js';
import { layoutFlow } from './layout-flow.js';

/** What the page asks the worker. */
export interface LayoutRequest {
  id: number;
  definition: FlowDefinition;
  actionName?: string;
}

self.onmessage = (event: MessageEvent<LayoutRequest>) => {
  const { id, definition, actionName } = event.data;
  try {
    self.postMessage({ id, laid: layoutFlow(definition, actionName) });
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
