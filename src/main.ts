#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDatabase, type DatabaseHandle } from './db/create-database.js';
import { systemClock } from './lib/clock.js';
import type { UserRow } from './modules/accounts/accounts.repository.js';
import { CLI_ACTOR } from './modules/admin/admin.service.js';
import { mailDestination } from './modules/mail/mailer.js';
import type { AuditView } from './modules/audit/audit.service.js';
import { createRecordingSessionCache, publishRevocations } from './modules/sessions/revocation-bus.js';
import { isEveryMigration, migrateToLatest, pendingMigrations } from './db/migrate.js';
import { AppError } from './lib/errors.js';
import { isRole, ROLES } from './modules/accounts/accounts.service.js';
import type { ConflictPolicy } from './modules/import/import.service.js';
import { createServices, type Services } from './services.js';

/** A `.env` file in the working directory is read first; real environment variables win. */
function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}

async function serve(config: Config): Promise<void> {
  const { app, database } = await createApp(config, { processMetrics: true });
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // Fastify stops accepting connections, waits for in-flight requests, then onClose closes the database.
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  const address = await app.listen({ port: config.port, host: config.host });
  // The same rule the mailer follows (services.ts: log delivery only outside production).
  const mail = mailDestination({ smtpUrl: config.smtpUrl, allowLogDelivery: config.nodeEnv !== 'production' });
  app.log.info(
    {
      address,
      database: database.displayUrl,
      dataDir: config.dataDir,
      secrets: config.secretsFile ?? 'from the environment',
      jwtAlg: config.jwt.alg,
      mail,
      docs: `${address}/docs`,
    },
    `Twofold is listening on ${address} (database ${database.displayUrl}; mail ${mail}; API docs at ${address}/docs)`,
  );
}

/**
 * Runs one command on the services the server uses (src/services.ts), without Redis: the command
 * counts nothing. Then it tells running servers sharing REDIS_URL what it revoked, at once;
 * without Redis they apply it within their 5 s session cache.
 */
async function withServices<T>(config: Config, work: (services: Services) => Promise<T>): Promise<T> {
  const sessionCache = createRecordingSessionCache();
  const services = await createServices(config, { redis: false, sessionCache });
  try {
    return await work(services);
  } finally {
    await services.close();
    const { revocations } = sessionCache;
    if (config.redisUrl && revocations.length > 0 && !(await publishRevocations(config.redisUrl, revocations))) {
      console.error('note: Redis did not answer; running servers apply this within 5 seconds.');
    }
  }
}

async function findUser({ accounts }: Services, username: string): Promise<UserRow> {
  const row = await accounts.findByUsername(username);
  if (!row) throw new CommanderError(1, 'twofold.not_found', `No user named "${username}".`);
  return row;
}

function parseRole(value: string): (typeof ROLES)[number] {
  if (!isRole(value))
    throw new CommanderError(2, 'twofold.role', `Unknown role "${value}"; use one of: ${ROLES.join(', ')}.`);
  return value;
}

const AUDIT_LIMIT_MAX = 1000;

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > AUDIT_LIMIT_MAX)
    throw new InvalidArgumentError(`Use a whole number from 1 to ${AUDIT_LIMIT_MAX}.`);
  return limit;
}

/** One event a line, tab-separated: time, type, user id, IP, detail JSON ("-" for none). */
function formatAuditLine(event: AuditView): string {
  return [event.at, event.type, event.user_id ?? '-', event.ip ?? '-', JSON.stringify(event.detail)].join('\t');
}

async function unlockUser(username: string): Promise<void> {
  await withServices(loadConfig(), async (services) =>
    services.admin.updateUser((await findUser(services, username)).id, { locked: false }, CLI_ACTOR),
  );
  console.log(`${username} is unlocked: the lock and the count of failed attempts are cleared.`);
}

interface AuditOptions {
  user?: string;
  type?: string;
  limit: number;
}

