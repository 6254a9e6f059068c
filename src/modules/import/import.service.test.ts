import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import bcrypt from 'bcryptjs';
import { createTestDatabase, testDialects, type TestDatabase } from '../../../test/support/databases.js';
import { createDatabase } from '../../db/create-database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createManualClock } from '../../lib/clock.js';
import { unseal } from '../../lib/crypto.js';
import { totpSecretAad } from '../two-factor/two-factor.service.js';
import type { ImportSource } from './import-source.js';
import { runImport, type ImportOptions } from './import.service.js';
import { BCRYPT, SECRET, product, source, user } from './import.fixtures.js';

const KEY = Buffer.alloc(32, 9);

const OPTIONS: ImportOptions = { dryRun: false, onConflict: 'skip', strict: false, batchSize: 2 };

describe('import service (SQLite)', () => {
  let database: TestDatabase;
  const clock = createManualClock(new Date('2026-03-01T10:00:00Z'));
  const run = (src: ImportSource, options: Partial<ImportOptions> = {}): ReturnType<typeof runImport> =>
    runImport({ db: database.handle.db, encryptionKey: KEY, clock }, src, { ...OPTIONS, ...options });
  const count = async (
    table: 'users' | 'products' | 'totp_factors' | 'audit_events' | 'email_factors',
  ): Promise<number> =>
    Number(
      (
        await database.handle.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeEach(async () => {
    database = await createTestDatabase('sqlite');
    await migrateToLatest(database.handle);
  });
  afterEach(async () => database.drop());

  it('imports across batches, seals TOTP secrets to their user, records an audit event per user, and lists every skip', async () => {
    const summary = await run(
      source([
        user('alice', {
          totpSecret: 'jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp',
          email: 'Alice@Example.com',
          emailVerified: true,
        }),
        user('bob', { role: 'editor' }),
        user('ALICE'),
        user('carol', { passwordHash: '5f4dcc3b5aa765d61d8327deb882cf99' }),
        user('dave', { email: 'alice@example.COM' }),
        user('erin', { totpSecret: 'not*base32' }),
        user('frank', { totpSecret: 'JBSWY3DP' }),
        user('grace@example.com'),
        user('heidi', { mfaWithoutSecret: true }),
        user('ivan', { passwordHash: null }),
        user('judy', { passwordHash: null, email: 'judy@example.com' }),
        { ref: 'line 12', problem: 'not valid JSON' },
        user('mallory', { role: 'ADMIN' }),
      ]),
    );
    expect(summary.users).toMatchObject({ read: 13, imported: 4, updated: 0, unchanged: 0, totp: 1 });
    const reasons = Object.fromEntries(
      [...summary.skippedUsers.reasons].map(([reason, { examples }]) => [reason, examples]),
    );
    expect(reasons).toEqual({
      'the same username (case-insensitively) appears earlier in the source': ['ALICE (user ALICE)'],
      'unrecognised password hash format (Twofold reads Werkzeug pbkdf2/scrypt, bcrypt and argon2)': [
        'carol (user carol)',
      ],
      'the same email address appears earlier in the source': ['dave (user dave)'],
      'TOTP secret is not base32': ['erin (user erin)'],
      'TOTP secret is shorter than 80 bits': ['frank (user frank)'],
      'username contains @ (sign-in would read it as an email address)': ['grace@example.com (user grace@example.com)'],
      '2FA is on in the source but it holds no TOTP secret to carry (importing would drop the second factor)': [
        'heidi (user heidi)',
      ],
      'no password hash and no email address to reset it with': ['ivan (user ivan)'],
      'not valid JSON': ['line 12'],
    });
    expect(summary.rolesMapped).toEqual(new Map([['editor', 1]]));

    const rows = await database.handle.db
      .selectFrom('users')
      .select(['id', 'username', 'email', 'email_verified', 'role', 'password_hash'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => [r.username, r.role, r.email, r.email_verified])).toEqual([
      ['alice', 'user', 'Alice@Example.com', 1],
      ['bob', 'user', null, 0],
      ['judy', 'user', 'judy@example.com', 0],
      ['mallory', 'admin', null, 0],
    ]);
    expect(rows[0]?.password_hash).toBe(BCRYPT);
    const factor = await database.handle.db.selectFrom('totp_factors').selectAll().executeTakeFirstOrThrow();
    expect(factor.user_id).toBe(rows[0]?.id);
    expect(factor.confirmed_at).not.toBeNull();
    expect(factor.secret_sealed).not.toContain(SECRET);
    expect(unseal(KEY, factor.secret_sealed, totpSecretAad(factor.user_id))).toBe(SECRET);
    expect(() => unseal(KEY, factor.secret_sealed, totpSecretAad(factor.user_id + 1))).toThrow();
    const events = await database.handle.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', '=', 'user.imported')
      .execute();
    expect(events.map((e) => e.user_id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(JSON.parse(events[0]?.detail ?? '{}')).toEqual({
      source: 'test',
      action: 'created',
      totp: true,
      email_codes: false,
    });
  });

  it('a second run changes nothing; a dry run writes nothing but reports the same numbers', async () => {
    const users = [user('alice', { totpSecret: SECRET }), user('bob')];
    const products = [product(1, '19.99'), product(2, 0.1), product(3, '12345678.90')];
    const dry = await run(source(users, products), { dryRun: true });
    expect(await count('users')).toBe(0);
    expect(await count('products')).toBe(0);
    const first = await run(source(users, products));
    expect({ users: dry.users, products: dry.products }).toEqual({ users: first.users, products: first.products });
    expect(first.products).toEqual({ read: 3, imported: 3, updated: 0, unchanged: 0 });
    const prices = await database.handle.db
      .selectFrom('products')
      .select(['legacy_id', 'price_cents'])
      .orderBy('id')
      .execute();
    // The list's total (product_counts) moves with the import's bulk insert.
    expect((await database.handle.db.selectFrom('product_counts').select('n').executeTakeFirstOrThrow()).n).toBe(3);
    expect(prices).toEqual([
      { legacy_id: 'product:1', price_cents: 1999 },
      { legacy_id: 'product:2', price_cents: 10 },
      { legacy_id: 'product:3', price_cents: 1234567890 },
    ]);
    const before = await Promise.all([count('users'), count('products'), count('totp_factors'), count('audit_events')]);
    const second = await run(source(users, products));
    expect(second.users).toMatchObject({ imported: 0, updated: 0, unchanged: 2 });
    expect(second.skippedUsers.total).toBe(0);
    expect(second.products).toMatchObject({ imported: 0, updated: 0, unchanged: 3 });
    expect(
      await Promise.all([count('users'), count('products'), count('totp_factors'), count('audit_events')]),
    ).toEqual(before);
  });

  it('skips accounts Twofold already has unless --on-conflict update, which overwrites only what changed', async () => {
    await database.handle.db
      .insertInto('users')
      .values({
        username: 'Alice',
        username_normalized: 'alice',
        email: 'a@example.com',
        email_normalized: 'a@example.com',
        email_verified: 1,
        password_hash: 'x',
        role: 'user',
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    const skipped = await run(source([user('alice', { role: 'admin', totpSecret: SECRET })]));
    expect([...skipped.skippedUsers.reasons.keys()]).toEqual([
      'already in Twofold (usernames match case-insensitively); --on-conflict update overwrites them',
    ]);
    const updated = await run(source([user('alice', { role: 'admin', totpSecret: SECRET })]), { onConflict: 'update' });
    expect(updated.users).toMatchObject({ imported: 0, updated: 1, totp: 1 });
    const row = await database.handle.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    // The username keeps Twofold's spelling; the email stays when the source has none.
    expect(row).toMatchObject({
      username: 'Alice',
      role: 'admin',
      password_hash: BCRYPT,
      email: 'a@example.com',
      email_verified: 1,
    });
    expect(await count('totp_factors')).toBe(1);
    const again = await run(source([user('alice', { role: 'admin', totpSecret: SECRET })]), { onConflict: 'update' });
    expect(again.users).toMatchObject({ updated: 0, unchanged: 1 });
  });

  it('--on-conflict update keeps a password or authenticator changed in Twofold after an earlier import', async () => {
    const db = database.handle.db;
    await run(source([user('alice', { totpSecret: SECRET }), user('bob')]));
    const [alice, bob] = await db.selectFrom('users').select(['id', 'imported_at']).orderBy('id').execute();
    // alice signed in (rehash to argon2id) and enrolled a new authenticator in Twofold; bob did nothing.
    await db
      .updateTable('users')
      .set({ password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g' })
      .where('id', '=', alice?.id as number)
      .execute();
    await db
      .updateTable('totp_factors')
      .set({ created_at: (alice?.imported_at as number) + 60_000, secret_sealed: 'new-factor' })
      .where('user_id', '=', alice?.id as number)
      .execute();
    const otherHash = bcrypt.hashSync('changed in the old app', 4);
    const summary = await run(
      source([
        user('alice', { totpSecret: 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U' }),
        user('bob', { passwordHash: otherHash }),
      ]),
      { onConflict: 'update' },
    );
    expect(summary.users).toMatchObject({ updated: 1, unchanged: 1 });
    const rows = await db.selectFrom('users').select(['username', 'password_hash']).orderBy('id').execute();
    expect(rows).toEqual([
      { username: 'alice', password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g' },
      // bob never signed in to Twofold: the old app's newer hash replaces the one imported before.
      { username: 'bob', password_hash: otherHash },
    ]);
    expect(
      (
        await db
          .selectFrom('totp_factors')
          .select('secret_sealed')
          .where('user_id', '=', alice?.id as number)
          .executeTakeFirstOrThrow()
      ).secret_sealed,
    ).toBe('new-factor');
    expect(bob).toBeDefined();
  });

  it('products: exact cents, invalid ones listed, matched by original id on later runs, updated only with --on-conflict update', async () => {
    const first = await run(
      source(
        [],
        [
          product(1, '5.50'),
          product(2, '1.005'),
          product(3, -1),
          product(4, '3', { quantity: -2 }),
          product(5, '7', { name: '' }),
        ],
      ),
    );
    expect(first.products).toMatchObject({ imported: 1 });
    expect(first.skippedProducts.total).toBe(4);
    const edited = [product(1, '6.25', { name: 'Renamed' })];
    expect((await run(source([], edited))).products).toMatchObject({ imported: 0, updated: 0, unchanged: 1 });
    expect((await run(source([], edited), { onConflict: 'update' })).products).toMatchObject({ updated: 1 });
    expect(await database.handle.db.selectFrom('products').select(['name', 'price_cents']).execute()).toEqual([
      { name: 'Renamed', price_cents: 625 },
    ]);
  });

  it('--strict imports nothing when any record is invalid, whichever batch it is in', async () => {
    const users = [user('u1'), user('u2'), user('u3'), { ref: 'line 4', problem: 'username is required' }];
    await expect(run(source(users), { strict: true })).rejects.toThrow(
      /--strict: line 4 cannot be imported \(username is required\); nothing was imported/,
    );
    expect(await count('users')).toBe(0);
    expect(await count('audit_events')).toBe(0);
    // A clash with an existing account is not the record's fault: strict still imports the rest.
    await run(source([user('u1')]));
    const summary = await run(source([user('u1'), user('u2')]), { strict: true });
    expect(summary.users.imported).toBe(1);
  });

  it('email-code app users get the email factor', async () => {
    const summary = await run(
      source([user('eve', { email: 'eve@example.com', emailVerified: true, emailFactor: true })]),
    );
    expect(summary.users.emailCodes).toBe(1);
    expect(await count('email_factors')).toBe(1);
  });

  it('two imports of the same source at once create each user exactly once (one SQLite connection: serialised)', async () => {
    const users = Array.from({ length: 40 }, (_, i) => user(`racer${i}`));
    const results = await Promise.all([run(source(users)), run(source(users))]);
    expect(await count('users')).toBe(40);
    expect(results[0].users.imported + results[1].users.imported).toBe(40);
  });
});

const serverDialects = (await testDialects()).filter((dialect) => dialect !== 'sqlite');

describe.each(serverDialects)('two importers racing on %s, each with its own connections', (dialect) => {
  it('creates each user once: the loser of a unique-index clash retries its batch and skips what the winner wrote', async () => {
    const database = await createTestDatabase(dialect);
    const second = createDatabase(database.url);
    try {
      await migrateToLatest(database.handle);
      const clock = createManualClock(new Date('2026-03-01T10:00:00Z'));
      const users = Array.from({ length: 60 }, (_, i) => user(`racer${i}`, { email: `racer${i}@example.com` }));
      const results = await Promise.all(
        [database.handle, second].map((handle) =>
          runImport({ db: handle.db, encryptionKey: KEY, clock }, source(users), { ...OPTIONS, batchSize: 3 }),
        ),
      );
      const rows = await database.handle.db.selectFrom('users').select('username').execute();
      expect(rows.map((row) => row.username).sort()).toEqual(users.map((u) => u.username).sort());
      expect(results.reduce((sum, result) => sum + result.users.imported, 0)).toBe(60);
      const events = await database.handle.db
        .selectFrom('audit_events')
        .select('user_id')
        .where('type', '=', 'user.imported')
        .execute();
      expect(events).toHaveLength(60);
    } finally {
      await second.close();
      await database.drop();
    }
  });
});
