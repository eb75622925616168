/**
 * Publish an event from a form (name, JSON payload, optional event id) and see what it did: the
 * runs it started, the waiting runs it resumed, and the subscribers it skipped with why — each run
 * the token may read a link to its page. Publishing acts for the token, so it starts and resumes only
 * what the token may; a started run acts as its flow's deployer, so the token may not read it: its id
 * is shown without a link.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'wouter';
import type { PublishedEventResult } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { runPath } from '../format.js';
import { useSession } from '../session-context.js';

/** The events page. */
export function EventsPage(): ReactNode {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [payload, setPayload] = useState('');
  const [eventId, setEventId] = useState('');
  const [payloadError, setPayloadError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<PublishedEventResult | null>(null);
  /** The started runs this token may read (the resumed ones it may, by the API's rule). */
  const [readable, setReadable] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    setPayloadError(null);
    let value: unknown;
    if (payload.trim()) {
      try {
        value = JSON.parse(payload);
      } catch {
        return setPayloadError('is not valid JSON');
      }
    }
    setBusy(true);
    try {
      const published = await client.publishEvent({ name: name.trim(), ...(value !== undefined ? { payload: value } : {}), ...(eventId.trim() ? { eventId: eventId.trim() } : {}) });
      const found = published.runIds.length > 0 ? await client.batchGetRuns({ runIds: published.runIds }) : [];
      setReadable(new Set([...published.resumedRunIds, ...found.filter((r) => 'run' in r).map((r) => r.runId)]));
      setResult(published);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const runs = (ids: string[], none: string): ReactNode =>
    ids.length === 0 ? (
      <p className="muted">{none}</p>
    ) : (
      <ul className="children">
        {ids.map((id) => (
          <li key={id}>
            {readable.has(id) ? (
              <Link href={runPath(id)} className="mono">
                {id}
              </Link>
            ) : (
              <span className="mono" title="runs as its flow's deployer: not visible to this token">
                {id} <span className="muted">(not visible to this token)</span>
              </span>
            )}
          </li>
        ))}
      </ul>
    );
  return (
    <section>
      <h1>Publish an event</h1>
      <form className="start-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="event-name">name</label>
          <input id="event-name" name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="order.created" required />
        </div>
        <div className={`field${payloadError ? ' invalid' : ''}`}>
          <label htmlFor="event-payload">payload (JSON)</label>
          <textarea id="event-payload" name="payload" rows={4} value={payload} onChange={(e) => setPayload(e.target.value)} placeholder='{"orderId": "o-1"}' />
          {payloadError && <span className="field-error" role="alert">{payloadError}</span>}
        </div>
        <div className="field">
          <label htmlFor="event-id">event id (optional: publishing one id twice starts its subscribers once)</label>
          <input id="event-id" name="eventId" value={eventId} onChange={(e) => setEventId(e.target.value)} />
        </div>
        <button type="submit" disabled={busy || name.trim() === ''}>
          Publish
        </button>
        <ErrorMessage error={error} />
      </form>
      {result && (
        <div data-testid="event-result">
          <h2>Event {result.eventId}</h2>
          <h3>Runs started</h3>
          {runs(result.runIds, 'No subscriber started.')}
          <h3>Runs resumed</h3>
          {runs(result.resumedRunIds, 'No waiting run resumed.')}
          {result.skipped.length > 0 && (
            <>
              <h3>Skipped subscribers</h3>
              <ul>
                {result.skipped.map((s) => (
                  <li key={`${s.flowId}/${s.subscription}`}>
                    {s.flowId} v{s.flowVersion} ({s.subscription}): <code>{s.code}</code> {s.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}
