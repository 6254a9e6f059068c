import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueViolation } from '../../src/db/errors.js';
import {
  createAccountsRepository,
  createPasswordWriter,
  type AccountsRepository,
  type NewUser,
} from '../../src/modules/accounts/accounts.repository.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { MINUTE_MS, T0, caseVariants, createMigratedDatabase, digits } from './migrated-database.js';

const dialects = await testDialects();

describe.each(dialects)('accounts repository on %s', (dialect) => {
  let database: TestDatabase;
  let accounts: AccountsRepository;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    accounts = createAccountsRepository(database.handle.db, database.handle.dialect);
  });
  afterAll(async () => database?.drop());

  function newUser(overrides: Partial<NewUser> = {}): NewUser {
    const username = `User_${digits()}`;
    return {
      username,
      email: `${username}@Example.com`,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$hash',
      role: 'user',
      emailVerified: false,
      nowMs: T0,
      ...overrides,
    };
  }

  it('returns a distinct positive integer id for each insert', async () => {
    const first = await accounts.insert(newUser());
    const second = await accounts.insert(newUser());
    for (const id of [first, second]) {
      expect(typeof id).toBe('number');
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThan(0);
    }
    expect(second).not.toBe(first);
  });

  it('reads a user back by id with numbers for timestamps and 0/1 for booleans', async () => {
    const user = newUser({ emailVerified: true, role: 'admin' });
    const id = await accounts.insert(user);
    const row = await accounts.findById(id);
    expect(row).toEqual({
      id,
      username: user.username,
      username_normalized: user.username.toLowerCase(),
      email: user.email,
      email_normalized: user.email?.toLowerCase(),
      email_verified: 1,
      password_hash: user.passwordHash,
      role: 'admin',
      created_at: T0,
      updated_at: T0,
      last_login_at: null,
      failed_attempts: 0,
      locked_until: null,
      failures_expire_at: null,
      imported_at: null,
    });
    expect(typeof row?.created_at).toBe('number');
    expect(typeof row?.updated_at).toBe('number');

    const unverified = await accounts.findById(await accounts.insert(newUser({ emailVerified: false, email: null })));
    expect(unverified).toMatchObject({ email: null, email_normalized: null, email_verified: 0 });
  });

  it('finds nothing for an unknown id or login', async () => {
    expect(await accounts.findById(2_000_000_000)).toBeUndefined();
    expect(await accounts.findByLogin(`nobody_${digits()}`)).toBeUndefined();
    expect(await accounts.findByLogin(`nobody_${digits()}@example.com`)).toBeUndefined();
  });

  it('finds a user by username in any letter case', async () => {
    const user = newUser({ username: `MixedCase_${digits()}` });
    const id = await accounts.insert(user);
    expect((await accounts.findByLogin(user.username))?.id).toBe(id);
    expect((await accounts.findByLogin(user.username.toLowerCase()))?.id).toBe(id);
    expect((await accounts.findByLogin(user.username.toUpperCase()))?.id).toBe(id);
  });

  it('finds a user by email in any letter case, ignoring surrounding spaces', async () => {
    const email = `Ann.Lee_${digits()}@Example.COM`;
    const id = await accounts.insert(newUser({ email }));
    expect((await accounts.findByLogin(email))?.id).toBe(id);
    expect((await accounts.findByLogin(email.toLowerCase()))?.id).toBe(id);
    expect((await accounts.findByLogin(` ${email.toUpperCase()} `))?.id).toBe(id);
    expect((await accounts.findById(id))?.email).toBe(email);
  });

  it('changes only the password hash and updated_at with updatePasswordHash, and runs the hook in its transaction', async () => {
    const id = await accounts.insert(newUser());
    const before = await accounts.findById(id);
    const hookCalls: Array<{ userId: number; inTransaction: boolean; hashSeen: string | undefined }> = [];
    const passwords = createPasswordWriter(database.handle.db, async (trx, userId) => {
      const row = await trx.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
      hookCalls.push({ userId, inTransaction: trx.isTransaction, hashSeen: row?.password_hash });
    });
    await passwords.updatePasswordHash(id, '$argon2id$new', T0 + MINUTE_MS);
    expect(await accounts.findById(id)).toEqual({
      ...before,
      password_hash: '$argon2id$new',
      updated_at: T0 + MINUTE_MS,
    });
    expect(hookCalls).toEqual([{ userId: id, inTransaction: true, hashSeen: '$argon2id$new' }]);
  });

  it('keeps the old password when the hook fails: the new hash and the hook commit together or not at all', async () => {
    const id = await accounts.insert(newUser());
    const before = await accounts.findById(id);
    const passwords = createPasswordWriter(database.handle.db, () => Promise.reject(new Error('hook failed')));
    await expect(passwords.updatePasswordHash(id, '$argon2id$other', T0 + MINUTE_MS)).rejects.toThrow('hook failed');
    expect(await accounts.findById(id)).toEqual(before);
  });

  it('changes only the role and updated_at with updateRole', async () => {
    const id = await accounts.insert(newUser());
    const before = await accounts.findById(id);
    await accounts.updateRole(id, 'admin', T0 + 2 * MINUTE_MS);
    expect(await accounts.findById(id)).toEqual({ ...before, role: 'admin', updated_at: T0 + 2 * MINUTE_MS });
  });

  it('lets exactly one of 20 concurrent inserts of one username (any case) win; the rest are unique violations', async () => {
    const variants = caseVariants(`racer${digits(4)}`, 20);
    expect(new Set(variants).size).toBe(20);
    const results = await Promise.allSettled(
      variants.map((username) => accounts.insert(newUser({ username, email: null }))),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const loser of losers) expect(uniqueViolation(loser.reason)).toMatch(/username/i);
    const stored = await accounts.findByLogin(variants[0]!.toUpperCase());
    expect(stored?.id).toBe((winners[0] as PromiseFulfilledResult<number>).value);
  });

  it('lets exactly one of 20 concurrent inserts of one email (any case) win; the rest are unique violations', async () => {
    const variants = caseVariants(`mail.race${digits(4)}@example.com`, 20);
    const results = await Promise.allSettled(variants.map((email) => accounts.insert(newUser({ email }))));
    const winners = results.filter((r) => r.status === 'fulfilled');
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const loser of losers) expect(uniqueViolation(loser.reason)).toMatch(/email/i);
    const stored = await accounts.findByLogin(variants[0]!);
    expect(stored?.id).toBe((winners[0] as PromiseFulfilledResult<number>).value);
  });
});
