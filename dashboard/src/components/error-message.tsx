/** An API error as a message: its code, its text and, for validation errors, each field's problem. */
import type { ReactNode } from 'react';

/** Shows `error` (a FlowError from the client, or any Error) in a red box; nothing when undefined. */
export function ErrorMessage({ error, children }: { error: unknown; children?: ReactNode }): ReactNode {
  if (!error) return null;
  const e = error as { code?: string; message?: string; issues?: { path: string; message: string }[] };
  return (
    <div className="error" role="alert">
      <strong>{e.code ?? 'ERROR'}</strong> {e.code === 'NETWORK_ERROR' ? 'the server does not answer' : (e.message ?? String(error))}
      {e.issues && e.issues.length > 0 && (
        <ul>
          {e.issues.map((issue) => (
            <li key={issue.path}>
              <code>{issue.path}</code> {issue.message}
            </li>
          ))}
        </ul>
      )}
      {e.code === 'UNAUTHENTICATED' && <p>The token was refused (expired or revoked?): sign out and sign in with another one.</p>}
      {children}
    </div>
  );
}
