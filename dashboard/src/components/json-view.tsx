/** A collapsible view of a JSON value: objects and arrays fold, the first levels open. */
import { useState, type ReactNode } from 'react';

/** Shows `value`; levels deeper than `openDepth` (default 2) start folded. */
export function JsonView({ value, openDepth = 2 }: { value: unknown; openDepth?: number }): ReactNode {
  if (value === undefined) return <span className="muted">none</span>;
  return (
    <div className="json">
      <JsonNode value={value} depth={0} openDepth={openDepth} />
    </div>
  );
}

function JsonNode({ value, depth, openDepth }: { value: unknown; depth: number; openDepth: number }): ReactNode {
  const [open, setOpen] = useState(depth < openDepth);
  if (value === null || typeof value !== 'object') return <span className={`json-${value === null ? 'null' : typeof value}`}>{JSON.stringify(value)}</span>;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  const [opening, closing] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return <span>{opening + closing}</span>;
  return (
    <span>
      <button type="button" className="json-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'}
      </button>
      {opening}
      {open ? (
        <span className="json-children">
          {entries.map(([key, child]) => (
            <span key={key} className="json-entry">
              {!Array.isArray(value) && <span className="json-key">{JSON.stringify(key)}: </span>}
              <JsonNode value={child} depth={depth + 1} openDepth={openDepth} />
            </span>
          ))}
        </span>
      ) : (
        <span className="muted"> {entries.length} {Array.isArray(value) ? 'items' : 'keys'} </span>
      )}
      {closing}
    </span>
  );
}
