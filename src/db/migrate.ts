import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseHandle, Dialect } from './create-database.js';
import { initial } from './migrations/0001-initial.js';
import { twoFactor } from './migrations/0002-two-factor.js';
import { protection } from './migrations/0003-protection.js';
import { legacyImport } from './migrations/0004-import.js';
import { productCount } from './migrations/0005-product-count.js';
import { loginLockouts } from './migrations/0006-login-lockouts.js';
import { recentAuth } from './migrations/0007-recent-auth.js';
import { emailNfkc } from './migrations/0008-email-nfkc.js';
import { emailProofs } from './migrations/0009-email-proofs.js';
import { emailChanges } from './migrations/0010-email-changes.js';
import { totpAuthenticators } from './migrations/0011-totp-authenticators.js';
import { passkeys } from './migrations/0012-passkeys.js';
import { oidc } from './migrations/0013-oidc.js';
import { oidcAccounts } from './migrations/0014-oidc-accounts.js';
import { oidcPostLogout } from './migrations/0015-oidc-post-logout.js';

/** The migration list is static (not read from disk) so it works the same from src/ and dist/. */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-initial': initial(dialect),
    '0002-two-factor': twoFactor(dialect),
    '0003-protection': protection(),
    '0004-import': legacyImport(),
    '0005-product-count': productCount(),
    '0006-login-lockouts': loginLockouts(),
    '0007-recent-auth': recentAuth(),
    '0008-email-nfkc': emailNfkc(),
    '0009-email-proofs': emailProofs(),
    '0010-email-changes': emailChanges(),
    '0011-totp-authenticators': totpAuthenticators(dialect),
    '0012-passkeys': passkeys(dialect),
    '0013-oidc': oidc(),
    '0014-oidc-accounts': oidcAccounts(),
    '0015-oidc-post-logout': oidcPostLogout(),
  };
}

export interface MigrationReport {
  applied: string[];
}

function migratorOf(handle: DatabaseHandle): Migrator {
  return new Migrator({
    db: handle.db,
    provider: { getMigrations: async () => migrations(handle.dialect) },
    migrationTableName: 'twofold_migrations',
    migrationLockTableName: 'twofold_migrations_lock',
  });
}

/** The migrations not yet applied (all of them for an empty database); reads only. */
/** Whether `pending` is every migration there is (an empty database). */
export function isEveryMigration(pending: string[], dialect: Dialect): boolean {
  return pending.length === Object.keys(migrations(dialect)).length;
}

export async function pendingMigrations(handle: DatabaseHandle): Promise<string[]> {
  const tables = await handle.db.introspection.getTables();
  if (!tables.some((t) => t.name === 'twofold_migrations')) return Object.keys(migrations(handle.dialect));
  return (await migratorOf(handle).getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Applies the migrations up to and including `name` (tests of one migration's data conversion). */
export async function migrateUpTo(handle: DatabaseHandle, name: string): Promise<MigrationReport> {
  return reportOf(await migratorOf(handle).migrateTo(name));
}

export async function migrateToLatest(handle: DatabaseHandle): Promise<MigrationReport> {
  return reportOf(await migratorOf(handle).migrateToLatest());
}

function reportOf(result: MigrationResultSet): MigrationReport {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(
      `Migration ${failed} failed: ${result.error instanceof Error ? result.error.message : String(result.error)}`,
      { cause: result.error },
    );
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
