/**
 * What the Globus routes share: the engine, the request's principal, the start budget and the
 * sealed markers (marker-seal.ts: a marker tells nothing and cannot be forged; each one here
 * carries its own kind and query, so it alone asks for the next page, as Globus documents).
 */
import { ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/engine/types.js';
import type { AuthenticatedPrincipal } from '../api-tokens.js';
import type { MarkerSeal } from '../marker-seal.js';
import type { FlowApiEngine } from '../router-context.js';
import type { StartRateLimiter } from '../start-rate-limiter.js';

/** The state of one Globus handler. */
export interface GlobusState {
  engine: FlowApiEngine;
  markers: MarkerSeal;
  starts: StartRateLimiter;
  logger: Logger | undefined;
}

/** Hono's per-request variables of the Globus handler. */
export interface GlobusEnv {
  Variables: { principal: AuthenticatedPrincipal };
}

/** A marker's content: its kind (`runs`, `log`, `flows`) and what that listing needs to go on. */
export type MarkerContent = { kind: string } & Record<string, unknown>;

/** Seals `content` as an opaque marker. */
export function sealMarker(markers: MarkerSeal, content: MarkerContent): Promise<string> {
  return markers.seal(JSON.stringify(content)) as Promise<string>;
}

/** The content of a marker of `kind` handed out by a handler over the same store; INVALID_INPUT naming `query.marker` otherwise. */
export async function openMarker(markers: MarkerSeal, text: string, kind: string): Promise<MarkerContent> {
  const opened = await markers.open(text);
  try {
    const content = JSON.parse(opened) as unknown;
    if (typeof content === 'object' && content !== null && (content as MarkerContent).kind === kind) return content as MarkerContent;
  } catch {
    // a marker of flowrun's own API: refused below
  }
  throw new ValidationError('INVALID_INPUT', [{ path: 'query.marker', message: `"${text.slice(0, 40)}" is not a marker of this listing (pass on the marker of the previous page)` }]);
}

/** The JSON object of a request body; INVALID_INPUT at `body` when it is not one. */
export async function jsonObjectBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('INVALID_INPUT', [{ path: 'body', message: 'is not valid JSON' }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('INVALID_INPUT', [{ path: 'body', message: 'must be a JSON object' }]);
  return value as Record<string, unknown>;
}
