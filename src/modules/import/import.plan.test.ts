import { describe, expect, it } from 'vitest';
import { CONFLICT, isConflict, screenUsers, type Seen } from './import.plan.js';
import { NO_PASSWORD } from './import.records.js';

import {
  BCRYPT,
  PBKDF2,
  SCRYPT,
  ARGON2ID,
  SECRET,
  IMPORTED_AT,
  user,
  account,
  state,
  plan,
  summary,
  only,
} from './import.fixtures.js';

/** The planning step screening records on their own: records in, actions out. */
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
