/**
 * `flowrun tokens create|list|revoke`: API tokens in a store (`--store`, as for `run`). A token
 * is printed once, when it is created; the store keeps only its SHA-256, so a lost token cannot
 * be shown again — revoke it and create another.
 */
import type { Command } from 'commander';
import type { ApiTokenRecord } from '../../core/principal-store.js';
import { systemClock } from '../../runtime/system-clock.js';
import type { CliIo } from '../cli-io.js';
import { issueApiToken, withPrincipals } from '../admin-store.js';
import { printable } from '../printable.js';
import { humanTime, parseCount, runCliAction, table } from '../remote-client.js';
import { DEFAULT_STORE_SPEC } from '../store-spec.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Adds `tokens` and its subcommands to the program. */
export function registerTokensCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const tokens = program.command('tokens').description('create, list and revoke API tokens (for --token / FLOWRUN_TOKEN)');
  const storeOption = ['-s, --store <spec>', 'where principals are kept: sqlite:PATH, postgres://…', process.env.FLOWRUN_STORE ?? DEFAULT_STORE_SPEC] as const;

  tokens
    .command('create')
    .description('create a token for a user (created if missing) and print it once')
    .requiredOption('-u, --user <id>', 'the user (or service account) the token acts for')
    .option('--service-account', 'the principal is a service account (created as one if missing)')
    .option('-d, --description <text>', 'what the token is for')
    .option('--expires-in-days <n>', 'the token stops working after this many days')
    .option(...storeOption)
    .option('--json', 'print JSON')
    .action((options: { user: string; serviceAccount?: boolean; description?: string; expiresInDays?: string; store: string; json?: boolean }) =>
      runCliAction('tokens create', io, setExit, async () => {
        const days = parseCount(options.expiresInDays, '--expires-in-days');
        const issued = await withPrincipals(options.store, (principals, store) =>
          issueApiToken(store, principals, {
            principalId: options.user,
            serviceAccount: options.serviceAccount === true,
            ...(options.description ? { description: options.description } : {}),
            ...(days ? { expiresAt: systemClock.now() + days * DAY_MS } : {}),
          }),
        );
        if (options.json) {
          const { tokenHash: _hash, ...record } = issued.record;
          return io.out(`${JSON.stringify({ token: issued.token, ...record, principalKind: issued.principal.kind, createdPrincipal: issued.createdPrincipal }, null, 2)}\n`);
        }
        if (issued.createdPrincipal) io.err(`created ${issued.principal.kind} ${issued.principal.id}\n`);
        io.err(`token ${issued.record.tokenId} for ${issued.principal.id}${issued.record.expiresAt ? `, expires ${humanTime(issued.record.expiresAt)}` : ''} — shown once, keep it now:\n`);
        io.out(`${issued.token}\n`);
      }),
    );

  tokens
    .command('list')
    .description('list tokens (never the secrets): id, principal, dates, state')
    .option('-u, --user <id>', 'only the tokens of this principal')
    .option(...storeOption)
    .option('--json', 'print JSON')
    .action((options: { user?: string; store: string; json?: boolean }) =>
      runCliAction('tokens list', io, setExit, async () => {
        const list = await withPrincipals(options.store, (_principals, store) => store.principals.listTokens(options.user ? { principalId: options.user } : {}));
        const shown = list.map(({ tokenHash: _hash, ...rest }) => ({ ...rest, state: tokenState(rest) }));
        if (options.json) return io.out(`${JSON.stringify({ tokens: shown }, null, 2)}\n`);
        if (shown.length === 0) return io.out('(no tokens)\n');
        io.out(
          table(
            ['TOKEN', 'PRINCIPAL', 'STATE', 'CREATED', 'EXPIRES', 'DESCRIPTION'],
            shown.map((t) => [t.tokenId, printable(t.principalId), t.state, humanTime(t.createdAt), humanTime(t.expiresAt), printable(t.description ?? '')]),
          ),
        );
      }),
    );

  tokens
    .command('revoke')
    .description('revoke a token at once; exit 1 when it is unknown or already revoked')
    .argument('<tokenId>')
    .option(...storeOption)
    .action((tokenId: string, options: { store: string }) =>
      runCliAction('tokens revoke', io, setExit, async () => {
        const revoked = await withPrincipals(options.store, (_principals, store) => store.principals.revokeToken({ tokenId, at: systemClock.now() }));
        if (!revoked) {
          io.err(`flowrun tokens revoke: no active token ${tokenId}\n`);
          return 1;
        }
        io.out(`revoked ${tokenId}\n`);
      }),
    );
}

function tokenState(token: Pick<ApiTokenRecord, 'revokedAt' | 'expiresAt'>): 'active' | 'revoked' | 'expired' {
  if (token.revokedAt !== null) return 'revoked';
  return token.expiresAt !== null && token.expiresAt <= systemClock.now() ? 'expired' : 'active';
}
