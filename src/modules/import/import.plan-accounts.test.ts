import { describe, expect, it } from 'vitest';
import {
  CONFLICT,
  enrolledInTwofold,
  isConflict,
  type ExistingTotp,
  type UserAction,
  type UserState,
} from './import.plan.js';

import {
  BCRYPT,
  OTHER_BCRYPT,
  ARGON2ID,
  SECRET,
  OTHER_SECRET,
  IMPORTED_AT,
  user,
  account,
  state,
  plan,
  summary,
  only,
} from './import.fixtures.js';

/** The planning step against the accounts Twofold has: records and Twofold's state in, actions out. */
describe('import plan: against the accounts Twofold has', () => {
  it('inserts new users and skips an address another account owns, whether the user is new or existing', () => {
    const twofold = state([
      account(1, 'owner', { email: 'taken@example.com', email_normalized: 'taken@example.com' }),
      account(2, 'existing', { imported_at: IMPORTED_AT }),
    ]);
    for (const onConflict of ['skip', 'update'] as const) {
      const actions = plan([user('newbie'), user('thief', { email: 'Taken@Example.com' })], twofold, onConflict);
      expect(summary(actions)).toEqual(['insert newbie', `skip thief (user thief): ${CONFLICT.emailTaken}`]);
      expect(summary(plan([user('existing', { email: 'taken@example.com' })], twofold, onConflict))).toEqual([
        `skip existing (user existing): ${CONFLICT.emailTaken}`,
      ]);
    }
    // The account's own address is no clash.
    expect(only(plan([user('owner', { email: 'taken@example.com', role: 'admin' })], twofold, 'update'))).toMatchObject(
      { kind: 'update', userId: 1 },
    );
  });

  it('--on-conflict skip: an account Twofold made is a clash, one an earlier import made is up to date', () => {
    const twofold = state([account(1, 'native'), account(2, 'imported', { imported_at: IMPORTED_AT })]);
    const actions = plan(
      [user('NATIVE', { role: 'admin' }), user('imported', { role: 'admin', totpSecret: SECRET })],
      twofold,
      'skip',
    );
    expect(summary(actions)).toEqual([`skip NATIVE (user NATIVE): ${CONFLICT.exists}`, 'unchanged imported']);
    expect(isConflict(CONFLICT.exists)).toBe(true);
  });

  it('--on-conflict update: overwrites what changed, keeps an address and hash the source lacks, reports the rest up to date', () => {
    const existing = account(1, 'alice', {
      email: 'a@example.com',
      email_normalized: 'a@example.com',
      email_verified: 1,
      password_hash: BCRYPT,
      role: 'user',
    });
    const twofold = state([existing]);
    expect(
      only(plan([user('alice', { email: 'a@example.com', emailVerified: true })], twofold, 'update')),
    ).toMatchObject({ kind: 'unchanged' });
    expect(only(plan([user('Alice', { role: 'admin' })], twofold, 'update'))).toEqual({
      kind: 'update',
      user: expect.objectContaining({ username: 'Alice' }),
      userId: 1,
      changes: {
        email: 'a@example.com',
        email_normalized: 'a@example.com',
        email_verified: 1,
        password_hash: BCRYPT,
        role: 'admin',
      },
      totp: false,
      emailFactor: false,
    });
    const changed = only(
      plan([user('alice', { email: 'new@example.com', passwordHash: null, role: 'user' })], twofold, 'update'),
    );
    expect(changed).toMatchObject({
      kind: 'update',
      changes: {
        email: 'new@example.com',
        email_normalized: 'new@example.com',
        email_verified: 0,
        password_hash: BCRYPT,
      },
    });
    // An admin in Twofold whom the source calls an ordinary user is demoted, as the source says.
    const admin = state([account(1, 'root', { role: 'admin' })]);
    expect(only(plan([user('root')], admin, 'update'))).toMatchObject({ kind: 'update', changes: { role: 'user' } });
  });

  it('keeps a password Twofold set or rehashed after an earlier import; a never-imported account takes the source hash', () => {
    const importedBefore = state([
      account(1, 'alice', { password_hash: ARGON2ID, imported_at: IMPORTED_AT }),
      account(2, 'bob', { imported_at: IMPORTED_AT }),
    ]);
    const actions = plan(
      [user('alice', { passwordHash: OTHER_BCRYPT }), user('bob', { passwordHash: OTHER_BCRYPT })],
      importedBefore,
      'update',
    );
    expect(summary(actions)).toEqual(['unchanged alice', 'update bob']);
    expect(actions[1]).toMatchObject({ changes: { password_hash: OTHER_BCRYPT } });
    const native = state([account(1, 'alice', { password_hash: ARGON2ID })]);
    expect(only(plan([user('alice', { passwordHash: OTHER_BCRYPT })], native, 'update'))).toMatchObject({
      kind: 'update',
      changes: { password_hash: OTHER_BCRYPT },
    });
  });

  it('replaces an authenticator only when the secret in the source differs and Twofold did not enrol a newer one', () => {
    const twofold = (totp: ExistingTotp | undefined, importedAt: number | null = IMPORTED_AT): UserState =>
      state([account(1, 'alice', { imported_at: importedAt })], { totp: new Map(totp ? [[1, totp]] : []) });
    const factor = (createdAt: number, secret: string | null): ExistingTotp => ({ createdAt, secret });
    const decide = (secret: string | null, s: UserState): UserAction =>
      only(plan([user('alice', { totpSecret: secret })], s, 'update'));
    expect(decide(SECRET, twofold(factor(IMPORTED_AT, SECRET)))).toMatchObject({ kind: 'unchanged' });
    expect(decide(SECRET, twofold(factor(IMPORTED_AT, OTHER_SECRET)))).toMatchObject({
      kind: 'update',
      changes: null,
      totp: true,
    });
    expect(decide(SECRET, twofold(undefined))).toMatchObject({ kind: 'update', changes: null, totp: true });
    // Enrolled in Twofold after the import: newer than the retiring app's secret, so it stays.
    expect(decide(SECRET, twofold(factor(IMPORTED_AT + 60_000, null)))).toMatchObject({ kind: 'unchanged' });
    // Never imported: a factor of any age is compared, and replaced when it differs.
    expect(decide(SECRET, twofold(factor(IMPORTED_AT + 60_000, OTHER_SECRET), null))).toMatchObject({
      kind: 'update',
      totp: true,
    });
    // No secret in the source: Twofold's authenticator is left alone.
    expect(decide(null, twofold(factor(IMPORTED_AT, OTHER_SECRET)))).toMatchObject({ kind: 'unchanged' });
    expect(enrolledInTwofold({ imported_at: IMPORTED_AT }, { createdAt: IMPORTED_AT })).toBe(false);
    expect(enrolledInTwofold({ imported_at: null }, { createdAt: IMPORTED_AT })).toBe(false);
    expect(enrolledInTwofold({ imported_at: IMPORTED_AT }, undefined)).toBe(false);
  });

  it('adds the email factor only to an account that lacks it', () => {
    const twofold = state(
      [account(1, 'eve', { imported_at: IMPORTED_AT }), account(2, 'fay', { imported_at: IMPORTED_AT })],
      { emailFactor: new Set([2]) },
    );
    const actions = plan([user('eve', { emailFactor: true }), user('fay', { emailFactor: true })], twofold, 'update');
    expect(actions).toMatchObject([
      { kind: 'update', userId: 1, changes: null, totp: false, emailFactor: true },
      { kind: 'unchanged' },
    ]);
  });

  it('is pure: the same input gives the same plan, and the state is not changed', () => {
    const twofold = state([account(1, 'alice', { imported_at: IMPORTED_AT })]);
    const frozen = JSON.stringify([...twofold.accounts]);
    const records = [user('alice', { role: 'admin' }), user('bob')];
    expect(plan(records, twofold, 'update')).toEqual(plan(records, twofold, 'update'));
    expect(JSON.stringify([...twofold.accounts])).toBe(frozen);
  });
});
