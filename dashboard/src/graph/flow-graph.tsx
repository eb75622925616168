/**
 * The flow graph (React Flow): steps laid out by dagre, each coloured by its state in the run
 * when a run model is given (done, running, failed, waiting, skipped, pending), subflows as
 * groups. Loaded lazily: React Flow and dagre stay out of the first download.
 */
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { FlowDefinition } from '../../../src/client/index.js';
import { stepState, type RunModel } from '../run-model.js';
import type { LaidEdge, LaidNode } from './layout-flow.js';
import type { LayoutRequest } from './layout-worker.js';

type Laid = { nodes: LaidNode[]; edges: LaidEdge[] };
let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, (answer: { laid?: Laid; error?: string }) => void>();

/** The layout of a definition, computed by the layout worker (one per page, started on first use). */
function layoutInWorker(definition: FlowDefinition, actionName?: string): Promise<Laid> {
  if (!worker) {
    worker = new Worker(new URL('./layout-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<{ id: number; laid?: Laid; error?: string }>) => {
      pending.get(event.data.id)?.(event.data);
      pending.delete(event.data.id);
    };
  }
  const id = nextId++;
  const request: LayoutRequest = { id, definition, ...(actionName ? { actionName } : {}) };
  return new Promise((resolve, reject) => {
    pending.set(id, (answer) => (answer.laid ? resolve(answer.laid) : reject(new Error(`laying out the graph failed: ${answer.error}`))));
    worker!.postMessage(request);
  });
}

/** The layout of `definition`, or null while the worker computes it. */
function useLayout(definition: FlowDefinition, focus?: string): Laid | null {
  const [laid, setLaid] = useState<{ of: FlowDefinition; focus?: string; laid: Laid } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    let current = true;
    layoutInWorker(definition, focus).then(
      (result) => current && setLaid({ of: definition, ...(focus ? { focus } : {}), laid: result }),
      (e: Error) => current && setError(e),
    );
    return () => {
      current = false;
    };
  }, [definition, focus]);
  if (error) throw error;
  return laid && laid.of === definition && laid.focus === focus ? laid.laid : null;
}

/** The graph of `definition` (its action `focus`, else all), coloured by `model` when given; `version` re-colours. */
export function FlowGraph({ definition, focus, model, version }: { definition: FlowDefinition; focus?: string; model?: RunModel; version?: number }): ReactNode {
  const laid = useLayout(definition, focus);
  const nodes = useMemo<Node[]>(
    () =>
      (laid?.nodes ?? []).map((n) => {
        const state = n.kind === 'step' && model ? stepState(model, n.id) : undefined;
        const base = { id: n.id, data: { label: n.label, stepType: n.stepType?.toLowerCase() ?? '' }, draggable: false, selectable: false, connectable: false };
        if (n.kind === 'group') return { ...base, type: 'box', position: { x: n.x, y: n.y }, style: { width: n.width, height: n.height }, className: 'graph-group' };
        return {
          ...base,
          type: 'step',
          position: { x: n.x, y: n.y },
          parentId: n.parent!,
          extent: 'parent' as const,
          style: { width: n.width, height: n.height },
          className: `step step-${state ?? 'plain'}`,
          ...(state ? { ariaLabel: `${n.label} ${state}` } : {}),
          domAttributes: { 'data-step': n.id, 'data-state': state ?? 'plain' },
        } as Node;
      }),
    // `version` stands for the model, which is folded in place: a new version is a new colouring.
    [laid, model, version],
  );
  const edges = useMemo<Edge[]>(() => (laid?.edges ?? []).map((e) => ({ id: e.id, source: e.source, target: e.target, ...(e.label ? { label: e.label } : {}), ...(e.dashed ? { style: { strokeDasharray: '4 3' } } : {}) })), [laid]);
  if (!laid) return <div className="graph muted">Laying out the graph…</div>;
  const height = Math.min(640, Math.max(220, ...laid.nodes.filter((n) => n.kind === 'group').map((n) => n.y + n.height + 20)));
  return (
    <div className="graph" style={{ height }} data-testid="flow-graph">
      <ReactFlow nodeTypes={NODE_TYPES} nodes={nodes} edges={edges} fitView proOptions={{ hideAttribution: true }} nodesDraggable={false} nodesConnectable={false} minZoom={0.2}>
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
      {model && (
        <div className="legend">
          {['done', 'running', 'waiting', 'failed', 'skipped', 'pending'].map((s) => (
            <span key={s} className={`step-${s}`}>
              {s}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

type StepData = { label: string; stepType: string };

/** A step: its name, its type below, edges in at the top and out at the bottom. */
function StepNode({ data }: NodeProps<Node<StepData>>): ReactNode {
  return (
    <>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <span className="step-label">{data.label}</span>
      <span className="step-type">{data.stepType}</span>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </>
  );
}

/** An action's or a subflow's box, titled. */
function BoxNode({ data }: NodeProps<Node<StepData>>): ReactNode {
  return <span className="box-title">{data.label}</span>;
}

const NODE_TYPES = { step: StepNode, box: BoxNode };
