import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.js';

const dialects = await testDialects();

const APP_TABLES = [
  'account_tokens',
  'audit_events',
  'backup_codes',
  'email_changes',
  'email_codes',
  'email_factors',
  'email_proofs',
  'login_lockouts',
  'mfa_flows',
  'oidc_clients',
  'oidc_payloads',
  'passkeys',
  'product_counts',
  'products',
  'refresh_tokens',
  'rate_counters',
  'sessions',
  'totp_factors',
  'users',
  'webauthn_challenges',
];
const MIGRATOR_TABLES = ['twofold_migrations', 'twofold_migrations_lock'];

describe.each(dialects)('migrations on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => database?.drop());

  // The tests below build on each other: an empty database, then the first run, then a second.
  it('starts from a database without tables', async () => {
    expect(await database.handle.db.introspection.getTables()).toEqual([]);
  });

  it('applies every migration in order to an empty database and creates every table', async () => {
    expect(await migrateToLatest(database.handle)).toEqual({
      applied: [
        '0001-initial',
        '0002-two-factor',
        '0003-protection',
        '0004-import',
        '0005-product-count',
        '0006-login-lockouts',
        '0007-recent-auth',
        '0008-email-nfkc',
        '0009-email-proofs',
        '0010-email-changes',
        '0011-totp-authenticators',
        '0012-passkeys',
        '0013-oidc',
        '0014-oidc-accounts',
        '0015-oidc-post-logout',
      ],
    });
    const names = (await database.handle.db.introspection.getTables()).map((t) => t.name).sort();
    expect(names).toEqual([...APP_TABLES, ...MIGRATOR_TABLES].sort());
  });

  it('applies nothing when run a second time', async () => {
    expect(await migrateToLatest(database.handle)).toEqual({ applied: [] });
    const names = (await database.handle.db.introspection.getTables()).map((t) => t.name);
    expect(names.filter((name) => APP_TABLES.includes(name)).sort()).toEqual([...APP_TABLES].sort());
  });

  it('stores money as integer cents, never as a binary or decimal fraction', async () => {
    const products = (await database.handle.db.introspection.getTables()).find((t) => t.name === 'products');
    const price = products?.columns.find((c) => c.name === 'price_cents');
    expect(products?.columns.map((c) => c.name)).not.toContain('price');
    expect(price).toMatchObject({ isNullable: false });
    expect(price?.dataType).toMatch(/^(big)?int(eger|8)?$/i);
    expect(price?.dataType).not.toMatch(/float|real|double|numeric|decimal/i);
  });

  it('keeps epoch-millisecond timestamps in 64-bit integer columns', async () => {
    const tables = await database.handle.db.introspection.getTables();
    const timestamps = tables.flatMap((t) =>
      t.columns.filter((c) => c.name.endsWith('_at')).map((c) => `${t.name}.${c.name}:${c.dataType}`),
    );
    expect(timestamps.length).toBeGreaterThanOrEqual(12);
    for (const column of timestamps) expect(column).toMatch(/:(bigint|int8)$/i);
  });
});
