/**
 * The CLI's local administration of a store (`tokens`, `principals`, and the admin of `serve`):
 * principals through the engine's own principal API, without starting an engine (an admin
 * command must not resume other processes' runs), and API tokens issued into the store.
 */
import { randomUUID } from 'node:crypto';
import { EnginePrincipals } from '../core/engine/access/engine-principals.js';
import type { ApiTokenRecord, PrincipalRecord } from '../core/principal-store.js';
import type { Store } from '../core/store.js';
import { systemClock } from '../runtime/system-clock.js';
import { hashApiToken, newApiToken } from '../server/api-tokens.js';
import { openStoreSpec } from './store-spec.js';
import { UsageError } from './remote-client.js';

/** Opens the `--store`, gives `action` its principal API, and closes the store after. */
export async function withPrincipals<T>(storeSpec: string, action: (principals: EnginePrincipals, store: Store) => Promise<T>): Promise<T> {
  const store = openStoreSpec(storeSpec);
  try {
    return await withPrincipalsOf(store, (principals) => action(principals, store));
  } finally {
    await store.close();
  }
}

/** Gives `action` the principal API of stores that are already open (and stay open). */
export function withPrincipalsOf<T>(store: Store, action: (principals: EnginePrincipals) => Promise<T>): Promise<T> {
  return action(new EnginePrincipals({ store: store.principals, clock: systemClock }));
}

/** A token just issued: the secret, shown once, and what the store keeps of it. */
export interface IssuedToken {
  token: string;
  record: ApiTokenRecord;
  principal: PrincipalRecord;
  /** True when the principal was created for this token. */
  createdPrincipal: boolean;
}

/**
 * Issues an API token for a user (or a service account), creating the principal when it does
 * not exist. Only the token's SHA-256 goes into the store; the token is returned to be shown once.
 */
export async function issueApiToken(
  store: Store,
  principals: EnginePrincipals,
  options: { principalId: string; serviceAccount?: boolean; description?: string; expiresAt?: number },
): Promise<IssuedToken> {
  let principal = await store.principals.getPrincipal(options.principalId);
  let createdPrincipal = false;
  if (!principal) {
    principal = options.serviceAccount ? await principals.createServiceAccount({ id: options.principalId }) : await principals.createUser({ id: options.principalId });
    createdPrincipal = true;
  } else if (options.serviceAccount && principal.kind !== 'serviceAccount') {
    throw new UsageError(`"${principal.id}" is a ${principal.kind}, not a service account`);
  }
  const token = newApiToken();
  const record = await store.principals.createToken({
    tokenId: `tok_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
    principalId: principal.id,
    tokenHash: await hashApiToken(token),
    at: systemClock.now(),
    expiresAt: options.expiresAt ?? null,
    description: options.description ?? null,
  });
  return { token, record, principal, createdPrincipal };
}
