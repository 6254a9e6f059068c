import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { passkeySecondStep, secondStepChallenge } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator, passkeySignIn } from '../support/passkeys.js';
import { auditRows, bearer, challenge, enableTOTP, passwordLogin, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

type FactorTable = 'totp_factors' | 'backup_codes' | 'passkeys' | 'webauthn_challenges' | 'mfa_flows';

/** How many rows of `table` a user has. */
async function rowsOf(t: TestApp, table: FactorTable, userId: number): Promise<number> {
  const row = await t.database.handle.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The administration sees each user's passkeys, and its reset of the second factors removes them. */
describe.each(dialects)('passkeys in the administration on %s', (dialect) => {
  let t: TestApp;
  let adminAuth: { authorization: string };
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
    // An administrator whose only factor is a passkey, signed in with password + passkey.
    const admin = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, admin, key);
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
    const mfaToken = await challenge(t, admin.username);
    const done = await passkeySecondStep(t, mfaToken, key.assert(await secondStepChallenge(t, mfaToken)));
    adminAuth = bearer(done.json().access_token);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the user list shows how many passkeys each user has', async () => {
    const session = await signUp(t.app);
    await addPasskey(t, session, newAuthenticator());
    await addPasskey(t, session, newAuthenticator());
    const plain = await signUp(t.app);
    const list = await t.app.inject({ method: 'GET', url: '/api/admin/users?limit=100', headers: adminAuth });
    expect(list.statusCode).toBe(200);
    const byId = new Map((list.json().items as Array<{ id: number; passkeys: number }>).map((u) => [u.id, u]));
    expect(byId.get(session.userId)).toMatchObject({ passkeys: 2, mfa_methods: ['passkey'] });
    expect(byId.get(plain.userId)).toMatchObject({ passkeys: 0, mfa_methods: [] });
  });

  it("reset two-factor removes the user's passkeys: no challenge after the password, no passkey sign-in", async () => {
    const session = await signUp(t.app);
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);
    const reset = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${session.userId}/2fa/reset`,
      headers: adminAuth,
    });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
    expect((await passwordLogin(t, session.username)).json()).toHaveProperty('access_token');
    expect((await passkeySignIn(t, authenticator)).statusCode).toBe(401);
    const audit = (await auditRows(t, session.userId)).filter((r) => r.type === 'mfa.reset');
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ passkeys_removed: 1 });
  });

  it('reset removes every factor at once: apps, backup codes, passkeys and the ceremonies in flight', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    const { secret } = await enableTOTP(t, session);
    // A second step under way, with its passkey options issued.
    const mfaToken = await challenge(t, session.username);
    const options = await secondStepChallenge(t, mfaToken);
    const reset = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${session.userId}/2fa/reset`,
      headers: adminAuth,
    });
    expect(reset.json()).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
    const left = (table: FactorTable) => rowsOf(t, table, session.userId);
    for (const table of ['totp_factors', 'backup_codes', 'passkeys', 'webauthn_challenges', 'mfa_flows'] as const)
      expect([table, await left(table)]).toEqual([table, 0]);
    // Nothing of before signs in: not the flow under way, not the passkey, not the app's code.
    expect((await passkeySecondStep(t, mfaToken, key.assert(options))).statusCode).toBe(401);
    expect((await passkeySignIn(t, key)).statusCode).toBe(401);
    const signedIn = await passwordLogin(t, session.username, { totp_code: totpNow(t, secret) });
    expect(signedIn.json().user).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
  });

  it('reset is all or nothing: when removing the passkeys fails, the apps and backup codes are all still there', async () => {
    const session = await signUp(t.app);
    await addPasskey(t, session, newAuthenticator());
    await enableTOTP(t, session);
    const db = t.database.handle.db;
    const count = (table: FactorTable) => rowsOf(t, table, session.userId);
    const before = { apps: await count('totp_factors'), codes: await count('backup_codes') };
    expect(before.apps).toBe(1);
    expect(before.codes).toBeGreaterThan(0);
    // The database refuses to delete this user's passkeys: the reset's last statement fails.
    const name = `keep_passkeys_${session.userId}`;
    const id = session.userId;
    const refuse = {
      sqlite: [
        sql.raw(
          `CREATE TRIGGER ${name} BEFORE DELETE ON passkeys WHEN OLD.user_id = ${id} BEGIN SELECT RAISE(ABORT, 'refused'); END`,
        ),
      ],
      postgres: [
        sql.raw(
          `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
        ),
        sql.raw(
          `CREATE TRIGGER ${name} BEFORE DELETE ON passkeys FOR EACH ROW WHEN (OLD.user_id = ${id}) EXECUTE FUNCTION ${name}()`,
        ),
      ],
      mysql: [
        sql.raw(
          `CREATE TRIGGER ${name} BEFORE DELETE ON passkeys FOR EACH ROW BEGIN IF OLD.user_id = ${id} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END`,
        ),
      ],
    }[dialect];
    for (const statement of refuse) await statement.execute(db);
    try {
      const reset = await t.app.inject({
        method: 'POST',
        url: `/api/admin/users/${session.userId}/2fa/reset`,
        headers: adminAuth,
      });
      expect(reset.statusCode).toBe(500);
      expect(reset.body).not.toContain('refused');
    } finally {
      await sql.raw(`DROP TRIGGER ${name}${dialect === 'postgres' ? ' ON passkeys' : ''}`).execute(db);
      if (dialect === 'postgres') await sql.raw(`DROP FUNCTION ${name}()`).execute(db);
    }
    expect({ apps: await count('totp_factors'), codes: await count('backup_codes') }).toEqual(before);
    expect(await count('passkeys')).toBe(1);
    expect((await passwordLogin(t, session.username)).json()).toHaveProperty('mfa_required', true);
  });
});
