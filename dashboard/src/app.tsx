/**
 * The dashboard's shell: sign-in when this tab has no token, else the navigation and the pages
 * (runs, a run, approvals, flows, a flow, events) under the path the server mounted it at. A page that throws while
 * rendering shows the error in place of the page, never a blank screen.
 */
import { Component, lazy, Suspense, useMemo, useState, type ReactNode } from 'react';
import { Link, Redirect, Route, Router, Switch } from 'wouter';
import { clientFor, dashboardBasePath } from './api.js';
import { useOnline } from './connection.js';
import { ErrorMessage } from './components/error-message.js';
import { SessionContext } from './session-context.js';
import { forgetToken, storedToken } from './session.js';
import { SignInPage } from './pages/sign-in-page.js';
import { RunsPage } from './pages/runs-page.js';

const RunPage = lazy(() => import('./pages/run-page.js').then((m) => ({ default: m.RunPage })));
const FlowsPage = lazy(() => import('./pages/flows-page.js').then((m) => ({ default: m.FlowsPage })));
const EventsPage = lazy(() => import('./pages/events-page.js').then((m) => ({ default: m.EventsPage })));
const ApprovalsPage = lazy(() => import('./pages/approvals-page.js').then((m) => ({ default: m.ApprovalsPage })));
const FlowPage = lazy(() => import('./pages/flow-page.js').then((m) => ({ default: m.FlowPage })));

/** The whole dashboard. */
export function App(): ReactNode {
  const [token, setToken] = useState(storedToken);
  const client = useMemo(() => (token ? clientFor(token) : null), [token]);
  const session = useMemo(
    () =>
      client && {
        client,
        signOut: () => {
          forgetToken();
          setToken(null);
        },
      },
    [client],
  );
  return (
    <Router base={dashboardBasePath()}>
      {session ? (
        <SessionContext.Provider value={session}>
          <Shell signOut={session.signOut} />
        </SessionContext.Provider>
      ) : (
        <SignInPage onSignedIn={setToken} />
      )}
    </Router>
  );
}

function Shell({ signOut }: { signOut: () => void }): ReactNode {
  const online = useOnline();
  return (
    <>
      <header className="top">
        <Link href="/runs" className="brand">
          flowrun
        </Link>
        <nav>
          <Link href="/runs" className={(active) => (active ? 'active' : '')}>
            Runs
          </Link>
          <Link href="/approvals" className={(active) => (active ? 'active' : '')}>
            Approvals
          </Link>
          <Link href="/flows" className={(active) => (active ? 'active' : '')}>
            Flows
          </Link>
          <Link href="/events" className={(active) => (active ? 'active' : '')}>
            Events
          </Link>
        </nav>
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      {!online && (
        <div className="offline" role="status">
          Connection to the server lost — reconnecting…
        </div>
      )}
      <main>
        <PageBoundary>
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <Switch>
              <Route path="/runs" component={RunsPage} />
              <Route path="/runs/:id">{(params) => <RunPage runId={decodeURIComponent(params.id)} />}</Route>
              <Route path="/flows" component={FlowsPage} />
              <Route path="/flows/:id">{(params) => <FlowPage flowId={decodeURIComponent(params.id)} />}</Route>
              <Route path="/events" component={EventsPage} />
              <Route path="/approvals" component={ApprovalsPage} />
              <Route path="/">
                <Redirect to="/runs" replace />
              </Route>
              <Route>
                <ErrorMessage error={{ code: 'NOT_FOUND', message: 'no such page of the dashboard' }} />
              </Route>
            </Switch>
          </Suspense>
        </PageBoundary>
      </main>
    </>
  );
}

/** Shows a page's render error (or a lazy page that failed to load) instead of unmounting the app. */
class PageBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error };
  }
  override render(): ReactNode {
    if (this.state.error) {
      return (
        <ErrorMessage error={this.state.error}>
          <p>
            <button type="button" onClick={() => this.setState({ error: null })}>
              Try again
            </button>
          </p>
        </ErrorMessage>
      );
    }
    return this.props.children;
  }
}
