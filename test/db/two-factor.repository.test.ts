import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountsRepository } from '../../src/modules/accounts/accounts.repository.js';
import {
  MAX_CODE_ATTEMPTS,
  createTwoFactorRepository,
  type TwoFactorRepository,
} from '../../src/modules/two-factor/two-factor.repository.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { MINUTE_MS, T0, createMigratedDatabase, digits } from './migrated-database.js';

const dialects = await testDialects();

/**
 * Single use of every second-factor secret (a TOTP step, an email code, a backup code, a login
 * flow) rests on guarded UPDATEs, and they are the guard for every instance sharing the database,
 * not only for one process (whose per-user mutex already serialises its own requests): parallel
 * statements here, with no mutex, and exactly one winner. RFC 6238 §5.2: a code is accepted at
 * most once; OWASP MFA Cheat Sheet: backup codes are single use.
 */
describe.each(dialects)('two-factor repository on %s', (dialect) => {
  let database: TestDatabase;
  let repo: TwoFactorRepository;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    repo = createTwoFactorRepository(database.handle.db, dialect);
  });
  afterAll(async () => database?.drop());

  async function newUserId(): Promise<number> {
    return createAccountsRepository(database.handle.db, dialect).insert({
      username: `mfa_${digits()}`,
      email: null,
      passwordHash: 'x',
      role: 'user',
      emailVerified: false,
      nowMs: T0,
    });
  }

  const burst = <T>(n: number, action: () => Promise<T>): Promise<T[]> =>
    Promise.all(Array.from({ length: n }, action));
  const wins = (results: boolean[]): number => results.filter(Boolean).length;

  it('a TOTP step is accepted once, the setup step included, and never one older than the last', async () => {
    const userId = await newUserId();
    const step = Math.floor(T0 / 30_000);
    expect(await repo.savePendingTotp(userId, 'Phone', 'sealed', T0)).toBe('saved');
    const id = (await repo.pendingTotp(userId))!.id;
    // A pending secret accepts no step at all.
    expect(await repo.useTotpStep(id, step, T0)).toBe(false);
    expect(await repo.confirmTotp(userId, id, step, undefined, T0)).toEqual({ outcome: 'confirmed', first: true });
    // The code that confirmed the setup is spent.
    expect(await repo.useTotpStep(id, step, T0)).toBe(false);
    expect(wins(await burst(10, () => repo.useTotpStep(id, step + 1, T0)))).toBe(1);
    expect(await repo.useTotpStep(id, step + 1, T0)).toBe(false);
    // The previous step is still inside the ±1 window of the clock, but older than one accepted.
    expect(await repo.useTotpStep(id, step, T0)).toBe(false);
    expect(await repo.useTotpStep(id, step + 2, T0)).toBe(true);
  });

  it('each authenticator has its own replay guard; of parallel confirmations and setups one wins', async () => {
    const userId = await newUserId();
    const step = Math.floor(T0 / 30_000);
    const confirmNew = async (name: string) => {
      expect(await repo.savePendingTotp(userId, name, 'sealed', T0)).toBe('saved');
      const pending = (await repo.pendingTotp(userId))!;
      const results = await burst(5, () => repo.confirmTotp(userId, pending.id, step, undefined, T0));
      expect(results.filter((r) => r.outcome === 'confirmed')).toHaveLength(1);
      return pending.id;
    };
    const phone = await confirmNew('Phone');
    const tablet = await confirmNew('Tablet');
    // The same step, once per authenticator, whatever the other did.
    expect(wins(await burst(10, () => repo.useTotpStep(phone, step + 1, T0)))).toBe(1);
    expect(wins(await burst(10, () => repo.useTotpStep(tablet, step + 1, T0)))).toBe(1);
    // Parallel setups leave one pending setup.
    await burst(5, () => repo.savePendingTotp(userId, 'Laptop', 'sealed', T0));
    const rows = await database.handle.db
      .selectFrom('totp_factors')
      .select('id')
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .execute();
    expect(rows).toHaveLength(1);
    expect((await repo.confirmedTotps(userId)).map((row) => row.name)).toEqual(['Phone', 'Tablet']);
  });

  it('an email code is consumed once, takes at most the allowed number of attempts, and none after it expires', async () => {
    const userId = await newUserId();
    expect(await repo.replaceEmailCode(userId, 'login', 'hash-a', T0, T0 + 10 * MINUTE_MS, T0 - MINUTE_MS)).toBe(true);
    const code = (await repo.latestEmailCode(userId, 'login'))!;
    expect(wins(await burst(20, () => repo.reserveEmailCodeAttempt(code.id, T0)))).toBe(MAX_CODE_ATTEMPTS);

    expect(await repo.replaceEmailCode(userId, 'login', 'hash-b', T0 + MINUTE_MS, T0 + 11 * MINUTE_MS, T0)).toBe(true);
    const fresh = (await repo.latestEmailCode(userId, 'login'))!;
    expect(fresh.id).not.toBe(code.id);
    expect(wins(await burst(10, () => repo.consumeEmailCode(fresh.id, T0 + MINUTE_MS)))).toBe(1);
    // A used code takes no further attempt.
    expect(await repo.reserveEmailCodeAttempt(fresh.id, T0 + MINUTE_MS)).toBe(false);

    expect(
      await repo.replaceEmailCode(userId, 'login', 'hash-c', T0 + 2 * MINUTE_MS, T0 + 12 * MINUTE_MS, T0 + MINUTE_MS),
    ).toBe(true);
    const late = (await repo.latestEmailCode(userId, 'login'))!;
    expect(await repo.reserveEmailCodeAttempt(late.id, T0 + 12 * MINUTE_MS)).toBe(false);
    expect(await repo.reserveEmailCodeAttempt(late.id, T0 + 12 * MINUTE_MS - 1)).toBe(true);
  });

  it('a backup code is consumed once, and a regeneration ends the old set', async () => {
    const userId = await newUserId();
    await repo.replaceBackupCodes(userId, ['code-1', 'code-2'], T0);
    expect(wins(await burst(10, () => repo.consumeBackupCode(userId, 'code-1', T0)))).toBe(1);
    expect(await repo.consumeBackupCode(userId, 'code-1', T0)).toBe(false);
    expect(await repo.countBackupCodes(userId)).toBe(1);
    // Another user's code hash is not this user's.
    const other = await newUserId();
    expect(await repo.consumeBackupCode(other, 'code-2', T0)).toBe(false);

    await repo.replaceBackupCodes(userId, ['code-3'], T0);
    expect(await repo.consumeBackupCode(userId, 'code-2', T0)).toBe(false);
    expect(await repo.countBackupCodes(userId)).toBe(1);
  });

  it('a login flow takes at most the allowed number of attempts and is consumed once', async () => {
    const userId = await newUserId();
    const hash = `flow-${digits(16)}`;
    await repo.insertFlow(hash, userId, T0, T0 + 5 * MINUTE_MS);
    expect(wins(await burst(20, () => repo.reserveFlowAttempt(hash, T0)))).toBe(MAX_CODE_ATTEMPTS);
    const second = `flow-${digits(16)}`;
    await repo.insertFlow(second, userId, T0, T0 + 5 * MINUTE_MS);
    expect(wins(await burst(10, () => repo.consumeFlow(second, T0)))).toBe(1);
    expect(await repo.reserveFlowAttempt(second, T0)).toBe(false);
  });
});
