import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { TEST_SECRETS, UNLIMITED, buildTestApp, fastHasher, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { passkeySecondStep, secondStepChallenge } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator } from '../support/passkeys.js';
import { bearer, challenge, claimsOf, passwordLogin } from '../support/two-factor.js';

const dialects = await testDialects();

/** A passkey counts as the second factor REQUIRE_2FA and the administration ask for. */
describe.each(dialects)('a passkey as the required second factor on %s', (dialect) => {
  // The accounts are made without the policy (a new account under REQUIRE_2FA=all must set up a code
  // first); `t` then serves the same database with REQUIRE_2FA=all, as after turning the policy on.
  let setup: TestApp;
  let t: TestApp;
  beforeAll(async () => {
    setup = await buildTestApp({ dialect, env: PASSKEY_ENV });
    const config = loadConfig({
      NODE_ENV: 'test',
      ...TEST_SECRETS,
      ...UNLIMITED,
      DATABASE_URL: setup.database.url,
      ...PASSKEY_ENV,
      REQUIRE_2FA: 'all',
    });
    const { app } = await createApp(config, {
      clock: setup.clock,
      hasher: fastHasher,
      database: setup.database.handle,
    });
    await app.ready();
    t = { ...setup, app, config, close: () => app.close() };
  });
  afterAll(async () => {
    await t?.close();
    await setup?.close();
  });

  /** An account whose only factor is a passkey (added while REQUIRE_2FA lets a new account set one up). */
  async function passkeyOnly(role: 'user' | 'admin'): Promise<{
    username: string;
    authenticator: ReturnType<typeof newAuthenticator>;
  }> {
    const session = await signUp(setup.app);
    const authenticator = newAuthenticator();
    await addPasskey(setup, session, authenticator);
    await t.database.handle.db.updateTable('users').set({ role }).where('id', '=', session.userId).execute();
    return { username: session.username, authenticator };
  }

  async function passwordThenPasskey(username: string, authenticator: ReturnType<typeof newAuthenticator>) {
    const mfaToken = await challenge(t, username);
    const done = await passkeySecondStep(t, mfaToken, authenticator.assert(await secondStepChallenge(t, mfaToken)));
    expect(done.statusCode).toBe(200);
    return done.json() as { access_token: string };
  }

  it('REQUIRE_2FA=all: a passkey-only account is challenged (not sent to set-up), and its session is whole', async () => {
    const { username, authenticator } = await passkeyOnly('user');
    const first = await passwordLogin(t, username);
    expect(first.json()).toMatchObject({ mfa_required: true, mfa_methods: ['passkey'] });
    expect(first.json().mfa_setup_required).toBeUndefined();
    const tokens = await passwordThenPasskey(username, authenticator);
    expect((await claimsOf(t, tokens.access_token)).amr).toEqual(['pwd', 'hwk']);
    const me = await t.app.inject({ method: 'GET', url: '/api/user/me', headers: bearer(tokens.access_token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ mfa_enabled: true, mfa_methods: ['passkey'] });
  });

  it('an administrator whose only factor is a passkey uses the admin API after password + passkey', async () => {
    const { username, authenticator } = await passkeyOnly('admin');
    const tokens = await passwordThenPasskey(username, authenticator);
    const users = await t.app.inject({ method: 'GET', url: '/api/admin/users', headers: bearer(tokens.access_token) });
    expect(users.statusCode).toBe(200);
  });
});