async function printAudit(options: AuditOptions): Promise<void> {
  const events = await withServices(loadConfig(), async (services) => {
    const userId = options.user === undefined ? undefined : (await findUser(services, options.user)).id;
    return services.audit.list({ userId, type: options.type, limit: options.limit });
  });
  if (events.length === 0) console.error('No audit events match.');
  for (const event of events) console.log(formatAuditLine(event));
}

interface ImportCliOptions {
  from: string;
  dryRun?: boolean;
  strict?: boolean;
  onConflict: ConflictPolicy;
  batchSize: number;
}

function parseConflictPolicy(value: string): ConflictPolicy {
  if (value !== 'skip' && value !== 'update') throw new InvalidArgumentError('Use skip or update.');
  return value;
}

function parseBatchSize(value: string): number {
  const size = Number(value);
  if (!/^\d+$/.test(value) || size < 1 || size > 5000)
    throw new InvalidArgumentError('Use a whole number from 1 to 5000.');
  return size;
}

/**
 * The database an import writes to. A dry run writes nothing, migrations included: on a database
 * that does not exist yet (or is empty) it works against an empty in-memory one, which is what
 * the real import would start from; on one that lacks some migrations it asks for `migrate` first.
 */
async function importTarget(url: string, dryRun: boolean): Promise<DatabaseHandle> {
  if (!dryRun) {
    const database = createDatabase(url);
    await migrateToLatest(database).catch(async (error: unknown) => {
      await database.close();
      throw error;
    });
    return database;
  }
  const missingFile = url.startsWith('sqlite:') && !existsSync(url.slice('sqlite:'.length));
  const database = missingFile ? undefined : createDatabase(url);
  const pending = database ? await pendingMigrations(database) : [];
  if (database && pending.length === 0) return database;
  const empty = database === undefined || isEveryMigration(pending, database.dialect);
  await database?.close();
  if (!empty) {
    throw new CommanderError(
      1,
      'twofold.migrate',
      `The Twofold database lacks migrations ${pending.join(', ')}; run \`npm run twofold -- migrate\` first (a dry run writes nothing).`,
    );
  }
  const scratch = createDatabase('sqlite::memory:');
  await migrateToLatest(scratch);
  return scratch;
}

/** `twofold import`: the source is opened and recognised before Twofold's database is touched. */
async function importFrom(options: ImportCliOptions): Promise<void> {
  // Loaded here, not at the top: the importer brings every database driver, which `serve` must not pay for.
  const [{ openImportSource }, { formatImportSummary, formatProgress }, { runImport }] = await Promise.all([
    import('./modules/import/import-source.js'),
    import('./modules/import/import.report.js'),
    import('./modules/import/import.service.js'),
  ]);
  const source = await openImportSource(options.from);
  try {
    const config = loadConfig();
    const database = await importTarget(config.databaseUrl, options.dryRun ?? false);
    try {
      const started = performance.now();
      let printed = started;
      const summary = await runImport(
        { db: database.db, encryptionKey: config.encryptionKey, clock: systemClock },
        source,
        {
          dryRun: options.dryRun ?? false,
          strict: options.strict ?? false,
          onConflict: options.onConflict,
          batchSize: options.batchSize,
          onProgress(progress) {
            const now = performance.now();
            if (now - printed < 1000) return;
            printed = now;
            console.error(formatProgress(progress, now - started));
          },
        },
      );
      console.log(formatImportSummary(summary));
    } finally {
      await database.close();
    }
  } finally {
    await source.close();
  }
}

