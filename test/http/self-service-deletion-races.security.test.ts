import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256Hex } from '../../src/lib/crypto.js';
import { buildTestApp, login, PASSWORD, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { raceDeletion } from '../support/deletion.js';
import { addAuthenticator, bearer } from '../support/two-factor.js';

/**
 * Requests under way while their account is deleted (self-service-attacks.security.test.ts holds the
 * other self-service attacks): never a 500, nothing outlives the account, and the audit trail keeps
 * no IP address or browser of the person. Each was a finding, seen to fail before its fix.
 */

const dialects = await testDialects();

describe.each(dialects)('deleting an account while requests are under way on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  /** The account's owner signing in again with the right password. */
  const signIn = (user: { username: string }) => () =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password: PASSWORD } });

  it('never answers 500, and no token refreshed meanwhile outlives the account', { timeout: 120_000 }, async () => {
    const statuses = new Set<number>();
    // Each round races the deletion against a refresh on each of the account's devices: InnoDB picks
    // one of the two transactions as a deadlock victim now and then, which must be run again.
    for (let round = 0; round < 15; round++) {
      const user = await signUp(t.app, uniqueName('race'));
      const devices = [user, ...(await Promise.all([1, 2, 3].map(() => login(t.app, user.username))))];
      const [, ...refreshed] = await raceDeletion(
        t.app,
        user,
        devices.map(
          (device) => () =>
            t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: device.refreshToken } }),
        ),
      );
      for (const response of refreshed) {
        statuses.add(response.statusCode);
        expect([200, 401], response.body).toContain(response.statusCode);
        if (response.statusCode !== 200) continue;
        const tokens = response.json() as { access_token: string; refresh_token: string };
        expect((await t.app.inject({ url: '/api/user/me', headers: bearer(tokens.access_token) })).statusCode).toBe(
          401,
        );
        const again = await t.app.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          payload: { refresh_token: tokens.refresh_token },
        });
        expect(again.statusCode).toBe(401);
      }
    }
    expect(statuses.has(500)).toBe(false);
  });

  it(
    'a sign-in racing the deletion answers as for an unknown account (401), never 500, and opens no session',
    { timeout: 120_000 },
    async () => {
      for (let round = 0; round < 15; round++) {
        const user = await signUp(t.app, uniqueName('gone'));
        // Every other account has an authenticator app: its sign-in opens a challenge instead of a session.
        if (round % 2 === 1) await addAuthenticator(t, user);
        const [, ...signIns] = await raceDeletion(t.app, user, [signIn(user), signIn(user)]);
        for (const response of signIns) {
          if (response.statusCode === 200) {
            if (response.json().access_token === undefined) continue;
            // Signed in just before the deletion: the session went with the account.
            const me = await t.app.inject({ url: '/api/user/me', headers: bearer(response.json().access_token) });
            expect(me.statusCode).toBe(401);
            continue;
          }
          expect(`${response.statusCode} ${response.json().error}`, response.body).toMatch(
            /^(401 invalid_credentials|429 too_many_attempts)$/,
          );
        }
      }
    },
  );

  it(
    'password checks and a change link racing the deletion never answer 500 (deadlock victims run again)',
    { timeout: 120_000 },
    async () => {
      const failures: string[] = [];
      for (let round = 0; round < 12; round++) {
        const user = await signUp(t.app, uniqueName('lock'));
        const laptop = await login(t.app, user.username);
        await addAuthenticator(t, laptop);
        const password = { password: PASSWORD };
        // A change link waiting for its use (as if mailed): using it rewrites the same users row.
        const changeToken = randomToken(32);
        await t.database.handle.db
          .insertInto('email_changes')
          .values({
            user_id: user.userId,
            token_hash: sha256Hex(changeToken),
            new_email: `${user.username.toLowerCase()}@example.com`,
            created_at: t.clock.now().getTime(),
            expires_at: t.clock.now().getTime() + 3_600_000,
          })
          .execute();
        // Each of these counts an attempt on the account's lock columns (the users row the deletion removes).
        const responses = await raceDeletion(t.app, user, [
          signIn(user),
          () =>
            t.app.inject({
              method: 'POST',
              url: '/api/auth/2fa/backup-codes',
              headers: laptop.auth,
              payload: password,
            }),
          () => t.app.inject({ method: 'POST', url: '/api/auth/reauth', headers: laptop.auth, payload: password }),
          () =>
            t.app.inject({
              method: 'POST',
              url: '/api/auth/2fa/backup-codes',
              headers: laptop.auth,
              payload: password,
            }),
          signIn(user),
          () => t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token: changeToken } }),
          () => t.app.inject({ url: '/api/user/me/export', headers: laptop.auth }),
          () =>
            t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: laptop.auth, payload: { name: 'x' } }),
        ]);
        for (const response of responses) if (response.statusCode >= 500) failures.push(response.body);
      }
      expect(failures).toEqual([]);
    },
  );

  it(
    'events of requests still under way when the account went keep no IP address or browser of the person',
    { timeout: 120_000 },
    async () => {
      const deletedIds: number[] = [];
      for (let round = 0; round < 10; round++) {
        const user = await signUp(t.app, uniqueName('trail'));
        const laptop = await login(t.app, user.username);
        if (round % 2 === 1) await addAuthenticator(t, laptop);
        await raceDeletion(t.app, user, [
          signIn(user),
          signIn(user),
          () =>
            t.app.inject({
              method: 'POST',
              url: '/api/auth/reauth',
              headers: laptop.auth,
              payload: { password: PASSWORD },
            }),
        ]);
        deletedIds.push(user.userId);
      }
      // The deletion's erasure covers the events written before it; one written by a request that
      // passed its checks just before must not bring the person's IP address and browser back.
      const kept = await t.database.handle.db
        .selectFrom('audit_events')
        .select(['type', 'user_id', 'ip', 'user_agent'])
        .where('user_id', 'in', deletedIds)
        .where((eb) => eb.or([eb('ip', 'is not', null), eb('user_agent', 'is not', null)]))
        .execute();
      expect(kept).toEqual([]);
    },
  );
});
