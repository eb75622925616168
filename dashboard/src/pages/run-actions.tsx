/**
 * What a person may do to a run: cancel it (or its whole tree), decide the approval it waits for
 * (with a comment), and edit its label and tags. The server decides who may: a refused action
 * shows the API's error (PERMISSION_DENIED) next to the buttons.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Run } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { useSession } from '../session-context.js';

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELED'];

/** The action bar of a run page; `onChanged` re-reads the run after an action. */
export function RunActions({ run, approval, onChanged }: { run: Run; approval: { stepId: string; reason: string } | null; onChanged: () => void }): ReactNode {
  const { client } = useSession();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<null | 'run' | 'tree'>(null);
  const [comment, setComment] = useState('');
  const [editing, setEditing] = useState(false);
  const act = async (action: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  };
  const ended = TERMINAL.includes(run.status);
  return (
    <div className="actions">
      {approval && !ended && (
        <div className="approval" data-testid="approval">
          <p>{approval.reason}</p>
          <textarea aria-label="comment" name="comment" placeholder="comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} />
          <button type="button" disabled={busy} onClick={() => act(() => client.approve(run.runId, { stepId: approval.stepId, ...(comment ? { comment } : {}) }))}>
            Approve
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => act(() => client.reject(run.runId, { stepId: approval.stepId, ...(comment ? { comment } : {}) }))}>
            Reject
          </button>
        </div>
      )}
      <div className="buttons">
        {!ended && confirming === null && (
          <>
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirming('run')}>
              Cancel run
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirming('tree')}>
              Cancel tree
            </button>
          </>
        )}
        {confirming && (
          <span className="confirm">
            {confirming === 'tree' ? 'Cancel this run and every run it started?' : 'Cancel this run (and the runs it waits for)?'}{' '}
            <button type="button" className="danger" disabled={busy} onClick={() => act(() => client.cancelRun(run.runId, { tree: confirming === 'tree' }))}>
              Yes, cancel
            </button>
            <button type="button" onClick={() => setConfirming(null)}>
              No
            </button>
          </span>
        )}
        {ended && run.treeId === run.runId && (
          <button type="button" className="danger" disabled={busy} onClick={() => act(() => client.cancelRun(run.runId, { tree: true }))} title="stops the runs it launched">
            Cancel launched runs
          </button>
        )}
        <button type="button" onClick={() => setEditing(!editing)}>
          Edit label and tags
        </button>
      </div>
      {editing && (
        <EditForm
          run={run}
          busy={busy}
          onSave={(label, tags) =>
            act(async () => {
              await client.updateRun(run.runId, { label, tags });
              setEditing(false);
            })
          }
        />
      )}
      <ErrorMessage error={error} />
    </div>
  );
}

function EditForm({ run, busy, onSave }: { run: Run; busy: boolean; onSave: (label: string | null, tags: string[]) => void }): ReactNode {
  const [label, setLabel] = useState(run.label ?? '');
  const [tags, setTags] = useState(run.tags.join(', '));
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    onSave(
      label.trim() === '' ? null : label.trim(),
      tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    );
  };
  return (
    <form className="edit" onSubmit={submit}>
      <label>
        Label <input name="label" value={label} onChange={(e) => setLabel(e.target.value)} />
      </label>
      <label>
        Tags <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="a, b" />
      </label>
      <button type="submit" disabled={busy}>
        Save
      </button>
    </form>
  );
}
