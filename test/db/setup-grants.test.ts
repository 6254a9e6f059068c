import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.js';
import { createAccountsRepository } from '../../src/modules/accounts/accounts.repository.js';
import { createPasskeysRepository } from '../../src/modules/passkeys/passkeys.repository.js';
import {
  SETUP_TOKEN_TTL_SECONDS,
  createSetupGrants,
  type SetupGrants,
} from '../../src/modules/two-factor/setup-grants.js';
import {
  createTwoFactorRepository,
  type TwoFactorRepository,
} from '../../src/modules/two-factor/two-factor.repository.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { T0, createMigratedDatabase, digits } from './migrated-database.js';

const dialects = await testDialects();

/**
 * The grant behind a REQUIRE_2FA set-up token (docs/security.md, "Required second factor"), on its
 * own: the HTTP suites reach it only through a signed token, whose own `exp` and `sub` hide the
 * grant's expiry and owner check. A grant stands in for a factor the account lacks; once the account
 * has one, the password alone must never again be enough (NIST SP 800-63B §4.2).
 */
describe.each(dialects)('set-up grants on %s', (dialect) => {
  let database: TestDatabase;
  let repo: TwoFactorRepository;
  let grants: SetupGrants;
  const clock = createManualClock(new Date(T0));
  const TTL_MS = SETUP_TOKEN_TTL_SECONDS * 1000;

  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    repo = createTwoFactorRepository(database.handle.db, dialect);
    grants = createSetupGrants(repo, clock, randomBytes(32));
  });
  afterAll(async () => database?.drop());
  beforeEach(() => clock.set(new Date(T0)));

  async function newUserId(): Promise<number> {
    return createAccountsRepository(database.handle.db, dialect).insert({
      username: `grant_${digits()}`,
      email: null,
      passwordHash: 'x',
      role: 'user',
      emailVerified: false,
      nowMs: T0,
    });
  }

  /** A user with an open grant (opened at T0 after the given first factor): its id and the grant's. */
  async function withGrant(firstFactor?: 'pwd' | 'hwk'): Promise<{ userId: number; grantId: string }> {
    const userId = await newUserId();
    const grantId = randomBytes(16).toString('base64url');
    expect(await grants.openSetupGrant(userId, grantId, firstFactor)).toEqual({ expiresIn: SETUP_TOKEN_TTL_SECONDS });
    return { userId, grantId };
  }

  /** The user's mfa_flows rows (a fresh user has only the grant's). */
  const flowsOf = (userId: number) =>
    database.handle.db.selectFrom('mfa_flows').selectAll().where('user_id', '=', userId).execute();

  async function confirmTotp(userId: number): Promise<void> {
    expect(await repo.savePendingTotp(userId, 'Phone', 'sealed', T0)).toBe('saved');
    const pending = await repo.pendingTotp(userId);
    const confirmed = await repo.confirmTotp(userId, pending!.id, Math.floor(T0 / 30_000), undefined, T0);
    expect(confirmed.outcome).toBe('confirmed');
  }

  async function addPasskey(userId: number): Promise<void> {
    const credentialId = randomBytes(32).toString('base64url');
    const row = await createPasskeysRepository(database.handle.db, dialect).insert(
      {
        user_id: userId,
        credential_key: randomBytes(32).toString('hex'),
        credential_id: credentialId,
        public_key: 'cose',
        counter: 0,
        transports: '[]',
        backed_up: 0,
        device_type: 'singleDevice',
        aaguid: '00000000-0000-0000-0000-000000000000',
        name: 'Key',
        created_at: T0,
      },
      10,
    );
    expect(row).toMatchObject({ user_id: userId });
  }

  it('is a row of its own that lives 10 minutes; a password sign-in is its first factor unless told otherwise', async () => {
    const { userId } = await withGrant();
    const rows = await flowsOf(userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ created_at: T0, expires_at: T0 + TTL_MS, consumed_at: null, first_factor: 'pwd' });
  });

  it('is live until its last millisecond, and not at its expiry', async () => {
    const { userId, grantId } = await withGrant();
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(true);
    clock.set(new Date(T0 + TTL_MS - 1));
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(true);
    clock.set(new Date(T0 + TTL_MS));
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(false);
    clock.set(new Date(T0 + 2 * TTL_MS));
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(false);
  });

  it('is live for its own user only, and an unknown id is no grant', async () => {
    const { userId, grantId } = await withGrant();
    const other = await newUserId();
    expect(await grants.isSetupGrantLive(grantId, other)).toBe(false);
    expect(await grants.isSetupGrantLive(randomBytes(16).toString('base64url'), userId)).toBe(false);
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(true);
  });

  it('completes once, and a completed grant is live no more (though the account still has no factor)', async () => {
    const { userId, grantId } = await withGrant();
    expect(await grants.completeSetupGrant(grantId)).toBe(true);
    expect(await grants.completeSetupGrant(grantId)).toBe(false);
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(false);
    expect(await repo.enabledFactors(userId)).toEqual({ totp: false, email: false, passkey: false });
  });

  it('dies once the account has an authenticator app, email codes, or (after a password) a passkey', async () => {
    const addFactor = {
      totp: confirmTotp,
      email: (userId: number) => repo.enableEmail(userId, T0),
      passkey: addPasskey,
    };
    for (const [factor, add] of Object.entries(addFactor)) {
      const { userId, grantId } = await withGrant('pwd');
      await add(userId);
      expect(`${factor}: ${await grants.isSetupGrantLive(grantId, userId)}`).toBe(`${factor}: false`);
    }
  });

  it('after a passkey sign-in, a passkey does not end it: it waits for a factor of another kind', async () => {
    const { userId, grantId } = await withGrant('hwk');
    expect((await flowsOf(userId))[0]!.first_factor).toBe('hwk');
    await addPasskey(userId);
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(true);
    await confirmTotp(userId);
    expect(await grants.isSetupGrantLive(grantId, userId)).toBe(false);
  });
});