function buildProgram(): Command {
  const program = new Command('twofold')
    .description('Twofold authentication service')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('serve')
    .description('start the HTTP server (migrations are applied first)')
    .action(async () => serve(loadConfig()));
  program
    .command('migrate')
    .description('apply database migrations')
    .action(async () => {
      const config = loadConfig();
      const database = createDatabase(config.databaseUrl);
      try {
        const { applied } = await migrateToLatest(database);
        console.log(
          applied.length
            ? `Applied ${applied.join(', ')} to ${database.displayUrl}.`
            : `${database.displayUrl} is up to date.`,
        );
      } finally {
        await database.close();
      }
    });
  addUserCommands(program);
  program
    .command('audit')
    .description('list audit events, newest first (time, type, user id, IP, detail)')
    .option('--user <username>', "only this user's events")
    .option('--type <type>', 'only events of this type, e.g. login.failed')
    .option('--limit <n>', `how many events (1-${AUDIT_LIMIT_MAX})`, parseLimit, 50)
    .action(async (options: AuditOptions) => printAudit(options));
  program
    .command('import')
    .description(
      "bring users (passwords, authenticators) and products over from an original app's database or a JSON Lines file",
    )
    .requiredOption('--from <source>', 'sqlite:PATH, mysql://…, postgres://…, a .jsonl file, or - for standard input')
    .option('--dry-run', 'print what would be imported and write nothing')
    .option('--on-conflict <policy>', 'for usernames Twofold already has: skip or update', parseConflictPolicy, 'skip')
    .option('--strict', 'import nothing if any record cannot be imported')
    .option('--batch-size <n>', 'records per transaction', parseBatchSize, 500)
    .action(async (options: ImportCliOptions) => importFrom(options));
  return program;
}

function addUserCommands(program: Command): void {
  const user = program.command('user').description('manage accounts');
  user
    .command('create')
    .description('create an account')
    .requiredOption('--username <username>', 'the username')
    .requiredOption('--password <password>', 'the password')
    .option('--email <email>', 'email address')
    .option('--role <role>', `role (${ROLES.join(', ')})`, 'user')
    .action(async (options: { username: string; password: string; email?: string; role: string }) => {
      const role = parseRole(options.role);
      // Registration always creates a plain user; a role is an administrator's separate decision.
      const created = await withServices(loadConfig(), async ({ accounts, admin }) => {
        const registered = await accounts.register({
          username: options.username,
          password: options.password,
          email: options.email,
        });
        return role === registered.role ? registered : admin.updateUser(registered.id, { role }, CLI_ACTOR);
      });
      console.log(`Created user ${created.username} (id ${created.id}, role ${created.role}).`);
    });
  user
    .command('set-role')
    .description("change a user's role")
    .argument('<username>')
    .argument('<role>', ROLES.join(' or '))
    .action(async (username: string, roleName: string) => {
      const role = parseRole(roleName);
      await withServices(loadConfig(), async (services) =>
        services.admin.updateUser((await findUser(services, username)).id, { role }, CLI_ACTOR),
      );
      console.log(`${username} now has role ${role}.`);
    });
  user
    .command('reset-2fa')
    .description("remove a user's second factors (lost device); ends the user's sessions")
    .argument('<username>')
    .action(async (username: string) => {
      await withServices(loadConfig(), async (services) =>
        services.admin.resetTwoFactor((await findUser(services, username)).id, CLI_ACTOR),
      );
      console.log(
        `Removed every second factor of ${username} and ended their sessions; they can sign in with their password and set up 2FA again.`,
      );
    });
  user
    .command('unlock')
    .description("lift a user's lock (an administrator's or a brute-force lockout) and clear the failure count")
    .argument('<username>')
    .action(async (username: string) => unlockUser(username));
}

function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CommanderError)
    return { message: error.code.startsWith('twofold.') ? error.message : '', exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: `Configuration error: ${error.message}`, exitCode: 1 };
  if (error instanceof AppError) {
    const fields = error.fields
      ? Object.entries(error.fields)
          .map(([k, v]) => `${k} ${v}`)
          .join('; ')
      : '';
    return { message: `${error.message}${fields ? ` (${fields})` : ''}`, exitCode: 1 };
  }
  return { message: `Error: ${error instanceof Error ? error.message : String(error)}`, exitCode: 1 };
}

async function main(argv: string[]): Promise<void> {
  loadDotEnv();
  const args = argv.slice(2);
  try {
    await buildProgram().parseAsync(args.length === 0 ? ['serve'] : args, { from: 'user' });
  } catch (error) {
    const { message, exitCode } = describeFailure(error);
    if (message) console.error(message);
    process.exitCode = exitCode;
  }
}

await main(process.argv);
