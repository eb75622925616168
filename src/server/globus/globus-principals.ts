/**
 * Globus names principals by URN; flowrun by id. The mapping is one rule each way:
 * a flowrun user (or service account) `alice` is `urn:globus:auth:identity:alice`, a flowrun group
 * `ops` is `urn:globus:groups:id:ops`. A Globus identity UUID is thus a flowrun principal id as it
 * is (create the principal, or issue a token, under that UUID to keep the ids Globus clients
 * already hold). Nothing else is accepted where a principal URN is expected.
 */
import { ValidationError } from '../../core/errors.js';
import type { PrincipalSet } from '../../core/run.js';

/** The URN prefix of a Globus Auth identity: a flowrun user or service account. */
export const IDENTITY_URN_PREFIX = 'urn:globus:auth:identity:';
/** The URN prefix of a Globus group: a flowrun group. */
export const GROUP_URN_PREFIX = 'urn:globus:groups:id:';

/** The URN of a flowrun user or service account id. */
export function identityUrn(id: string): string {
  return `${IDENTITY_URN_PREFIX}${id}`;
}

/** The URN of a flowrun group id. */
export function groupUrn(id: string): string {
  return `${GROUP_URN_PREFIX}${id}`;
}

/** The URNs of a run role: its users first, then its groups. */
export function urnsOf(set: PrincipalSet): string[] {
  return [...set.users.map(identityUrn), ...set.groups.map(groupUrn)];
}

/**
 * The flowrun users and groups named by Globus principal URNs; INVALID_INPUT naming `field` and
 * the index of each value that is not an identity or group URN with a non-empty id.
 */
export function principalSetOf(urns: readonly string[], field: string): PrincipalSet {
  const users: string[] = [];
  const groups: string[] = [];
  const issues: { path: string; message: string }[] = [];
  urns.forEach((urn, i) => {
    if (urn.startsWith(IDENTITY_URN_PREFIX) && urn.length > IDENTITY_URN_PREFIX.length) users.push(urn.slice(IDENTITY_URN_PREFIX.length));
    else if (urn.startsWith(GROUP_URN_PREFIX) && urn.length > GROUP_URN_PREFIX.length) groups.push(urn.slice(GROUP_URN_PREFIX.length));
    else issues.push({ path: `${field}.${i}`, message: `"${urn.slice(0, 80)}" is not a principal URN (${IDENTITY_URN_PREFIX}<id> or ${GROUP_URN_PREFIX}<id>)` });
  });
  if (issues.length > 0) throw new ValidationError('INVALID_INPUT', issues);
  return { users: [...new Set(users)], groups: [...new Set(groups)] };
}
