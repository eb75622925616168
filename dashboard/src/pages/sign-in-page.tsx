/** Sign-in: paste an API token (`frt_…`); it is checked against the server before it is kept for this tab. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { clientFor } from '../api.js';
import { ErrorMessage } from '../components/error-message.js';
import { isTokenShaped, storeToken } from '../session.js';

/** The form shown while this tab has no token. */
export function SignInPage({ onSignedIn }: { onSignedIn: (token: string) => void }): ReactNode {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const value = token.trim();
    if (!isTokenShaped(value)) return setError({ code: 'INVALID_INPUT', message: 'enter an API token (frt_…)' });
    setBusy(true);
    try {
      await clientFor(value).listFlows();
      storeToken(value);
      onSignedIn(value);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>flowrun</h1>
      <form onSubmit={submit}>
        <label>
          API token
          <input name="token" type="password" autoComplete="off" placeholder="frt_…" value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorMessage error={error} />
      <p className="muted">
        <code>flowrun serve</code> prints a sign-in link; <code>flowrun tokens create --user ID</code> makes a token. It is kept in this tab only.
      </p>
    </main>
  );
}
