import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/server.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import {
  accountOn,
  accountWithAddressOn,
  buildPolicyApps,
  errorOf,
  mailEnv,
  payloadOf,
  sessionCount,
  setupTokenOf,
  type PolicyApps,
} from '../support/require-2fa.js';
import { nextStep, totpNow } from '../support/two-factor.js';

/**
 * The set-up token REQUIRE_2FA answers with, attacked: where it is refused, that it is not a session
 * (not refreshable, no introspection as a sign-in), that it completes a sign-in exactly once (replays,
 * races between two instances), and that sessions from before the policy are held to it.
 */

const dialects = await testDialects();

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => mailbox?.close());

type Auth = { authorization: string };
const call = (app: App, method: 'GET' | 'POST', url: string, headers: Auth, payload?: object) =>
  app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

/** Routes a caller who must still set up a factor may not use, with a body each would accept. */
const CLOSED: Array<[method: 'GET' | 'POST', url: string, payload?: object]> = [
  ['GET', '/api/products'],
  ['POST', '/api/products', { name: 'x', price: 1 }],
  ['GET', '/products'],
  ['GET', '/api/protected'],
  ['GET', '/api/admin/users'],
  ['GET', '/api/auth/sessions'],
  ['POST', '/api/auth/password/change', { current_password: 'x', new_password: 'y' }],
  ['POST', '/api/auth/logout-all', {}],
  ['POST', '/api/auth/2fa/backup-codes', { password: 'x' }],
  ['POST', '/api/auth/2fa/disable', { password: 'x', code: '123456' }],
];

describe.each(dialects)('the set-up token on %s', (dialect) => {
  let p: PolicyApps;
  beforeAll(async () => {
    p = await buildPolicyApps(dialect, mailEnv(mailbox));
  });
  afterAll(async () => p?.close());

  it('is refused with 403 mfa_setup_required everywhere but the set-up routes, /api/user/me and GET /api/auth/2fa', async () => {
    const admin = await accountOn(p, 'admin');
    const { auth } = await setupTokenOf(p.apps.admin, admin.username);
    for (const [method, url, payload] of CLOSED) {
      const response = await call(p.apps.admin, method, url, auth, payload);
      expect(`${method} ${url}: ${errorOf(response)}`).toBe(`${method} ${url}: 403 mfa_setup_required`);
    }
    // Re-authentication turns a session into a two-factor one: a set-up token has no session to turn.
    expect(errorOf(await call(p.apps.admin, 'POST', '/api/auth/reauth', auth, { password: 'x' }))).toBe(
      '403 mfa_setup_required',
    );
    expect((await call(p.apps.admin, 'GET', '/api/user/me', auth)).statusCode).toBe(200);
    expect((await call(p.apps.admin, 'GET', '/api/auth/2fa', auth)).statusCode).toBe(200);
    expect((await call(p.apps.admin, 'POST', '/api/auth/2fa/setup', auth)).statusCode).toBe(200);
  });

  it('is no refresh token, and introspection does not call it a sign-in', async () => {
    const user = await accountOn(p, 'user');
    const { setupToken } = await setupTokenOf(p.apps.all, user.username);
    const refreshed = await p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: setupToken },
    });
    expect(errorOf(refreshed)).toBe('401 refresh_token_invalid');
    const verified = await p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/token/verify',
      payload: { token: setupToken },
    });
    expect(verified.json()).toEqual({ valid: false, reason: 'mfa_setup_required' });
  });

  it('its id (the jti) is no mfa_token for the second login step', async () => {
    const user = await accountOn(p, 'user');
    const { setupToken } = await setupTokenOf(p.apps.all, user.username);
    const response = await p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: { mfa_token: payloadOf(setupToken).jti, code: '123456' },
    });
    expect(errorOf(response)).toBe('401 mfa_token_invalid');
  });

  it('expires after 10 minutes', async () => {
    const user = await accountOn(p, 'user');
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    p.t.clock.advance(601_000);
    expect(errorOf(await call(p.apps.all, 'GET', '/api/auth/2fa', auth))).toBe('401 unauthorized');
  });

  it('completes a sign-in once: a replayed verify-setup, or email set-up after it, mints no second session', async () => {
    const user = await accountWithAddressOn(p, 'user');
    const { email } = user;
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    const { secret } = (await call(p.apps.all, 'POST', '/api/auth/2fa/setup', auth)).json();
    expect((await call(p.apps.all, 'POST', '/api/auth/2fa/email/enable', auth)).statusCode).toBe(202);
    const before = await sessionCount(p, user.userId);
    const code = totpNow(p.t, secret);
    const first = await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', auth, { code });
    expect(first.json().tokens).toBeDefined();
    // The same request again, and the other factor's set-up: the token's grant is spent.
    expect(errorOf(await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', auth, { code }))).toBe(
      '401 unauthorized',
    );
    const emailCode = mailbox.latestCode(email);
    expect(errorOf(await call(p.apps.all, 'POST', '/api/auth/2fa/email/verify-setup', auth, { code: emailCode }))).toBe(
      '401 unauthorized',
    );
    expect(errorOf(await call(p.apps.all, 'GET', '/api/user/me', auth))).toBe('401 unauthorized');
    expect(await sessionCount(p, user.userId)).toBe(before + 1);
    nextStep(p.t);
  });

  it('two instances racing to complete one set-up token (TOTP and email at once) open exactly one session', async () => {
    const user = await accountWithAddressOn(p, 'user');
    const { email } = user;
    // The admin-policy app is a second instance on the same database; the set-up token is valid on both.
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    const { secret } = (await call(p.apps.all, 'POST', '/api/auth/2fa/setup', auth)).json();
    await call(p.apps.all, 'POST', '/api/auth/2fa/email/enable', auth);
    const before = await sessionCount(p, user.userId);
    const code = totpNow(p.t, secret);
    const responses: LightMyRequestResponse[] = await Promise.all([
      call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', auth, { code }),
      call(p.apps.admin, 'POST', '/api/auth/2fa/verify-setup', auth, { code }),
      call(p.apps.admin, 'POST', '/api/auth/2fa/email/verify-setup', auth, { code: mailbox.latestCode(email) }),
    ]);
    const withTokens = responses.filter((r) => r.statusCode === 200 && r.json().tokens !== undefined);
    expect(withTokens).toHaveLength(1);
    expect(await sessionCount(p, user.userId)).toBe(before + 1);
    nextStep(p.t);
  });

  it('a set-up that passed the token check before another completed the grant adds its factor, but signs no one in', async () => {
    const user = await accountWithAddressOn(p, 'user');
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    const { secret } = (await call(p.apps.all, 'POST', '/api/auth/2fa/setup', auth)).json();
    expect((await call(p.apps.all, 'POST', '/api/auth/2fa/email/enable', auth)).statusCode).toBe(202);
    const emailCode = mailbox.latestCode(user.email);
    const before = await sessionCount(p, user.userId);
    // The email set-up's body is held back. Fastify reads a body only after the onRequest hooks, so
    // once it asks for the first byte, this request has passed the set-up token's check.
    let reading!: () => void;
    const bodyRead = new Promise<void>((resolve) => (reading = resolve));
    const heldBody = new Readable({ read: () => reading() });
    const late = p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: heldBody,
    });
    await bodyRead;
    const first = await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', auth, { code: totpNow(p.t, secret) });
    expect(first.json().tokens).toBeDefined();
    heldBody.push(JSON.stringify({ code: emailCode }));
    heldBody.push(null);
    const second = await late;
    // Its code was right, so the email factor is on; the grant was spent, so no second sign-in (and
    // the backup codes were issued by the first set-up).
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ enabled: true });
    expect(await sessionCount(p, user.userId)).toBe(before + 1);
    const me = await call(p.apps.all, 'GET', '/api/user/me', {
      authorization: `Bearer ${first.json().tokens.access_token}`,
    });
    expect(me.json()).toMatchObject({ mfa_methods: ['totp', 'email'] });
    nextStep(p.t);
  });

  it('dies with an administrator’s 2FA reset of the account', async () => {
    const user = await accountOn(p, 'user');
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    // An administrator of a server without the policy (a password-only admin session is enough there).
    const admin = await accountOn(p, 'admin');
    const reset = await call(p.apps.off, 'POST', `/api/admin/users/${user.userId}/2fa/reset`, admin.auth);
    expect(reset.statusCode).toBe(200);
    expect(errorOf(await call(p.apps.all, 'GET', '/api/auth/2fa', auth))).toBe('401 unauthorized');
  });
});

