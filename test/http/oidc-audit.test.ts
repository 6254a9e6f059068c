import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { signUp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { finish, signInAndConsent, startAuthorization } from '../support/oidc-browser.js';
import { startOidcServer, webClient, type OidcTestServer } from '../support/oidc.js';
import { auditRows } from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * The provider's security events in the audit trail (OWASP Logging Cheat Sheet): a spent refresh
 * token presented again, a revocation, a logout; each with the client, never a token.
 */
describe.each(dialects)('OpenID Connect audit trail (%s)', (dialect) => {
  let server: OidcTestServer;
  let rp: oidc.Configuration;
  let clientId: string;

  beforeAll(async () => {
    server = await startOidcServer(dialect);
    ({ clientId, rp } = await webClient(server, {
      grants: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      skipConsent: false,
    }));
  });
  afterAll(async () => server.close());
  beforeEach(() => server.clock.set(new Date()));

  async function signedIn() {
    const person = await signUp(server.app);
    const started = await startAuthorization(server.issuer, rp, { prompt: 'consent' });
    const tokens = await finish(rp, started, await signInAndConsent(started, person));
    return { person, started, tokens };
  }

  const eventsOf = async (userId: number, type: string) =>
    (await auditRows(server, userId)).filter((row) => row.type === type).map((row) => JSON.parse(row.detail));

  it('a spent refresh token presented again ends the grant, and says so in the person’s audit trail', async () => {
    const { person, tokens } = await signedIn();
    const next = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toThrow();
    // The whole grant is gone: the new refresh token of the thief or of the person no longer works.
    await expect(oidc.refreshTokenGrant(rp, next.refresh_token!)).rejects.toThrow();
    await vi.waitFor(async () => {
      const revoked = await eventsOf(person.userId, 'oidc.grant_revoked');
      expect(revoked).toContainEqual(expect.objectContaining({ client_id: clientId, route: 'token' }));
    });
    const rows = JSON.stringify(await auditRows(server, person.userId));
    expect(rows).not.toContain(tokens.refresh_token!);
    expect(rows).not.toContain(next.refresh_token!);
  });

  it('revoking a refresh token at the revocation endpoint is recorded with the client', async () => {
    const { person, tokens } = await signedIn();
    await oidc.tokenRevocation(rp, tokens.refresh_token!);
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toThrow();
    await vi.waitFor(async () => {
      const revoked = await eventsOf(person.userId, 'oidc.grant_revoked');
      expect(revoked).toContainEqual(expect.objectContaining({ client_id: clientId, route: 'revocation' }));
    });
  });

  it('an RP-initiated logout is recorded as oidc.logout', async () => {
    const { person, started, tokens } = await signedIn();
    const { browser } = started;
    const end = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! });
    const page = await browser.request(end.href);
    expect(page.status).toBe(200);
    // The provider asks the person to confirm (a form with its own anti-forgery value).
    const html = await page.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(xsrf).toBeTruthy();
    const confirmed = await browser.request('/oidc/session/end/confirm', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString(),
    });
    expect([200, 303]).toContain(confirmed.status);
    await vi.waitFor(async () => {
      expect(await eventsOf(person.userId, 'oidc.logout')).toContainEqual(
        expect.objectContaining({ client_id: clientId }),
      );
    });
  });
});
