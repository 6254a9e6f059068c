import { existsSync } from 'node:fs';
import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import { createDatabase, type DatabaseHandle } from '../db/create-database.js';
import { isEveryMigration, migrateToLatest, pendingMigrations } from '../db/migrate.js';
import { systemClock } from '../lib/clock.js';
import type { ConflictPolicy } from '../modules/import/import.service.js';

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
    import('../modules/import/import-source.js'),
    import('../modules/import/import.report.js'),
    import('../modules/import/import.service.js'),
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

/** `twofold import`: users, authenticators and products from an original app's database or a JSON Lines file. */
export function addImportCommand(program: Command): void {
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
}
