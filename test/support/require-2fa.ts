import type { LightMyRequestResponse } from 'fastify';
import { createApp } from '../../src/app.js';
import type { Require2fa } from '../../src/config.js';
import type { Dialect } from '../../src/db/create-database.js';
import type { App } from '../../src/http/server.js';
import { buildTestApp, fastHasher, PASSWORD, signUp, uniqueName, type Session, type TestApp } from './app.js';
import type { Mailbox } from './mailbox.js';

/**
 * REQUIRE_2FA suites: one database, one app per policy over it (as after a restart with another
 * setting), so an account or a session made under one policy meets the others.
 */
export interface PolicyApps {
  t: TestApp;
  apps: Record<Require2fa, App>;
  close(): Promise<void>;
}

export async function buildPolicyApps(dialect: Dialect, env: Record<string, string> = {}): Promise<PolicyApps> {
  const t = await buildTestApp({ dialect, env: { ...env, REQUIRE_2FA: 'all' } });
  const others: App[] = [];
  async function withPolicy(require2fa: Require2fa): Promise<App> {
    const { app } = await createApp(
      { ...t.config, require2fa },
      { clock: t.clock, hasher: fastHasher, database: t.database.handle, migrate: false },
    );
    await app.ready();
    others.push(app);
    return app;
  }
  const apps = { all: t.app, admin: await withPolicy('admin'), off: await withPolicy('off') };
  return {
    t,
    apps,
    close: async () => {
      for (const app of others) await app.close();
      await t.close();
    },
  };
}

export function passwordLoginOn(app: App, username: string, extra: object = {}, url = '/api/auth/login') {
  return app.inject({ method: 'POST', url, payload: { username, password: PASSWORD, ...extra } });
}

/** A password login the policy answers with a set-up token: the token, and the whole answer. */
export async function setupTokenOf(
  app: App,
  username: string,
): Promise<{ setupToken: string; auth: { authorization: string }; body: Record<string, unknown> }> {
  const response = await passwordLoginOn(app, username);
  const body = response.json() as Record<string, unknown>;
  if (response.statusCode !== 200 || body.mfa_setup_required !== true)
    throw new Error(`expected mfa_setup_required: ${response.body}`);
  const setupToken = body.setup_token as string;
  return { setupToken, auth: { authorization: `Bearer ${setupToken}` }, body };
}

/** A JWT's payload, read without checking it (the server checks; the test only looks). */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A fresh account (signed up under REQUIRE_2FA=off, which gives it a password-only session), optionally an admin. */
export async function accountOn(
  p: PolicyApps,
  role: 'user' | 'admin' = 'user',
): Promise<Session & { username: string }> {
  const created = await signUp(p.apps.off, uniqueName(role));
  if (role === 'admin')
    await p.t.database.handle.db.updateTable('users').set({ role }).where('id', '=', created.userId).execute();
  return created;
}

/** What the policy apps need to mail email codes to the suite's mailbox. */
export function mailEnv(mailbox: Mailbox): Record<string, string> {
  return { SMTP_URL: mailbox.url, MAIL_FROM: 'Twofold <no-reply@twofold.test>' };
}

/** `accountOn`, with a verified address (`<username>@example.test`) to receive email codes at. */
export async function accountWithAddressOn(
  p: PolicyApps,
  role: 'user' | 'admin' = 'user',
): Promise<Session & { username: string; email: string }> {
  const account = await accountOn(p, role);
  const email = `${account.username}@example.test`;
  await p.t.database.handle.db
    .updateTable('users')
    .set({ email, email_verified: 1 })
    .where('id', '=', account.userId)
    .execute();
  return { ...account, email };
}

export async function sessionCount(p: PolicyApps, userId: number): Promise<number> {
  const rows = await p.t.database.handle.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
  return rows.length;
}

export function errorOf(response: LightMyRequestResponse): string {
  return `${response.statusCode} ${(response.json() as { error?: string }).error ?? ''}`.trim();
}
