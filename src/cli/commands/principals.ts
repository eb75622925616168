/**
 * `flowrun principals …`: users, groups, service accounts, group members and act-as grants in
 * a store (`--store`), through the engine's principal API (the same checks and errors as
 * `engine.principals`).
 *
 *   principals list [--kind user|group|service-account]
 *   principals show ID                      the principal, its groups and act-as accounts
 *   principals create ID [--kind …] [--display-name TEXT]
 *   principals delete ID
 *   principals add-member GROUP MEMBER      principals remove-member GROUP MEMBER
 *   principals members GROUP
 *   principals grant-act-as ACCOUNT PRINCIPAL   principals revoke-act-as ACCOUNT PRINCIPAL
 *   principals act-as-grants ACCOUNT
 *   principals grant-events publish|subscribe PRINCIPAL PATTERN
 *   principals revoke-events publish|subscribe PRINCIPAL PATTERN
 *   principals event-grants [--principal ID]
 *   principals grant-admin ID               principals revoke-admin ID   (system administrators)
 *   principals set-display-name ID NAME     ("" removes it)
 */
import type { Command } from 'commander';
import type { EnginePrincipals } from '../../core/engine/access/engine-principals.js';
import { EVENT_RIGHTS, type EventRight, type PrincipalKind } from '../../core/principal-store.js';
import type { CliIo } from '../cli-io.js';
import { printable } from '../printable.js';
import { withPrincipals } from '../admin-store.js';
import { humanTime, runCliAction, table, UsageError } from '../remote-client.js';
import { DEFAULT_STORE_SPEC } from '../store-spec.js';

const KINDS: Record<string, PrincipalKind> = { user: 'user', group: 'group', 'service-account': 'serviceAccount', serviceAccount: 'serviceAccount' };

interface StoreOptions {
  store: string;
  json?: boolean;
}

/** Adds `principals` and its subcommands to the program. */
export function registerPrincipalsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const group = program.command('principals').description('manage users, groups, service accounts, members and act-as grants');
  const print = (options: StoreOptions, json: unknown, text: string): void => io.out(options.json ? `${JSON.stringify(json, null, 2)}\n` : text);

  /** One subcommand over the store; `run` gets the principal API and the positional arguments. */
  const sub = (name: string, args: string[], description: string, run: (p: EnginePrincipals, options: StoreOptions & Record<string, unknown>, ...args: string[]) => Promise<number | void>): Command => {
    const command = group.command(name).description(description);
    for (const arg of args) command.argument(`<${arg}>`);
    return command
      .option('-s, --store <spec>', 'where principals are kept: sqlite:PATH, postgres://…', process.env.FLOWRUN_STORE ?? DEFAULT_STORE_SPEC)
      .option('--json', 'print JSON')
      .action((...received: unknown[]) => {
        const positional = received.slice(0, args.length) as string[];
        const options = received[args.length] as StoreOptions & Record<string, unknown>;
        return runCliAction(`principals ${name}`, io, setExit, () => withPrincipals(options.store, (p) => run(p, options, ...positional)));
      });
  };

  sub('list', [], 'list principals, ordered by id', async (p, options) => {
    const kind = options.kind === undefined ? undefined : kindOf(String(options.kind));
    const all = [];
    for (let page = await p.list({ ...(kind ? { kind } : {}), limit: 1000 }); page.length > 0; page = await p.list({ ...(kind ? { kind } : {}), limit: 1000, afterId: page.at(-1)!.id })) all.push(...page);
    print(options, { principals: all }, all.length === 0 ? '(no principals)\n' : table(['ID', 'KIND', 'ADMIN', 'CREATED', 'NAME'], all.map((r) => [printable(r.id), r.kind, r.isAdministrator ? 'yes' : '', humanTime(r.createdAt), printable(r.displayName ?? '')])));
  }).option('-k, --kind <kind>', 'only this kind: user, group or service-account');

  sub('show', ['id'], 'show a principal with its groups, the service accounts it may act as and its event grants', async (p, options, id) => {
    const record = await p.get(id!);
    const resolved = await p.resolve(id!);
    const grants = await p.listEventGrants({ principalId: id! });
    const patterns = (right: EventRight) => grants.filter((g) => g.right === right).map((g) => g.pattern);
    print(
      options,
      { ...record, isAdministrator: resolved.isAdministrator === true, groups: resolved.groups, actAs: resolved.actAs, publishes: patterns('publish'), subscribes: patterns('subscribe') },
      `${printable(record.id)} (${record.kind}${record.displayName ? `, ${printable(record.displayName)}` : ''})\n` +
        `system administrator: ${resolved.isAdministrator ? (record.isAdministrator ? 'yes' : 'yes, through a group') : 'no'}\ngroups: ${resolved.groups.join(', ') || '-'}\nact as: ${resolved.actAs.join(', ') || '-'}\n` +
        `publishes: ${patterns('publish').join(', ') || '-'}\nsubscribes to: ${patterns('subscribe').join(', ') || '-'}\n`,
    );
  });

  sub('create', ['id'], 'create a user (default), group or service account', async (p, options, id) => {
    const kind = kindOf(String(options.kind ?? 'user'));
    const input = { id: id!, ...(typeof options.displayName === 'string' ? { displayName: options.displayName } : {}) };
    const record = kind === 'group' ? await p.createGroup(input) : kind === 'serviceAccount' ? await p.createServiceAccount(input) : await p.createUser(input);
    print(options, record, `created ${record.kind} ${record.id}\n`);
  })
    .option('-k, --kind <kind>', 'user, group or service-account', 'user')
    .option('--display-name <text>', 'a name for people');

  sub('delete', ['id'], 'delete a principal with its memberships, grants and tokens', async (p, options, id) => {
    await p.delete(id!);
    print(options, { deleted: id }, `deleted ${id}\n`);
  });

  sub('add-member', ['group', 'member'], 'add a user or service account to a group', async (p, options, groupId, memberId) => {
    await p.addMember(groupId!, memberId!);
    print(options, { groupId, memberId }, `${memberId} is a member of ${groupId}\n`);
  });

  sub('remove-member', ['group', 'member'], 'remove a member from a group', async (p, options, groupId, memberId) => {
    const removed = await p.removeMember(groupId!, memberId!);
    print(options, { removed }, removed ? `removed ${memberId} from ${groupId}\n` : `${memberId} was not a member of ${groupId}\n`);
  });

  sub('members', ['group'], 'list the members of a group', async (p, options, groupId) => {
    const members = await p.listMembers(groupId!);
    print(options, { members }, members.length ? `${members.join('\n')}\n` : '(no members)\n');
  });

  sub('grant-act-as', ['serviceAccount', 'principal'], 'let a user, group or service account run things as a service account', async (p, options, serviceAccountId, principalId) => {
    await p.grantActAs({ serviceAccountId: serviceAccountId!, principalId: principalId! });
    print(options, { serviceAccountId, principalId }, `${principalId} may act as ${serviceAccountId}\n`);
  });

  sub('revoke-act-as', ['serviceAccount', 'principal'], 'withdraw an act-as grant', async (p, options, serviceAccountId, principalId) => {
    const revoked = await p.revokeActAs({ serviceAccountId: serviceAccountId!, principalId: principalId! });
    print(options, { revoked }, revoked ? `${principalId} may no longer act as ${serviceAccountId}\n` : `${principalId} had no grant on ${serviceAccountId}\n`);
  });

  registerEventGrantCommands(sub, print);

  sub('grant-admin', ['id'], 'make a user, service account or group (all its members) a system administrator: every run, flow, approval and event', async (p, options, id) => {
    const record = await p.setAdministrator(id!, true);
    print(options, record, `${id} is a system administrator\n`);
  });

  sub('revoke-admin', ['id'], 'make a principal no longer a system administrator (membership of a marked group still counts)', async (p, options, id) => {
    const record = await p.setAdministrator(id!, false);
    print(options, record, `${id} is no longer a system administrator itself\n`);
  });

  sub('set-display-name', ['id', 'name'], 'set the name people see for a principal ("" removes it)', async (p, options, id, name) => {
    const record = await p.setDisplayName(id!, name === '' ? null : name!);
    print(options, record, `${id} is shown as ${record.displayName ?? id}\n`);
  });

  sub('act-as-grants', ['serviceAccount'], 'list who may act as a service account', async (p, options, serviceAccountId) => {
    const grants = await p.listActAsGrants(serviceAccountId!);
    print(options, { grants }, grants.length ? `${grants.join('\n')}\n` : '(no grants)\n');
  });
}