describe.each(dialects)('sessions from before REQUIRE_2FA on %s', (dialect) => {
  let p: PolicyApps;
  beforeAll(async () => {
    p = await buildPolicyApps(dialect);
  });
  afterAll(async () => p?.close());

  it('admin and all: an admin’s password-only access token is refused on the admin API', async () => {
    const admin = await accountOn(p, 'admin');
    expect((await call(p.apps.off, 'GET', '/api/admin/users', admin.auth)).statusCode).toBe(200);
    for (const app of [p.apps.admin, p.apps.all])
      expect(errorOf(await call(app, 'GET', '/api/admin/users', admin.auth))).toBe('403 mfa_setup_required');
    // `admin` guards the administration only; `all` every route but the set-up ones.
    expect((await call(p.apps.admin, 'GET', '/api/products', admin.auth)).statusCode).toBe(200);
    expect(errorOf(await call(p.apps.all, 'GET', '/api/products', admin.auth))).toBe('403 mfa_setup_required');
  });

  it('a refreshed token keeps its amr, so it stays refused', async () => {
    const admin = await accountOn(p, 'admin');
    const refreshed = await p.apps.admin.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: admin.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    const auth = { authorization: `Bearer ${refreshed.json().access_token}` };
    expect(errorOf(await call(p.apps.admin, 'GET', '/api/admin/users', auth))).toBe('403 mfa_setup_required');
  });

  it('all: a user’s password-only session may set up a factor, re-authenticate with it, and then go on', async () => {
    const user = await accountOn(p, 'user');
    for (const [method, url, payload] of CLOSED) {
      const response = await call(p.apps.all, method, url, user.auth, payload);
      expect(`${method} ${url}: ${errorOf(response)}`).toBe(`${method} ${url}: 403 mfa_setup_required`);
    }
    const { secret } = (await call(p.apps.all, 'POST', '/api/auth/2fa/setup', user.auth)).json();
    const verified = await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', user.auth, {
      code: totpNow(p.t, secret),
    });
    // A session is no set-up token: no new sign-in in the answer.
    expect(Object.keys(verified.json()).sort()).toEqual(['backup_codes', 'enabled']);
    nextStep(p.t);
    const reauth = await call(p.apps.all, 'POST', '/api/auth/reauth', user.auth, {
      password: 'correct horse battery staple',
      code: totpNow(p.t, secret),
    });
    expect(reauth.statusCode).toBe(200);
    const auth = { authorization: `Bearer ${reauth.json().access_token}` };
    expect((await call(p.apps.all, 'GET', '/api/products', auth)).statusCode).toBe(200);
    nextStep(p.t);
  });
});
