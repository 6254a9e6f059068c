import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { migrateToLatest, migrateUpTo } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/schema.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.js';
import { T0, digits } from './migrated-database.js';

const dialects = await testDialects();

/** The tables 0011 reads, as they were before it. */
interface Before {
  users: Database['users'];
  totp_factors: {
    user_id: number;
    secret_sealed: string;
    confirmed_at: number | null;
    last_used_step: number | null;
    created_at: number;
  };
}

describe.each(dialects)('migration 0011 (several TOTP authenticators per user) on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    await migrateUpTo(database.handle, '0010-email-changes');
  });
  afterAll(async () => database?.drop());

  const db = (): Kysely<Before> => database.handle.db as unknown as Kysely<Before>;
  const newUser = async (): Promise<number> => {
    const username = `m${digits()}`;
    await db()
      .insertInto('users')
      .values({
        username,
        username_normalized: username,
        email: null,
        email_normalized: null,
        email_verified: 0,
        password_hash: 'x',
        role: 'user',
        created_at: T0,
        updated_at: T0,
      })
      .execute();
    return (await db().selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;
  };

  it('copies every factor (confirmed and pending) with its sealed secret, replay guard and dates, named by default', async () => {
    const confirmed = await newUser();
    const pending = await newUser();
    await db()
      .insertInto('totp_factors')
      .values([
        { user_id: confirmed, secret_sealed: 'sealed-a', confirmed_at: T0 + 1, last_used_step: 12345, created_at: T0 },
        { user_id: pending, secret_sealed: 'sealed-b', confirmed_at: null, last_used_step: null, created_at: T0 + 2 },
      ])
      .execute();

    expect(await migrateToLatest(database.handle)).toEqual({ applied: ['0011-totp-authenticators'] });

    const rows = await database.handle.db
      .selectFrom('totp_factors')
      .selectAll()
      .where('user_id', 'in', [confirmed, pending])
      .orderBy('user_id')
      .execute();
    expect(
      rows.map(({ id: _id, ...rest }) => ({
        ...rest,
        last_used_step: rest.last_used_step === null ? null : Number(rest.last_used_step),
      })),
    ).toEqual([
      {
        user_id: confirmed,
        name: 'Authenticator app',
        secret_sealed: 'sealed-a',
        confirmed_at: T0 + 1,
        last_used_step: 12345,
        last_used_at: null,
        created_at: T0,
      },
      {
        user_id: pending,
        name: 'Authenticator app',
        secret_sealed: 'sealed-b',
        confirmed_at: null,
        last_used_step: null,
        last_used_at: null,
        created_at: T0 + 2,
      },
    ]);
    expect(new Set(rows.map((row) => row.id)).size).toBe(2);
    // A second authenticator for the same user is now possible.
    await database.handle.db
      .insertInto('totp_factors')
      .values({ user_id: confirmed, secret_sealed: 'sealed-c', confirmed_at: T0, last_used_step: null, created_at: T0 })
      .execute();
    const names = await database.handle.db
      .selectFrom('totp_factors')
      .select('name')
      .where('user_id', '=', confirmed)
      .execute();
    expect(names).toEqual([{ name: 'Authenticator app' }, { name: 'Authenticator app' }]);
  });
});
