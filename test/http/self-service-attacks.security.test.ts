import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/server.js';
import { testDialects } from '../support/databases.js';
import {
  accountOn,
  buildPolicyApps,
  errorOf,
  sessionCount,
  setupTokenOf,
  type PolicyApps,
} from '../support/require-2fa.js';
import { nextStep, totpNow } from '../support/two-factor.js';

/**
 * The self-service endpoints (address change, export, deletion, several authenticator apps, the
 * REQUIRE_2FA set-up token) attacked together: each test here is a finding that was fixed, written
 * before its fix and seen to fail without it.
 */

const dialects = await testDialects();

type Auth = { authorization: string };
const call = (app: App, method: 'GET' | 'POST', url: string, headers: Auth, payload?: object) =>
  app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

describe.each(dialects)('set-up tokens against an account that has a factor by now on %s', (dialect) => {
  let p: PolicyApps;
  beforeAll(async () => {
    p = await buildPolicyApps(dialect);
  });
  afterAll(async () => p?.close());

  it('a set-up token issued before the owner set up a factor cannot add a second app and sign in past it', async () => {
    const user = await accountOn(p, 'user');
    // The attacker knows the password only, and signs in first: a set-up token, live 10 minutes.
    const stolen = await setupTokenOf(p.apps.all, user.username);
    // The owner signs in, sets up their authenticator app and is signed in with it.
    const owner = await setupTokenOf(p.apps.all, user.username);
    const { secret } = (await call(p.apps.all, 'POST', '/api/auth/2fa/setup', owner.auth)).json();
    const done = await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', owner.auth, {
      code: totpNow(p.t, secret),
    });
    expect(done.json().tokens).toBeDefined();
    nextStep(p.t);
    const sessions = await sessionCount(p, user.userId);

    // The account's sign-in now asks for that factor: the older set-up token is no way around it.
    expect(errorOf(await call(p.apps.all, 'GET', '/api/auth/2fa', stolen.auth))).toBe('401 unauthorized');
    const setup = await call(p.apps.all, 'POST', '/api/auth/2fa/setup', stolen.auth, { name: 'attacker' });
    expect(errorOf(setup)).toBe('401 unauthorized');
    const own = setup.statusCode === 200 ? (setup.json().secret as string) : secret;
    const added = await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', stolen.auth, {
      code: totpNow(p.t, own),
    });
    expect(errorOf(added)).toBe('401 unauthorized');
    expect(await sessionCount(p, user.userId)).toBe(sessions);
    const apps = await p.t.database.handle.db
      .selectFrom('totp_factors')
      .select('id')
      .where('user_id', '=', user.userId)
      .execute();
    expect(apps).toHaveLength(1);
    nextStep(p.t);
  });
});
