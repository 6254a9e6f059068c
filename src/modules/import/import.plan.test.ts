import { describe, expect, it } from 'vitest';
import type { SourceProduct, SourceRecord, SourceUser } from './import-source.js';
import type { ExistingProduct, ExistingUser } from './import.repository.js';
import {
  CONFLICT,
  enrolledInTwofold,
  isConflict,
  planProducts,
  planUsers,
  screenProducts,
  screenUsers,
  type ConflictPolicy,
  type ExistingTotp,
  type Seen,
  type UserAction,
  type UserState,
} from './import.plan.js';
import { NO_PASSWORD } from './import.records.js';

/**
 * The planning step on its own: records and Twofold's state in, actions out. No database, no
 * clock, no keys; the state is written here as the importer's reads would return it.
 */

const BCRYPT = `$2b$04$${'a'.repeat(53)}`;
const OTHER_BCRYPT = `$2b$04$${'b'.repeat(53)}`;
const PBKDF2 = 'pbkdf2:sha256:600000$salt$' + 'ab'.repeat(32);
const SCRYPT = 'scrypt:32768:8:1$salt$' + 'cd'.repeat(64);
const ARGON2ID = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const OTHER_SECRET = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';
const IMPORTED_AT = 1_700_000_000_000;

function user(username: string, extra: Partial<SourceUser> = {}): SourceUser {
  return {
    ref: `user ${username}`,
    username,
    email: null,
    passwordHash: BCRYPT,
    totpSecret: null,
    role: null,
    emailVerified: false,
    createdAt: null,
    emailFactor: false,
    mfaWithoutSecret: false,
    ...extra,
  };
}

function account(id: number, username: string, extra: Partial<ExistingUser> = {}): ExistingUser {
  return {
    id,
    username_normalized: username.toLowerCase(),
    email: null,
    email_normalized: null,
    email_verified: 0,
    password_hash: BCRYPT,
    role: 'user',
    imported_at: null,
    ...extra,
  };
}

const NOTHING_SEEN: Seen = { usernames: new Set(), emails: new Set() };

function state(accounts: ExistingUser[], extra: Partial<Omit<UserState, 'accounts'>> = {}): UserState {
  const emailOwners = new Map(
    accounts.flatMap((a) => (a.email_normalized === null ? [] : [[a.email_normalized, a.id] as const])),
  );
  return {
    accounts: new Map(accounts.map((a) => [a.username_normalized, a])),
    emailOwners,
    totp: new Map(),
    emailFactor: new Set(),
    ...extra,
  };
}

/** Screen then plan, as the importer does for one batch. */
function plan(
  records: Array<SourceRecord<SourceUser>>,
  twofold: UserState = state([]),
  onConflict: ConflictPolicy = 'skip',
  seen: Seen = NOTHING_SEEN,
): UserAction[] {
  return planUsers(screenUsers(records, seen), twofold, onConflict);
}

function summary(actions: UserAction[]): string[] {
  return actions.map((a) => (a.kind === 'skip' ? `skip ${a.example}: ${a.reason}` : `${a.kind} ${a.user.username}`));
}

function only(actions: UserAction[]): UserAction {
  expect(actions).toHaveLength(1);
  return actions[0] as UserAction;
}

