/**
 * Starts a run from a form built from the action's params: a text box, a number, a checkbox or a
 * JSON box by type, required ones marked, defaults filled in. Mistakes show on their field —
 * those found here (a required value missing, JSON that does not parse) before sending, and
 * those the server names in `details.issues` (`body.input.amount`) after.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { useLocation } from 'wouter';
import type { FlowDefinition } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { runPath } from '../format.js';
import { useSession } from '../session-context.js';

type Action = FlowDefinition['actions'][string];
type Param = NonNullable<Action['params']>[string];

/** The start form of one action of one flow version. */
export function StartRunForm({ flowId, version, actionName, action }: { flowId: string; version: number; actionName: string; action: Action | undefined }): ReactNode {
  const { client } = useSession();
  const [, navigate] = useLocation();
  const params = Object.entries(action?.params ?? {});
  const [values, setValues] = useState<Record<string, string | boolean>>(() => Object.fromEntries(params.map(([name, p]) => [name, initialValue(p)])));
  const [label, setLabel] = useState('');
  const [tags, setTags] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    const errors: Record<string, string> = {};
    const input: Record<string, unknown> = {};
    for (const [name, p] of params) {
      const parsed = parseValue(p, values[name]);
      if ('error' in parsed) errors[name] = parsed.error;
      else if (parsed.value !== undefined) input[name] = parsed.value;
    }
    setFieldErrors(errors);
    if (Object.keys(errors).length > 0) return;
    setBusy(true);
    try {
      const tagList = tags.split(',').map((t) => t.trim()).filter(Boolean);
      const run = await client.runFlow({ flowId, version, action: actionName, input, ...(label.trim() ? { label: label.trim() } : {}), ...(tagList.length ? { tags: tagList } : {}) });
      navigate(runPath(run.runId));
    } catch (e) {
      const issues = (e as { issues?: { path: string; message: string }[] }).issues ?? [];
      const onFields: Record<string, string> = {};
      for (const issue of issues) {
        const name = params.map(([n]) => n).find((n) => issue.path === `body.input.${n}` || issue.path === `input.${n}` || issue.path.endsWith(`.input.${n}`) || issue.path === n);
        if (name) onFields[name] = issue.message;
      }
      setFieldErrors(onFields);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="start-form" onSubmit={submit} noValidate>
      {params.length === 0 && <p className="muted">This action takes no input.</p>}
      {params.map(([name, p]) => (
        <div key={name} className={`field${fieldErrors[name] ? ' invalid' : ''}`} data-field={name}>
          <label htmlFor={`param-${name}`}>
            {name}
            {p.required && <span className="required" title="required"> *</span>} <span className="muted small">{p.type ?? 'any'}</span>
          </label>
          <ParamInput name={name} param={p} value={values[name] ?? ''} onChange={(v) => setValues({ ...values, [name]: v })} />
          {p.description && <span className="hint">{p.description}</span>}
          {fieldErrors[name] && (
            <span className="field-error" role="alert">
              {fieldErrors[name]}
            </span>
          )}
        </div>
      ))}
      <div className="field">
        <label htmlFor="run-label">label</label>
        <input id="run-label" name="run-label" value={label} onChange={(e) => setLabel(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="run-tags">tags</label>
        <input id="run-tags" name="run-tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="a, b" />
      </div>
      <button type="submit" disabled={busy}>
        Start run
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}

function ParamInput({ name, param, value, onChange }: { name: string; param: Param; value: string | boolean; onChange: (v: string | boolean) => void }): ReactNode {
  const id = `param-${name}`;
  if (param.type === 'boolean') return <input id={id} name={name} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  if (param.type === 'number') return <input id={id} name={name} type="text" inputMode="decimal" value={String(value)} onChange={(e) => onChange(e.target.value)} />;
  if (param.type === 'text') return <input id={id} name={name} type="text" value={String(value)} onChange={(e) => onChange(e.target.value)} />;
  return <textarea id={id} name={name} rows={3} placeholder="JSON" value={String(value)} onChange={(e) => onChange(e.target.value)} />;
}

function initialValue(p: Param): string | boolean {
  if (p.type === 'boolean') return p.default === true;
  if (p.default === undefined) return '';
  return p.type === 'text' || p.type === 'number' ? String(p.default) : JSON.stringify(p.default, null, 2);
}

/** A field's value as the input's JSON value; undefined leaves it out (the flow's default applies). */
function parseValue(p: Param, raw: string | boolean | undefined): { value: unknown } | { error: string } {
  if (p.type === 'boolean') return { value: raw === true };
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return p.required && p.default === undefined ? { error: 'is required' } : { value: undefined };
  if (p.type === 'text') return { value: raw };
  if (p.type === 'number') {
    const n = Number(text);
    return Number.isFinite(n) ? { value: n } : { error: `must be a number, got "${text}"` };
  }
  try {
    const value: unknown = JSON.parse(text);
    if (p.type === 'list' && !Array.isArray(value)) return { error: 'must be a JSON list: [ … ]' };
    if (p.type === 'map' && (value === null || typeof value !== 'object' || Array.isArray(value))) return { error: 'must be a JSON object: { … }' };
    return { value };
  } catch {
    return { error: 'is not valid JSON' };
  }
}
