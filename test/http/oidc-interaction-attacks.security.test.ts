import { request as httpRequest } from 'node:http';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { register, uniqueName } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { Browser, REDIRECT_URI } from '../support/oidc-browser.js';
import { startOidcServer, webClient, type OidcTestServer } from '../support/oidc.js';
import { setupTokenOf } from '../support/require-2fa.js';

const dialects = await testDialects();

/** The sign-in step's routes under attack: tokens they must not take, origins, bodies. */
describe.each(dialects)('OpenID Connect sign-in step under attack (%s)', (dialect) => {
  let server: OidcTestServer;
  let rp: oidc.Configuration;

  async function begin(): Promise<{ browser: Browser; uid: string }> {
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
    });
    const browser = new Browser(new URL(server.issuer).origin);
    const { uid } = await browser.navigate(url.href);
    if (!uid) throw new Error('no interaction');
    return { browser, uid };
  }

  beforeAll(async () => {
    // REQUIRE_2FA=all: a password-only account gets a set-up token, which is no sign-in.
    server = await startOidcServer(dialect, { REQUIRE_2FA: 'all', CORS_ORIGINS: 'https://app.example.com' });
    ({ rp } = await webClient(server));
  });
  afterAll(async () => server.close());
  beforeEach(() => server.clock.set(new Date()));

  it('a REQUIRE_2FA set-up token cannot sign anyone in to an application', async () => {
    const username = uniqueName();
    expect((await register(server.app, username)).statusCode).toBe(201);
    const { auth } = await setupTokenOf(server.app, username);
    const { browser, uid } = await begin();
    const refused = await browser.post(`/api/oidc/interaction/${uid}/login`, auth);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('mfa_setup_required');
    // The interaction is still there, unfinished: nothing was granted.
    const view = await browser.request(`/api/oidc/interaction/${uid}`);
    expect(((await view.json()) as { prompt: string }).prompt).toBe('login');
  });

  it('another site cannot call the sign-in step with the person’s token: the preflight names no foreign origin', async () => {
    const { uid } = await begin();
    const preflight = (origin: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = httpRequest(
          `${server.issuer}/api/oidc/interaction/${uid}/login`,
          {
            method: 'OPTIONS',
            headers: {
              origin,
              'access-control-request-method': 'POST',
              'access-control-request-headers': 'authorization,content-type',
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.headers));
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect((await preflight('https://evil.example'))['access-control-allow-origin']).toBeUndefined();
    expect((await preflight('https://app.example.com'))['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('a form post (what another site can send without a preflight) and an oversized body are refused', async () => {
    const { browser, uid } = await begin();
    const form = await browser.request(`/api/oidc/interaction/${uid}/abort`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    const huge = await browser.post(`/api/oidc/interaction/${uid}/abort`, {}, { pad: 'x'.repeat(2_000_000) });
    expect(huge.status).toBe(413);
    // Neither finished it.
    expect((await browser.request(`/api/oidc/interaction/${uid}`)).status).toBe(200);
  });
});
