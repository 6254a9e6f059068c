import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  buildTestApp,
  login,
  register,
  signUp,
  uniqueName,
  type Session,
  type TestApp,
} from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { auditRows, enableTOTP, totpNow } from '../support/two-factor.js';

/**
 * DELETE /api/user/me: the account and what belongs to it go in one transaction, every session
 * ends at once, the audit trail stays without the person's data, and the name is free again.
 */

/** REAUTH_MAX_AGE's default: 300 s. */
const MAX_AGE_MS = 300_000;

const dialects = await testDialects();

describe.each(dialects)('deleting one’s own account on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const CLIENT = { 'user-agent': 'DeletionTest/1.0 (secret-agent)' };
  const remove = (session: Session, payload: unknown): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'DELETE',
      url: '/api/user/me',
      headers: { ...session.auth, ...CLIENT },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const me = (session: Session) => t.app.inject({ url: '/api/user/me', headers: session.auth });
  const refresh = (session: Session) =>
    t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: session.refreshToken } });
  const countOf = async (
    table: 'sessions' | 'totp_factors' | 'backup_codes' | 'login_lockouts' | 'account_tokens',
    userId: number,
  ) =>
    Number(
      (
        await db()
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('ends every session at once, deletes the account and its factors, keeps the trail without personal data', async () => {
    const email = `${uniqueName('del')}@example.com`;
    const username = uniqueName('del');
    expect((await register(t.app, username, PASSWORD, email)).statusCode).toBe(201);
    const first = await login(t.app, username);
    const { secret } = await enableTOTP(t, first);
    // A second device, and requests that put both sessions in the session cache as live.
    const other = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: CLIENT,
      payload: { username, password: PASSWORD, totp_code: totpNow(t, secret) },
    });
    expect(other.statusCode, other.body).toBe(200);
    const second: Session = {
      accessToken: other.json().access_token,
      refreshToken: other.json().refresh_token,
      userId: first.userId,
      auth: { authorization: `Bearer ${other.json().access_token}` },
    };
    for (const s of [first, second]) {
      expect((await me(s)).statusCode).toBe(200);
      expect((await t.app.inject({ url: '/api/products', headers: s.auth })).statusCode).toBe(200);
    }
    const product = await t.app.inject({
      method: 'POST',
      url: '/api/products',
      headers: second.auth,
      payload: { name: 'Kept after its maker', price: 1, quantity: 1 },
    });
    expect(product.statusCode).toBe(201);
    // Events whose detail names the person (an address proof's reference; an address change, as
    // written by a module that records one).
    await db()
      .insertInto('audit_events')
      .values({
        at: t.clock.now().getTime(),
        type: 'email_proof.issued',
        user_id: first.userId,
        ip: '192.0.2.7',
        user_agent: 'Mail/1',
        detail: JSON.stringify({
          address_ref: 'a1b2c3',
          account: true,
          from: 'old@example.com',
          to: email,
          who: username.toUpperCase(),
          by: 7,
        }),
      })
      .execute();
    const eventsBefore = await auditRows(t, first.userId);
    expect(eventsBefore.some((e) => e.ip !== null)).toBe(true);

    const deleted = await remove(second, { confirm: username });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(deleted.headers['cache-control']).toBe('no-store');

    // Both sessions, this device's and the other, are refused at once: access and refresh tokens.
    for (const s of [first, second]) {
      // Routes that read the account and one that does not (the session check alone refuses it).
      for (const url of ['/api/user/me', '/api/products', '/api/auth/sessions']) {
        const refused = await t.app.inject({ url, headers: s.auth });
        expect(refused.statusCode, url).toBe(401);
        expect(refused.json().error).toBe('unauthorized');
      }
      const refreshed = await refresh(s);
      expect(refreshed.statusCode).toBe(401);
      expect(refreshed.json().error).toBe('refresh_token_invalid');
    }
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password: PASSWORD },
    });
    expect(signIn.statusCode).toBe(401);

    // The account and everything of it is gone; its product stays, without a maker.
    expect(
      await db().selectFrom('users').select('id').where('id', '=', first.userId).executeTakeFirst(),
    ).toBeUndefined();
    for (const table of ['sessions', 'totp_factors', 'backup_codes', 'login_lockouts', 'account_tokens'] as const)
      expect(await countOf(table, first.userId), table).toBe(0);
    const kept = await db()
      .selectFrom('products')
      .select('created_by')
      .where('id', '=', product.json().id)
      .executeTakeFirstOrThrow();
    expect(kept.created_by).toBeNull();

    // The trail is kept: every event, none with an address, agent, name or email; then the deletion.
    const events = await auditRows(t, first.userId);
    expect(events.slice(0, -1).map((e) => e.type)).toEqual(eventsBefore.map((e) => e.type));
    for (const event of events) {
      expect(event.ip, event.type).toBeNull();
      expect(event.user_agent, event.type).toBeNull();
      expect(event.detail.toLowerCase()).not.toContain(username.toLowerCase());
      expect(event.detail.toLowerCase()).not.toContain(email.toLowerCase());
    }
    expect(events.find((e) => e.type === 'email_proof.issued')?.detail).toBe(JSON.stringify({ account: true, by: 7 }));
    expect(events.at(-1)).toEqual({
      type: 'account.deleted',
      user_id: first.userId,
      ip: null,
      user_agent: null,
      detail: JSON.stringify({ by: 'self' }),
    });

    // The name and the address are free again: a new, different account.
    const again = await register(t.app, username, PASSWORD, email);
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json().id).not.toBe(first.userId);
    expect(again.json().mfa_enabled).toBe(false);
  });

  it('needs the exact username as confirmation, and nothing else in the body', async () => {
    const owner = await signUp(t.app, uniqueName('Conf'));
    const refusals: Array<[unknown, string]> = [
      [{ confirm: owner.username.toLowerCase() }, 'confirm'],
      [{ confirm: `${owner.username} ` }, 'confirm'],
      [{ confirm: 'someone else' }, 'confirm'],
      [{}, 'confirm'],
      [{ confirm: owner.username, user_id: 1 }, 'user_id'],
      [{ confirm: owner.username, role: 'admin' }, 'role'],
    ];
    for (const [payload, field] of refusals) {
      const response = await remove(owner, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error).toBe('validation_failed');
      expect(Object.keys(response.json().fields)).toEqual([field]);
    }
    expect((await remove(owner, undefined)).statusCode).toBe(400);
    const huge = await remove(owner, { confirm: 'x'.repeat(70_000) });
    expect([400, 413]).toContain(huge.statusCode);
    expect((await me(owner)).statusCode).toBe(200);
  });

  it('asks for a recent sign-in (403 reauth_required), then works after POST /api/auth/reauth', async () => {
    const owner = await signUp(t.app, uniqueName('reauth'));
    t.clock.advance(MAX_AGE_MS + 1000);
    const stale = await remove(owner, { confirm: owner.username });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('reauth_required');
    expect((await me(owner)).statusCode).toBe(200);
    const reauth = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: owner.auth,
      payload: { password: PASSWORD },
    });
    expect(reauth.statusCode, reauth.body).toBe(200);
    const fresh = { ...owner, auth: { authorization: `Bearer ${reauth.json().access_token}` } };
    expect((await remove(fresh, { confirm: owner.username })).statusCode).toBe(204);
  });

  it('refuses without a token, and never touches another account', async () => {
    const bystander = await signUp(t.app, uniqueName('by'));
    const anonymous = await t.app.inject({
      method: 'DELETE',
      url: '/api/user/me',
      payload: { confirm: bystander.username },
    });
    expect(anonymous.statusCode).toBe(401);
    // Another person typing the bystander's name deletes nobody: the confirmation is one's own name.
    const owner = await signUp(t.app, uniqueName('own'));
    const wrong = await remove(owner, { confirm: bystander.username });
    expect(wrong.statusCode).toBe(400);
    expect((await me(bystander)).statusCode).toBe(200);
    expect((await me(owner)).statusCode).toBe(200);
  });

  it('refuses the last administrator (409 last_admin), and lets them go once another admin exists', async () => {
    const fresh = await buildTestApp({ dialect });
    try {
      const admin = await signUp(fresh.app, uniqueName('lastadmin'));
      await fresh.database.handle.db
        .updateTable('users')
        .set({ role: 'admin' })
        .where('id', '=', admin.userId)
        .execute();
      const refused = await fresh.app.inject({
        method: 'DELETE',
        url: '/api/user/me',
        headers: admin.auth,
        payload: { confirm: admin.username },
      });
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toEqual({ error: 'last_admin', message: expect.any(String) });
      expect((await fresh.app.inject({ url: '/api/user/me', headers: admin.auth })).statusCode).toBe(200);
      const events = await fresh.database.handle.db
        .selectFrom('audit_events')
        .select('type')
        .where('type', '=', 'account.deleted')
        .execute();
      expect(events).toEqual([]);

      const second = await signUp(fresh.app, uniqueName('nextadmin'));
      await fresh.database.handle.db
        .updateTable('users')
        .set({ role: 'admin' })
        .where('id', '=', second.userId)
        .execute();
      const allowed = await fresh.app.inject({
        method: 'DELETE',
        url: '/api/user/me',
        headers: admin.auth,
        payload: { confirm: admin.username },
      });
      expect(allowed.statusCode, allowed.body).toBe(204);
    } finally {
      await fresh.close();
    }
  });
});
