#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { addAuditCommand } from './cli/audit-command.js';
import { addClientCommands } from './cli/client-commands.js';
import { addImportCommand } from './cli/import-command.js';
import { serve } from './cli/serve.js';
import { addUserCommands } from './cli/user-commands.js';
import { ConfigError, loadConfig } from './config.js';
import { createDatabase } from './db/create-database.js';
import { migrateToLatest } from './db/migrate.js';
import { AppError } from './lib/errors.js';

/** A `.env` file in the working directory is read first; real environment variables win. */
function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
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
  addAuditCommand(program);
  addImportCommand(program);
  addClientCommands(program);
  return program;
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
