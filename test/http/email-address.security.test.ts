import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, register, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { RESET_SUBJECT, forgot, tryLogin, waitForMail } from '../support/recovery.js';

const dialects = await testDialects();
const KELVIN = '\u212A'; // KELVIN SIGN, looks like K; NFKC maps it to K
const CYRILLIC_A = '\u0430'; // looks like Latin a

describe.each(dialects)('email addresses on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await startMailbox();
    t = await buildTestApp({ dialect, env: { SMTP_URL: mailbox.url } });
  });
  afterAll(async () => {
    await t?.close();
    await mailbox?.close();
  });

  /** A fresh address that starts with `k`, so its first letter can be written with look-alikes. */
  const freshK = () => `k${uniqueName('ate').toLowerCase()}@example.com`;

  it('refuses an address that mixes Latin with a Cyrillic look-alike, with a field error', async () => {
    const response = await register(t.app, uniqueName('mixed'), PASSWORD, `k${CYRILLIC_A}te.${uniqueName()}@example.com`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual({ error: 'validation_failed', message: expect.any(String), fields: { email: expect.stringMatching(/scripts/) } });
  });

  it('refuses a domain label that mixes scripts, but accepts a Cyrillic local part at a Latin domain', async () => {
    const mixedDomain = await register(t.app, uniqueName('dom'), PASSWORD, `${uniqueName()}@ex${CYRILLIC_A}mple.com`);
    expect(mixedDomain.statusCode, mixedDomain.body).toBe(400);
    expect(mixedDomain.json().fields.email).toMatch(/scripts/);
    const cyrillic = await register(t.app, uniqueName('cyr'), PASSWORD, `катя${Date.now()}${Math.floor(Math.random() * 1000)}@example.com`);
    expect(cyrillic.statusCode, cyrillic.body).toBe(201);
  });

  it('refuses invisible characters that make two addresses look alike', async () => {
    const response = await register(t.app, uniqueName('zw'), PASSWORD, `ka\u200Bte.${uniqueName()}@example.com`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().fields.email).toMatch(/invisible/);
  });

  it('an address written with the Kelvin sign is its owner\'s address: it cannot register a second account, and signs in only with the owner\'s password', async () => {
    const owner = uniqueName('owner');
    const address = freshK();
    expect((await register(t.app, owner, PASSWORD, address)).statusCode).toBe(201);
    const kelvin = `${KELVIN}${address.slice(1)}`;

    const twin = await register(t.app, uniqueName('twin'), 'a different fine passphrase', kelvin);
    expect(twin.statusCode, twin.body).toBe(409);
    expect(twin.json().error).toBe('email_taken');

    const signedIn = await tryLogin(t, kelvin, PASSWORD);
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json().user.username).toBe(owner);
    expect((await tryLogin(t, kelvin, 'a different fine passphrase')).statusCode).toBe(401);
  });

  it('full-width look-alikes are the same address too (NFKC): no second account, and a reset asked that way goes to the stored address', async () => {
    const owner = uniqueName('wide');
    const address = freshK();
    expect((await register(t.app, owner, PASSWORD, address)).statusCode).toBe(201);
    const fullWidth = `\uFF4B${address.slice(1)}`; // FULLWIDTH LATIN SMALL LETTER K

    const twin = await register(t.app, uniqueName('twin'), 'a different fine passphrase', fullWidth);
    expect(twin.statusCode, twin.body).toBe(409);
    expect(twin.json().error).toBe('email_taken');
    expect((await tryLogin(t, fullWidth, PASSWORD)).json().user?.username).toBe(owner);

    expect((await forgot(t, fullWidth)).statusCode).toBe(202);
    const mail = await waitForMail(mailbox, address, RESET_SUBJECT);
    expect(mail.to).toEqual([address]);
  });
});