/** `grant-events` / `revoke-events` / `event-grants`: who may publish or subscribe to which event names. */
function registerEventGrantCommands(sub: (name: string, args: string[], description: string, run: (p: EnginePrincipals, options: StoreOptions & Record<string, unknown>, ...args: string[]) => Promise<number | void>) => Command, print: (options: StoreOptions, json: unknown, text: string) => void): void {
  sub('grant-events', ['right', 'principal', 'pattern'], 'let a user, group or service account publish or subscribe to event names ("orders.created", "orders.*", "*")', async (p, options, right, principalId, pattern) => {
    const grant = { principalId: principalId!, right: rightOf(right!), pattern: pattern! };
    await p.grantEvents(grant);
    print(options, grant, `${principalId} may ${grant.right === 'publish' ? 'publish' : 'subscribe to'} ${pattern}\n`);
  });

  sub('revoke-events', ['right', 'principal', 'pattern'], 'withdraw an event grant', async (p, options, right, principalId, pattern) => {
    const revoked = await p.revokeEvents({ principalId: principalId!, right: rightOf(right!), pattern: pattern! });
    print(options, { revoked }, revoked ? `${principalId} may no longer ${right} ${pattern}\n` : `${principalId} had no ${right} grant on ${pattern}\n`);
  });

  sub('event-grants', [], 'list event grants (of everyone, or of one principal)', async (p, options) => {
    const grants = await p.listEventGrants(typeof options.principal === 'string' ? { principalId: options.principal } : {});
    print(options, { grants }, grants.length === 0 ? '(no event grants)\n' : table(['PRINCIPAL', 'RIGHT', 'PATTERN'], grants.map((g) => [g.principalId, g.right, g.pattern])));
  }).option('-p, --principal <id>', 'only the grants held by this principal');
}

function rightOf(text: string): EventRight {
  const right = EVENT_RIGHTS.find((r) => r === text);
  if (!right) throw new UsageError(`the right must be publish or subscribe, got "${text}"`);
  return right;
}

function kindOf(text: string): PrincipalKind {
  const kind = KINDS[text];
  if (!kind) throw new UsageError(`--kind must be user, group or service-account, got "${text}"`);
  return kind;
}
