/**
 * A flow definition as graph nodes and edges, laid out by dagre (top to bottom): the action's
 * steps, and each subflow it uses as a group of its own, stacked below. Edges follow the default
 * next step, a DECIDE's branches, catch clauses and RUN_FLOW / GOTO into a subflow. dagre rather
 * than elkjs: a tenth of the download for graphs of this shape (trees with a few joins).
 */
import dagre from 'dagre';
import type { FlowDefinition } from '../../../src/client/index.js';

/** A laid-out step (`key` is `graph/stepId`) or a subflow's group box. */
export interface LaidNode {
  id: string;
  kind: 'step' | 'group';
  label: string;
  stepType?: string;
  x: number;
  y: number;
  width: number;
  height: number;
  parent?: string;
}

/** An edge between two steps. */
export interface LaidEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
  dashed?: boolean;
}

const NODE_W = 170;
const NODE_H = 44;
const PAD = 24;

/** The nodes and edges of action `actionName` (default: every action) and the subflows reached from it. */
export function layoutFlow(definition: FlowDefinition, actionName?: string): { nodes: LaidNode[]; edges: LaidEdge[] } {
  const graphs: { id: string; title: string; steps: FlowDefinition['actions'][string]['steps']; startAt: string }[] = [];
  const actions = actionName && definition.actions[actionName] ? [actionName] : Object.keys(definition.actions);
  for (const name of actions) graphs.push({ id: `action:${name}`, title: `action ${name}`, ...definition.actions[name]! });
  for (const [name, subflow] of Object.entries(definition.subflows ?? {})) graphs.push({ id: `subflow:${name}`, title: `subflow ${name}`, ...subflow });
  const nodes: LaidNode[] = [];
  const edges: LaidEdge[] = [];
  let top = 0;
  for (const graph of graphs) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 40, marginx: PAD, marginy: PAD + 14 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const stepId of Object.keys(graph.steps)) g.setNode(stepId, { width: NODE_W, height: NODE_H });
    const add = (from: string, to: string | undefined, label?: string, dashed?: boolean): void => {
      if (!to) return;
      if (graph.steps[to]) {
        g.setEdge(from, to);
        edges.push({ id: `${graph.id}/${from}->${to}:${edges.length}`, source: `${graph.id}/${from}`, target: `${graph.id}/${to}`, ...(label ? { label } : {}), ...(dashed ? { dashed } : {}) });
      }
    };
    for (const [stepId, step] of Object.entries(graph.steps)) {
      add(stepId, step.defaultNextStepInstanceId);
      if (step.stepType === 'DECIDE') for (const t of step.transitions) add(stepId, t.nextStepInstanceId, t.condition.length > 24 ? `${t.condition.slice(0, 24)}…` : t.condition);
      for (const c of step.catch ?? []) add(stepId, c.next, `catch ${c.errorEquals.join(',')}`, true);
      const into = step.stepType === 'RUN_FLOW' || step.stepType === 'GOTO' ? step.subflow : undefined;
      const subflow = into ? definition.subflows?.[into] : undefined;
      if (into && subflow) edges.push({ id: `${graph.id}/${stepId}=>${into}`, source: `${graph.id}/${stepId}`, target: `subflow:${into}/${subflow.startAt}`, label: step.stepType.toLowerCase(), dashed: true });
    }
    dagre.layout(g);
    const size = g.graph();
    const width = Math.max(size.width ?? 0, NODE_W + 2 * PAD);
    const height = Math.max(size.height ?? 0, NODE_H + 2 * PAD);
    nodes.push({ id: graph.id, kind: 'group', label: graph.title, x: 0, y: top, width, height });
    for (const stepId of g.nodes()) {
      const n = g.node(stepId);
      const step = graph.steps[stepId]!;
      nodes.push({ id: `${graph.id}/${stepId}`, kind: 'step', label: step.displayName ?? stepId, stepType: step.stepType, x: n.x - NODE_W / 2, y: n.y - NODE_H / 2, width: NODE_W, height: NODE_H, parent: graph.id });
    }
    top += height + 40;
  }
  return { nodes, edges };
}