describe('import plan: screening records', () => {
  it('accepts the password hash formats Twofold verifies and skips any other, naming the record', () => {
    const records = [
      PBKDF2,
      SCRYPT,
      BCRYPT,
      ARGON2ID,
      '5f4dcc3b5aa765d61d8327deb882cf99',
      'hunter2',
      '$1$salt$abc',
      '$2b$03$' + 'a'.repeat(53),
      'sha256$salt$abc',
    ].map((hash, i) => user(`u${i}`, { passwordHash: hash }));
    const actions = plan(records);
    const bad = 'unrecognised password hash format (Twofold reads Werkzeug pbkdf2/scrypt, bcrypt and argon2)';
    expect(actions.filter((a) => a.kind === 'skip')).toEqual(
      ['u4', 'u5', 'u6', 'u7', 'u8'].map((name) => ({ kind: 'skip', reason: bad, example: `${name} (user ${name})` })),
    );
    expect(actions.flatMap((a) => (a.kind === 'insert' ? [a.user.passwordHash] : []))).toEqual([
      PBKDF2,
      SCRYPT,
      BCRYPT,
      ARGON2ID,
    ]);
  });

  it('a user without a hash is imported only with an address to reset it with', () => {
    const actions = plan([
      user('nohash', { passwordHash: '  ' }),
      user('judy', { passwordHash: null, email: 'judy@example.com' }),
    ]);
    expect(summary(actions)).toEqual([
      'skip nohash (user nohash): no password hash and no email address to reset it with',
      'insert judy',
    ]);
    expect((actions[1] as { user: { passwordHash: string } }).user.passwordHash).toBe(NO_PASSWORD);
  });

  it('skips what the source could not read and what Twofold could not use, before anything else', () => {
    const actions = plan([
      { ref: 'line 3', problem: 'not valid JSON' },
      user(''),
      user('x'.repeat(51)),
      user('tab\there'),
      user('grace@example.com'),
      user('bademail', { email: 'not-an-address' }),
      user('heidi', { mfaWithoutSecret: true }),
      user('erin', { totpSecret: 'not*base32' }),
      user('frank', { totpSecret: 'JBSWY3DP' }),
      user('ok', { totpSecret: 'jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp==' }),
    ]);
    expect(actions.map((a) => (a.kind === 'skip' ? a.reason : a.kind))).toEqual([
      'not valid JSON',
      'username is empty',
      'username is longer than 50 characters',
      'username contains control characters',
      'username contains @ (sign-in would read it as an email address)',
      'email address is not valid',
      '2FA is on in the source but it holds no TOTP secret to carry (importing would drop the second factor)',
      'TOTP secret is not base32',
      'TOTP secret is shorter than 80 bits',
      'insert',
    ]);
    expect((actions[9] as { user: { totpSecret: string } }).user.totpSecret).toBe(SECRET);
    expect(actions.slice(0, 9).every((a) => a.kind === 'skip' && !isConflict(a.reason))).toBe(true);
  });

  it('skips a username or address that appears earlier in the batch or in an earlier batch; the first one wins', () => {
    const seen: Seen = { usernames: new Set(['olduser']), emails: new Set(['old@example.com']) };
    const screened = screenUsers(
      [
        user('alice', { email: 'Alice@Example.com' }),
        user('ALICE'),
        user('dave', { email: 'alice@example.COM' }),
        user('OldUser'),
        user('bob', { email: 'OLD@example.com' }),
        user('carol', { email: 'carol@example.com' }),
      ],
      seen,
    );
    expect(screened.skips.map((s) => [s.example, s.reason])).toEqual([
      ['ALICE (user ALICE)', CONFLICT.duplicateUsername],
      ['dave (user dave)', CONFLICT.duplicateEmail],
      ['OldUser (user OldUser)', CONFLICT.duplicateUsername],
      ['bob (user bob)', CONFLICT.duplicateEmail],
    ]);
    expect(screened.accepted.map((u) => u.normalized)).toEqual(['alice', 'carol']);
    // What the next batch must treat as taken; the caller's sets are left as they were.
    expect(screened.usernames).toEqual(['alice', 'dave', 'bob', 'carol']);
    expect(screened.emails).toEqual(['alice@example.com', 'carol@example.com']);
    expect([...seen.usernames, ...seen.emails]).toEqual(['olduser', 'old@example.com']);
    expect(screened.skips.every((s) => isConflict(s.reason))).toBe(true);
  });

  it('maps roles without ever escalating: only the admin role of the source makes an administrator', () => {
    const roles = [
      null,
      '',
      'user',
      'admin',
      ' ADMIN ',
      'Admin',
      'superuser',
      'administrator',
      'root',
      'owner',
      'staff',
      'admins',
    ];
    const actions = plan(roles.map((role, i) => user(`r${i}`, { role })));
    expect(actions.map((a) => (a.kind === 'insert' ? [a.user.role, a.user.mappedFrom] : a.kind))).toEqual([
      ['user', null],
      ['user', null],
      ['user', null],
      ['admin', null],
      ['admin', null],
      ['admin', null],
      ['user', 'superuser'],
      ['user', 'administrator'],
      ['user', 'root'],
      ['user', 'owner'],
      ['user', 'staff'],
      ['user', 'admins'],
    ]);
    // An update takes the source's role as mapped: an unknown role demotes nothing to admin.
    const twofold = state([account(1, 'boss', { role: 'user', imported_at: IMPORTED_AT })]);
    const update = only(plan([user('boss', { role: 'superadmin' })], twofold, 'update'));
    expect(update).toMatchObject({ kind: 'unchanged' });
  });

  it('carries the creation time when the source has one, and leaves it to the import otherwise', () => {
    const actions = plan([user('a', { createdAt: '2024-01-02 03:04:05' }), user('b', { createdAt: 'yesterday' })]);
    expect(actions.map((a) => (a.kind === 'insert' ? a.user.createdAtMs : null))).toEqual([
      Date.UTC(2024, 0, 2, 3, 4, 5),
      null,
    ]);
  });
});

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

