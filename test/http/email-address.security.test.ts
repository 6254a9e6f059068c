import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, register, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import type { Mailbox } from '../support/mailbox.js';
import { RESET_SUBJECT, forgot, tryLogin, waitForMail, startMailApp } from '../support/recovery.js';

const dialects = await testDialects();
const KELVIN = '\u212A'; // KELVIN SIGN, looks like K; NFKC maps it to K
const CYRILLIC_A = '\u0430'; // looks like Latin a

describe.each(dialects)('email addresses on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  /** A fresh address that starts with `k`, so its first letter can be written with look-alikes. */
  const freshK = () => `k${uniqueName('ate').toLowerCase()}@example.com`;

  it('refuses an address that mixes Latin with a Cyrillic look-alike, with a field error', async () => {
    const response = await register(
      t.app,
      uniqueName('mixed'),
      PASSWORD,
      `k${CYRILLIC_A}te.${uniqueName()}@example.com`,
    );
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual({
      error: 'validation_failed',
      message: expect.any(String),
      fields: { email: expect.stringMatching(/scripts/) },
    });
  });

  it('refuses a domain label that mixes scripts, but accepts a Cyrillic local part at a Latin domain', async () => {
    const mixedDomain = await register(t.app, uniqueName('dom'), PASSWORD, `${uniqueName()}@ex${CYRILLIC_A}mple.com`);
    expect(mixedDomain.statusCode, mixedDomain.body).toBe(400);
    expect(mixedDomain.json().fields.email).toMatch(/scripts/);
    const cyrillic = await register(
      t.app,
      uniqueName('cyr'),
      PASSWORD,
      `катя${Date.now()}${Math.floor(Math.random() * 1000)}@example.com`,
    );
    expect(cyrillic.statusCode, cyrillic.body).toBe(201);
  });

  it('refuses invisible characters that make two addresses look alike', async () => {
    const response = await register(t.app, uniqueName('zw'), PASSWORD, `ka\u200Bte.${uniqueName()}@example.com`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().fields.email).toMatch(/invisible/);
  });

  it("signing in with the address written with the Kelvin sign does not open the plain address's account", async () => {
    const owner = uniqueName('owner');
    const address = freshK();
    expect((await register(t.app, owner, PASSWORD, address)).statusCode).toBe(201);
    const kelvin = `${KELVIN}${address.slice(1)}`;
    // Lower-casing alone turns the Kelvin sign into `k`: the look-alike must name no account at all.
    const signIn = await tryLogin(t, kelvin, PASSWORD);
    expect(signIn.statusCode, signIn.body).toBe(401);
    expect(signIn.json().error).toBe('invalid_credentials');
    expect((await tryLogin(t, address, PASSWORD)).statusCode).toBe(200);
  });

  it('an address written with compatibility characters cannot register, with a field error', async () => {
    for (const lookAlike of [`${KELVIN}${freshK().slice(1)}`, `\uFF4B${freshK().slice(1)}`]) {
      const response = await register(t.app, uniqueName('twin'), PASSWORD, lookAlike);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().fields.email).toMatch(/look-alike/);
    }
  });

  it('a password reset asked for with a full-width look-alike mails nobody', async () => {
    const owner = uniqueName('wide');
    const address = freshK();
    expect((await register(t.app, owner, PASSWORD, address)).statusCode).toBe(201);
    const fullWidth = `\uFF4B${address.slice(1)}`; // FULLWIDTH LATIN SMALL LETTER K
    expect((await forgot(t, fullWidth)).statusCode).toBe(202);
    // The same request with the plain address does mail: the look-alike's answer was identical, and sent nothing.
    expect((await forgot(t, address)).statusCode).toBe(202);
    await waitForMail(mailbox, address, RESET_SUBJECT);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mailbox.to(address).filter((m) => RESET_SUBJECT.test(m.subject))).toHaveLength(1);
  });
});
