import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import { CLIENT_GRANTS, type ClientGrant, type ClientView } from '../modules/oidc/clients.service.js';
import { withServices } from './with-services.js';

const CLI = { by: 'cli', ip: null, userAgent: 'twofold-cli' } as const;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseGrant(value: string, previous: ClientGrant[] = []): ClientGrant[] {
  if (!(CLIENT_GRANTS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`Use one of: ${CLIENT_GRANTS.join(', ')}.`);
  return [...previous, value as ClientGrant];
}

/** `--scope "a b"` and `--scope a --scope b` both work (RFC 6749 §3.3: scopes are space-separated). */
function parseScope(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/\s+/).filter(Boolean)];
}

interface CreateOptions {
  name: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  public?: boolean;
  grant?: ClientGrant[];
  scope?: string[];
  skipConsent?: boolean;
  json?: boolean;
}

function describe(client: ClientView): string {
  return [
    client.client_id,
    client.name,
    client.public ? 'public' : 'confidential',
    client.grant_types.join(','),
    client.scope || '-',
    client.redirect_uris.join(',') || '-',
    client.post_logout_redirect_uris.join(',') || '-',
    client.skip_consent ? 'skip-consent' : 'consent',
  ].join('\t');
}

/** `twofold client create|list|delete|rotate-secret`: the OpenID Connect provider's relying parties. */
export function addClientCommands(program: Command): void {
  const client = program.command('client').description('manage the OpenID Connect clients (relying parties)');
  client
    .command('create')
    .description('register a client; its secret is printed once and stored only as a hash')
    .requiredOption('--name <name>', 'the name people see on the consent page')
    .option('--redirect-uri <uri>', 'where the sign-in returns (repeat for several)', collect)
    .option(
      '--post-logout-redirect-uri <uri>',
      "where the application's sign-out may return after Twofold signs the person out: https, or http on localhost (repeat for several; none: Twofold's own page)",
      collect,
    )
    .option('--public', 'no secret: a browser or mobile app, which must use PKCE')
    .option('--grant <grant>', `${CLIENT_GRANTS.join(', ')} (repeat for several)`, parseGrant)
    .option('--scope <scope>', 'a scope the client may ask for (repeat, or space-separated)', parseScope)
    .option('--skip-consent', 'a first-party application: no consent page')
    .option('--json', 'print {"client_id","client_secret"} as JSON')
    .action(async (options: CreateOptions) => {
      const { client: created, secret } = await withServices(loadConfig(), ({ oidcClients }) =>
        oidcClients.create(
          {
            name: options.name,
            redirectUris: options.redirectUri ?? [],
            postLogoutRedirectUris: options.postLogoutRedirectUri ?? [],
            public: options.public === true,
            grants: options.grant,
            scopes: options.scope,
            skipConsent: options.skipConsent === true,
          },
          CLI,
        ),
      );
      if (options.json) {
        console.log(JSON.stringify({ client_id: created.client_id, ...(secret ? { client_secret: secret } : {}) }));
        return;
      }
      console.log(`Created client ${created.name}: client_id ${created.client_id}`);
      if (secret) console.log(`client_secret ${secret}\n(shown this once; only its hash is stored)`);
    });
  client
    .command('list')
    .description('list the clients (id, name, type, grants, scopes, redirect URIs, post-logout redirect URIs, consent)')
    .option('--json', 'print a JSON array')
    .action(async (options: { json?: boolean }) => {
      const clients = await withServices(loadConfig(), ({ oidcClients }) => oidcClients.list());
      if (options.json) console.log(JSON.stringify(clients));
      else if (clients.length === 0) console.error('No clients.');
      else for (const each of clients) console.log(describe(each));
    });
  client
    .command('delete')
    .description('delete a client: it can no longer sign anyone in or get tokens')
    .argument('<client_id>')
    .action(async (id: string) => {
      await withServices(loadConfig(), ({ oidcClients }) => oidcClients.delete(id, CLI));
      console.log(`Deleted client ${id}.`);
    });
  client
    .command('rotate-secret')
    .description("replace a confidential client's secret; the old one stops working at once")
    .argument('<client_id>')
    .option('--json', 'print {"client_id","client_secret"} as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const rotated = await withServices(loadConfig(), ({ oidcClients }) => oidcClients.rotateSecret(id, CLI));
      if (options.json) console.log(JSON.stringify(rotated));
      else console.log(`client_secret ${rotated.client_secret}\n(shown this once; only its hash is stored)`);
    });
}
