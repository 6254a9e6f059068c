import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailNfkc } from '../../src/db/migrations/0008-email-nfkc.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { createMigratedDatabase, digits } from './migrated-database.js';

const dialects = await testDialects();

describe.each(dialects)('migration 0008 (email addresses compared in NFKC) on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
  });
  afterAll(async () => database?.drop());

  const insert = async (username: string, email: string, emailNormalized: string) => {
    await database.handle.db
      .insertInto('users')
      .values({
        username,
        username_normalized: username.toLowerCase(),
        email,
        email_normalized: emailNormalized,
        email_verified: 0,
        password_hash: 'x',
        role: 'user',
        created_at: 1,
        updated_at: 1,
      })
      .execute();
  };
  const normalizedOf = async (username: string) =>
    (
      await database.handle.db
        .selectFrom('users')
        .select('email_normalized')
        .where('username_normalized', '=', username.toLowerCase())
        .executeTakeFirstOrThrow()
    ).email_normalized;

  it('re-normalises a full-width address stored under the old rule, leaves ASCII ones, and never merges two accounts', async () => {
    const n = digits();
    // Stored by the old rule (trim + lower-case): full-width letters stayed full-width.
    await insert(`wide${n}`, `\uFF4Bate${n}@example.com`, `\uFF4Bate${n}@example.com`);
    await insert(`plain${n}`, `Plain${n}@Example.com`, `plain${n}@example.com`);
    // Two old rows whose new forms collide: the one already holding the form keeps it, the other is left as it was.
    await insert(`owner${n}`, `zed${n}@example.com`, `zed${n}@example.com`);
    // MariaDB's collation already treats full-width and ASCII letters as one, so there the twin cannot exist.
    const twin = await insert(`twin${n}`, `\uFF5Aed${n}@example.com`, `\uFF5Aed${n}@example.com`).then(
      () => true,
      () => dialect !== 'mysql' && Promise.reject(new Error('twin refused')),
    );

    await emailNfkc().up(database.handle.db);

    expect(await normalizedOf(`wide${n}`)).toBe(`kate${n}@example.com`);
    expect(await normalizedOf(`plain${n}`)).toBe(`plain${n}@example.com`);
    expect(await normalizedOf(`owner${n}`)).toBe(`zed${n}@example.com`);
    if (twin) expect(await normalizedOf(`twin${n}`)).toBe(`\uFF5Aed${n}@example.com`);
  });
});