describe('import plan: products', () => {
  const product = (id: number, price: unknown, extra: Partial<SourceProduct> = {}): SourceProduct => ({
    ref: `product id ${id}`,
    legacyId: `product:${id}`,
    name: `Product ${id}`,
    description: null,
    price,
    quantity: 1,
    ...extra,
  });
  const existing = (id: number, extra: Partial<ExistingProduct> = {}): ExistingProduct => ({
    id,
    legacy_id: `product:${id}`,
    name: `Product ${id}`,
    description: '',
    price_cents: 100,
    quantity: 1,
    ...extra,
  });

  it('reads prices to exact cents and skips any that are not an amount with at most two decimals', () => {
    const prices: unknown[] = [
      '19.99',
      19.99,
      0.1,
      '5',
      '3.100',
      '0.50',
      '99999999.99',
      '1.005',
      -1,
      '-1.00',
      '1e3',
      '100000000.00',
      null,
      'abc',
      Number.NaN,
    ];
    const screened = screenProducts(prices.map((price, i) => product(i, price)));
    expect([...screened.accepted.values()].map((p) => p.priceCents)).toEqual([
      1999, 1999, 10, 500, 310, 50, 9_999_999_999,
    ]);
    const reason = 'price is not an amount from 0 to 99999999.99 with at most two decimals';
    expect(screened.skips).toEqual(
      [7, 8, 9, 10, 11, 12, 13, 14].map((i) => ({ kind: 'skip', reason, example: `product id ${i}` })),
    );
  });

  it('checks name, description and quantity; a later record with the same original id replaces an earlier one', () => {
    const screened = screenProducts([
      { ref: 'line 9', problem: 'not valid JSON' },
      product(1, '1', { name: '  ' }),
      product(2, '1', { description: 'd'.repeat(256) }),
      product(3, '1', { quantity: -2 }),
      product(4, '1', { quantity: '12' }),
      product(5, '1', { quantity: 7n }),
      product(4, '2', { name: 'Again' }),
    ]);
    expect(screened.skips.map((s) => s.reason)).toEqual([
      'not valid JSON',
      'name is empty or longer than 100 characters',
      'description is longer than 255 characters',
      'quantity is not a whole number from 0 to 2147483647',
    ]);
    expect([...screened.accepted.values()].map((p) => [p.legacyId, p.name, p.priceCents, p.quantity])).toEqual([
      ['product:4', 'Again', 200, 1],
      ['product:5', 'Product 5', 100, 7],
    ]);
  });

  it('inserts new products; one matched by its original id is updated only with --on-conflict update and only when it differs', () => {
    const screened = screenProducts([
      product(1, '1.00'),
      product(2, '1.00'),
      product(3, '2.50'),
      { ref: 'line 4', problem: 'bad' },
    ]);
    const twofold = new Map([existing(2), existing(3)].map((p) => [p.legacy_id as string, p]));
    expect(planProducts(screened, twofold, 'skip').map((a) => a.kind)).toEqual([
      'skip',
      'insert',
      'unchanged',
      'unchanged',
    ]);
    expect(planProducts(screened, twofold, 'update')).toMatchObject([
      { kind: 'skip' },
      { kind: 'insert' },
      { kind: 'unchanged' },
      { kind: 'update', productId: 3, product: { priceCents: 250 } },
    ]);
  });
});
