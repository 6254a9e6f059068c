import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueViolation } from '../../src/db/errors.js';
import { createAccountsRepository, type AccountsRepository } from '../../src/modules/accounts/accounts.repository.js';
import {
  createSessionsRepository,
  type NewSession,
  type SessionsRepository,
} from '../../src/modules/sessions/sessions.repository.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { MINUTE_MS, T0, createMigratedDatabase, digits, tokenHash } from './migrated-database.js';

const dialects = await testDialects();

const DAY_MS = 24 * 60 * MINUTE_MS;

describe.each(dialects)('sessions repository on %s', (dialect) => {
  let database: TestDatabase;
  let accounts: AccountsRepository;
  let sessions: SessionsRepository;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    accounts = createAccountsRepository(database.handle.db, database.handle.dialect);
    sessions = createSessionsRepository(database.handle.db, database.handle.dialect);
  });
  afterAll(async () => database?.drop());

  async function newUserId(): Promise<number> {
    return accounts.insert({
      username: `sess_${digits()}`,
      email: null,
      passwordHash: 'hash',
      role: 'user',
      emailVerified: false,
      nowMs: T0,
    });
  }

  /** A 64-character value like the keyed hashes stored in used_by (char(64) pads shorter ones on PostgreSQL). */
  const clientHash = (i: number): string => String(i).padStart(64, 'c');

  /** A session with a first refresh token nobody uses, as a sign-in writes it. */
  const insertSession = (session: NewSession): Promise<number> => sessions.openSession(session, tokenHash(), false);

  function newSession(userId: number, overrides: Partial<NewSession> = {}): NewSession {
    return {
      userId,
      amr: ['pwd'],
      userAgent: 'vitest',
      ip: '192.0.2.1',
      nowMs: T0,
      expiresAtMs: T0 + 30 * DAY_MS,
      ...overrides,
    };
  }

  it('inserts a session and reads it back with numeric timestamps', async () => {
    const userId = await newUserId();
    const id = await sessions.openSession(
      newSession(userId, { amr: ['pwd', 'otp'], userAgent: null, ip: '2001:db8::1' }),
      tokenHash(),
      false,
    );
    expect(Number.isInteger(id)).toBe(true);
    expect(await sessions.findSession(id)).toEqual({
      id,
      user_id: userId,
      amr: 'pwd,otp',
      user_agent: null,
      ip: '2001:db8::1',
      created_at: T0,
      last_used_at: T0,
      expires_at: T0 + 30 * DAY_MS,
      revoked_at: null,
      authenticated_at: T0,
    });
    expect(await sessions.findSession(2_000_000_000)).toBeUndefined();
  });

  it('finds a refresh token together with the fields of its session', async () => {
    const userId = await newUserId();
    const hash = tokenHash();
    const sessionId = await sessions.openSession(newSession(userId, { amr: ['pwd', 'otp'] }), tokenHash(), false);
    await sessions.insertRefreshToken(hash, sessionId, T0, T0 + DAY_MS);
    const record = await sessions.findRefreshToken(hash);
    expect(record).toEqual({
      sessionId,
      userId,
      amr: 'pwd,otp',
      authenticatedAt: T0,
      usedAt: null,
      usedBy: null,
      tokenExpiresAt: T0 + DAY_MS,
      sessionRevokedAt: null,
      sessionExpiresAt: T0 + 30 * DAY_MS,
      sessionLastUsedAt: T0,
      user: {
        id: userId,
        username: expect.stringMatching(/^sess_/),
        email: null,
        role: 'user',
        email_verified: 0,
        created_at: T0,
        totp: false,
        emailFactor: false,
        passkey: false,
      },
    });
    expect(typeof record?.tokenExpiresAt).toBe('number');
    expect(typeof record?.sessionExpiresAt).toBe('number');
    expect(await sessions.findRefreshToken(tokenHash())).toBeUndefined();
  });

  it('opens a session together with its first refresh token, which expires with the session', async () => {
    const userId = await newUserId();
    const hash = tokenHash();
    const sessionId = await sessions.openSession(
      newSession(userId, { amr: ['pwd', 'otp'], ip: '2001:db8::2' }),
      hash,
      true,
    );
    expect(Number.isInteger(sessionId)).toBe(true);
    expect(await sessions.findSession(sessionId)).toMatchObject({ user_id: userId, amr: 'pwd,otp', ip: '2001:db8::2' });
    expect(await sessions.findRefreshToken(hash)).toMatchObject({
      sessionId,
      userId,
      usedAt: null,
      tokenExpiresAt: T0 + 30 * DAY_MS,
      sessionExpiresAt: T0 + 30 * DAY_MS,
    });
  });

  it('records the login time with the session, and forgets the failure count only when asked', async () => {
    const userId = await newUserId();
    const counted = { failed_attempts: 3, failures_expire_at: T0 + DAY_MS, locked_until: T0 + MINUTE_MS };
    await database.handle.db.updateTable('users').set(counted).where('id', '=', userId).execute();
    // A device cookie's success: the login time, the strangers' count stays.
    await sessions.openSession(newSession(userId, { nowMs: T0 + 5 }), tokenHash(), false);
    expect(await accounts.findById(userId)).toMatchObject({ ...counted, last_login_at: T0 + 5 });
    expect(typeof (await accounts.findById(userId))?.last_login_at).toBe('number');
    await sessions.openSession(newSession(userId, { nowMs: T0 + 6 }), tokenHash(), true);
    expect(await accounts.findById(userId)).toMatchObject({
      failed_attempts: 0,
      failures_expire_at: null,
      locked_until: null,
      last_login_at: T0 + 6,
    });
  });

  it('opens neither the session nor its token when either cannot be written', async () => {
    const userId = await newUserId();
    const taken = tokenHash();
    await sessions.openSession(newSession(userId), taken, true);
    // The token's hash is taken: the session written before it in the same step must not stay.
    const clash = await sessions.openSession(newSession(userId, { nowMs: T0 + 1 }), taken, true).then(
      () => null,
      (e: unknown) => e,
    );
    expect(uniqueViolation(clash)).not.toBeNull();
    expect(await sessions.listActive(userId, T0 + 2)).toHaveLength(1);
    // …nor the login time of the sign-in that failed.
    expect((await accounts.findById(userId))?.last_login_at).toBe(T0);
    // No such account: no token is left without its session.
    const orphan = tokenHash();
    const gone = await sessions.openSession(newSession(2_000_000_000), orphan, true).then(
      () => null,
      (e: unknown) => e,
    );
    expect(gone).not.toBeNull();
    expect(uniqueViolation(gone)).toBeNull();
    expect(await sessions.findRefreshToken(orphan)).toBeUndefined();
  });

  it('refuses a second refresh token with the same hash as a unique violation', async () => {
    const hash = tokenHash();
    const sessionId = await sessions.openSession(newSession(await newUserId()), hash, false);
    const error = await sessions.insertRefreshToken(hash, sessionId, T0, T0 + DAY_MS).then(
      () => null,
      (e: unknown) => e,
    );
    expect(uniqueViolation(error)).not.toBeNull();
  });

  it('does not take a foreign-key failure for a unique violation', async () => {
    const error = await sessions.openSession(newSession(2_000_000_000), tokenHash(), false).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).not.toBeNull();
    expect(uniqueViolation(error)).toBeNull();
  });

  it('lets exactly one of 10 concurrent spends of one refresh token succeed', async () => {
    const hash = tokenHash();
    await sessions.openSession(newSession(await newUserId()), hash, false);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sessions.spendRefreshToken(hash, T0 + i + 1, clientHash(i))),
    );
    expect(results.filter((spent) => spent)).toHaveLength(1);
    const usedAt = (await sessions.findRefreshToken(hash))?.usedAt;
    expect(usedAt).toBe(T0 + results.indexOf(true) + 1);
    expect((await sessions.findRefreshToken(hash))?.usedBy).toBe(clientHash(results.indexOf(true)));
    expect(await sessions.spendRefreshToken(hash, T0 + MINUTE_MS, clientHash(99))).toBe(false);
    expect((await sessions.findRefreshToken(hash))?.usedAt).toBe(usedAt);
    expect(await sessions.spendRefreshToken(tokenHash(), T0, clientHash(98))).toBe(false);
  });

  it('extends a session', async () => {
    const id = await insertSession(newSession(await newUserId()));
    await sessions.extendSession(id, T0 + MINUTE_MS, T0 + 31 * DAY_MS);
    expect(await sessions.findSession(id)).toMatchObject({
      created_at: T0,
      last_used_at: T0 + MINUTE_MS,
      expires_at: T0 + 31 * DAY_MS,
    });
  });

  it('revokes a session once: true the first time, false after', async () => {
    const id = await insertSession(newSession(await newUserId()));
    expect(await sessions.revoke(id, T0 + MINUTE_MS)).toBe(true);
    expect(await sessions.revoke(id, T0 + 2 * MINUTE_MS)).toBe(false);
    expect((await sessions.findSession(id))?.revoked_at).toBe(T0 + MINUTE_MS);
    expect(await sessions.revoke(2_000_000_000, T0)).toBe(false);
  });

  it('revokes every other live session of a user, keeping the excepted one and other users', async () => {
    const userId = await newUserId();
    const otherUserId = await newUserId();
    const [keep, second, third, alreadyRevoked] = await Promise.all(
      [1, 2, 3, 4].map(() => insertSession(newSession(userId))),
    );
    const otherUsers = await insertSession(newSession(otherUserId));
    await sessions.revoke(alreadyRevoked!, T0 + 1);

    expect(await sessions.revokeForUser(userId, T0 + MINUTE_MS, keep)).toBe(2);
    expect((await sessions.findSession(keep!))?.revoked_at).toBeNull();
    expect((await sessions.findSession(second!))?.revoked_at).toBe(T0 + MINUTE_MS);
    expect((await sessions.findSession(third!))?.revoked_at).toBe(T0 + MINUTE_MS);
    expect((await sessions.findSession(alreadyRevoked!))?.revoked_at).toBe(T0 + 1);
    expect((await sessions.findSession(otherUsers))?.revoked_at).toBeNull();

    expect(await sessions.revokeForUser(userId, T0 + 2 * MINUTE_MS)).toBe(1);
    expect((await sessions.findSession(keep!))?.revoked_at).toBe(T0 + 2 * MINUTE_MS);
    expect(await sessions.revokeForUser(userId, T0 + 3 * MINUTE_MS)).toBe(0);
  });

  it('lists only live sessions, most recently used first', async () => {
    const userId = await newUserId();
    const now = T0 + DAY_MS;
    const older = await insertSession(newSession(userId, { nowMs: T0, expiresAtMs: now + DAY_MS }));
    const newer = await insertSession(newSession(userId, { nowMs: T0 + MINUTE_MS, expiresAtMs: now + DAY_MS }));
    const revoked = await insertSession(newSession(userId, { nowMs: T0 + 2 * MINUTE_MS, expiresAtMs: now + DAY_MS }));
    await sessions.revoke(revoked, T0 + 3 * MINUTE_MS);
    await insertSession(newSession(userId, { expiresAtMs: now - 1 }));
    await insertSession(newSession(userId, { expiresAtMs: now }));
    await insertSession(newSession(await newUserId(), { expiresAtMs: now + DAY_MS }));

    const active = await sessions.listActive(userId, now);
    expect(active.map((s) => s.id)).toEqual([newer, older]);
    expect(active[0]).toMatchObject({ user_id: userId, revoked_at: null, last_used_at: T0 + MINUTE_MS });

    await sessions.extendSession(older, now - 1, now + DAY_MS);
    expect((await sessions.listActive(userId, now)).map((s) => s.id)).toEqual([older, newer]);
    expect(await sessions.listActive(userId, now + DAY_MS)).toEqual([]);
  });

  it('commits the work of a transaction and returns its result', async () => {
    const userId = await newUserId();
    const hash = tokenHash();
    const id = await sessions.transaction(async (tx) => {
      const sessionId = await tx.openSession(newSession(userId), hash, false);
      expect(await tx.revoke(sessionId, T0 + 1)).toBe(true);
      return sessionId;
    });
    expect((await sessions.findSession(id))?.user_id).toBe(userId);
    expect((await sessions.findSession(id))?.revoked_at).toBe(T0 + 1);
    expect((await sessions.findRefreshToken(hash))?.sessionId).toBe(id);
  });

  it('rolls back every write of a transaction whose work throws', async () => {
    const userId = await newUserId();
    const hash = tokenHash();
    const spentHash = tokenHash();
    const existing = await sessions.openSession(newSession(userId), spentHash, false);
    let insertedId: number | undefined;
    const failure = new Error('work failed after writing');

    await expect(
      sessions.transaction(async (tx) => {
        insertedId = await tx.openSession(newSession(userId), hash, false);
        expect(await tx.spendRefreshToken(spentHash, T0 + 1, clientHash(1))).toBe(true);
        expect(await tx.revoke(existing, T0 + 1)).toBe(true);
        expect((await tx.findSession(insertedId))?.user_id).toBe(userId);
        expect((await tx.findRefreshToken(hash))?.sessionId).toBe(insertedId);
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(insertedId).toEqual(expect.any(Number));
    expect(await sessions.findSession(insertedId!)).toBeUndefined();
    expect(await sessions.findRefreshToken(hash)).toBeUndefined();
    expect((await sessions.findRefreshToken(spentHash))?.usedAt).toBeNull();
    expect((await sessions.findSession(existing))?.revoked_at).toBeNull();
  });
});
