/**
 * `POST /runs` answered without the Hono app: the common start (a declared-length JSON body) takes
 * the same steps the app's middleware and route take — authentication, the body limit, the
 * request schema, the start budget, the start itself and the answer — without routing, the
 * middleware chain and the validator's wrappers around them (issue 13: the request path close to
 * the least server). Whatever it does not take is left to the app untouched.
 */
import { HTTPException } from 'hono/http-exception';
import type { AuthenticatedPrincipal } from './api-tokens.js';
import type { RouterState } from './router-context.js';
import { StartRunBody } from './schemas.js';
import { invalidRequest } from './error-response.js';
import { startAnswer } from './routes/run-routes.js';

/** What {@link directStart} needs of the router. */
export interface DirectStartDeps {
  state: RouterState;
  /** Largest body in bytes: a longer declared length is left to the app (413). */
  maxBodyBytes: number;
  /** Where the principal found for a request is kept: the app, given the request after all, does not ask again. */
  authenticated: WeakMap<Request, AuthenticatedPrincipal | null>;
  /** The app's answer to an error (its `onError`: `requestErrorResponse`, and a log line for a 5xx): the same either way. */
  failed(error: unknown, request: Request): Response;
}

/** A start answered directly, with who asked (for the router's observers and tracing). */
export interface DirectlyStarted {
  response: Response;
  principalId: string;
}

/**
 * Returns the direct path: given a request (its base path already cut), it answers a `POST /runs`
 * (exactly, no query) whose body is declared JSON (`application/json`, optionally with a
 * charset) of a declared length within the limit, from a principal the router's `authenticate`
 * accepts. Any other request it leaves to the app having read nothing of it: null at once when its
 * method, path or headers are not those, else a promise of null once the principal was found not
 * to be one (kept in `authenticated`, so the app does not ask again) — a 401, 413, 415 or a chunked
 * body among them.
 *
 * Guarantees: a request it answers gets what the app would answer: the same validation (the
 * route's zod schema, the same issues and message), the same start budget (`maxStartsPerSecond`),
 * idempotency, permissions and run answer (both call `startAnswer`), the same error answers (the
 * app's `onError`). Tracing and observers wrap it in the router as they wrap the app.
 */
export function directStart(deps: DirectStartDeps): (request: Request) => Promise<DirectlyStarted | null> | null {
  const { state, maxBodyBytes, authenticated } = deps;
  /** Answers a request the checks of its method, path and headers let through; null when the principal is not one. */
  const start = async (request: Request): Promise<DirectlyStarted | null> => {
    const principal = await state.authenticate(request);
    authenticated.set(request, principal);
    if (!principal || typeof principal.userId !== 'string' || principal.userId === '') return null;
    try {
      let json: unknown;
      try {
        json = JSON.parse(await request.text());
      } catch {
        // What the app's JSON validator throws for a body that is not JSON.
        throw new HTTPException(400, { message: 'Malformed JSON in request body' });
      }
      const parsed = StartRunBody.safeParse(json);
      if (!parsed.success) throw invalidRequest('json', parsed.error.issues);
      const { run, status } = await startAnswer(state, parsed.data, principal, request);
      return { response: new Response(JSON.stringify({ run }), { status, headers: { 'content-type': 'application/json' } }), principalId: principal.userId };
    } catch (error) {
      return { response: deps.failed(error, request), principalId: principal.userId };
    }
  };
  return (request) => {
    // Checked without a promise: every other request (a POST of another route) reaches the app in this turn.
    if (request.method !== 'POST' || !isRunsPath(request.url)) return null;
    const contentType = request.headers.get('content-type');
    if (contentType === null || !JSON_CONTENT_TYPE.test(contentType)) return null;
    const declared = request.headers.get('content-length');
    if (declared === null || !/^\d{1,15}$/.test(declared) || Number(declared) > maxBodyBytes) return null;
    return start(request);
  };
}

/** The media types taken directly: JSON, with a charset or without; anything else goes through the app's own checks. */
const JSON_CONTENT_TYPE = /^application\/json(;[ \t]*charset=("?)utf-8\2)?$/i;

/** Whether `url`'s path is exactly `/runs`, with no query (a query goes through the app). */
function isRunsPath(url: string): boolean {
  // `scheme://host/runs`: the path starts at the first `/` after the `//`.
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash !== -1 && url.length - slash === 5 && url.endsWith('/runs');
}
