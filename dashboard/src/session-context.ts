/** The signed-in session as React context: the API client of this tab's token, and sign-out. */
import { createContext, useContext } from 'react';
import type { FlowClient } from '../../src/client/index.js';

/** What every page gets from the signed-in shell. */
export interface Session {
  client: FlowClient;
  signOut: () => void;
}

/** Context of the signed-in session; pages render only inside it. */
export const SessionContext = createContext<Session | null>(null);

/** The signed-in session (throws outside the shell: a programming error, not a user's). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in shell');
  return session;
}
