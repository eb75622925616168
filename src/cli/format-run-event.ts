/**
 * One line per live run event, for people watching a run in a terminal. Every field that came
 * from a flow or a user (ids, codes, descriptions, item content, output values) goes through
 * {@link printable}, so a run cannot write escape sequences or forge lines on the watcher's terminal.
 */
import type { LiveRunEvent } from '../core/engine/types.js';
import { printable } from './printable.js';
import { humanTimesIn } from './remote-client.js';

/** Formats a live event; `names` learns run ids → flow ids from ledger entries. */
export function formatRunEvent(event: LiveRunEvent, names: Map<string, string>): string {
  const who = `[${printable(names.get(event.runId) ?? shortId(event.runId))}]`;
  switch (event.kind) {
    case 'status':
      return event.status === 'ACTIVE' ? '' : `${who} ${event.status}${event.error ? ` ${printable(event.error.code)}: ${printable(event.error.description)}` : ''}\n`;
    case 'log': {
      const e = event.entry;
      if (e.code === 'StepSucceeded') return `${who}   ok ${printable(String(e.details?.stepId))}${typeof e.details?.durationMs === 'number' ? ` (${e.details.durationMs} ms)` : ''}\n`;
      return `${who} ${printable(e.code)}: ${printable(humanTimesIn(e.description))}\n`;
    }
    case 'item': {
      const text = typeof event.item.content === 'string' ? event.item.content : JSON.stringify(event.item.content);
      return `${who}   item ${printable(event.item.type)} ${event.change}${event.transient ? ' (transient)' : ''}: ${printable(truncate(text, 120))}\n`;
    }
    case 'ledger': {
      const e = event.entry;
      if (typeof e.to.runId === 'string' && typeof e.to.flowId === 'string') names.set(e.to.runId, e.to.flowId);
      if (e.kind === 'decide') return `${who}   decide ${printable(e.from.stepId)} -> ${printable(String(e.to.next ?? '(end)'))}${e.to.branch === 'default' ? ' (default)' : ''}\n`;
      const target = e.to.subflow ?? (e.to.flowId ? `${String(e.to.flowId)} (run ${shortId(String(e.to.runId))})` : JSON.stringify(e.to));
      const at = e.from.source ? ` (${e.from.source.file ? `${e.from.source.file}:` : 'line '}${e.from.source.line})` : '';
      return `${who}   ${e.kind} ${printable(String(target))} from ${printable(e.from.stepId)}${printable(at)}\n`;
    }
    case 'output':
      return `${who}   output ${printable(event.name)} = ${truncate(JSON.stringify(event.value) ?? 'undefined', 120)}\n`;
  }
}

function shortId(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
