import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { enableTOTP, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

describe.each(dialects)('the same factor change sent several times at once on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  it('parallel authenticator setups all answer 200 (never 500), and the secret kept is one of those returned', async () => {
    for (let round = 0; round < 6; round++) {
      const session = await signUp(t.app);
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: session.auth }),
        ),
      );
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
      const secrets = answers.map((answer) => answer.json().secret as string);
      const verified = [];
      for (const secret of secrets) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/auth/2fa/verify-setup',
          headers: session.auth,
          payload: { code: totpNow(t, secret) },
        });
        verified.push(response.statusCode);
        if (response.statusCode === 200) break;
      }
      expect(verified).toContain(200);
    }
  });

  it('parallel backup-code regenerations all answer 200 (never 500), and ten codes are left', async () => {
    for (let round = 0; round < 6; round++) {
      const session = await signUp(t.app);
      await enableTOTP(t, session);
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          t.app.inject({
            method: 'POST',
            url: '/api/auth/2fa/backup-codes',
            headers: session.auth,
            payload: { password: PASSWORD },
          }),
        ),
      );
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
      const status = await t.app.inject({ url: '/api/auth/2fa', headers: session.auth });
      expect(status.json().backup_codes_remaining).toBe(10);
    }
  });
});
