import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from '../support/app.js';
import { Browser, REDIRECT_URI } from '../support/oidc-browser.js';
import { startOidcServer, webClient, type OidcTestServer } from '../support/oidc.js';

/** The CSP directives of an answer, by name. */
function directives(response: Response): Map<string, string[]> {
  const header = response.headers.get('content-security-policy') ?? '';
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name!, values]),
  );
}

/**
 * The provider's own HTML (its error page, the sign-out confirmation, a form_post answer) carries a
 * Content-Security-Policy: nothing loads from another site, no page frames it, and the one inline
 * script it writes (form_post's auto-submit) is allowed by its hash alone.
 */
describe('OpenID Connect provider pages under a Content-Security-Policy', () => {
  let server: OidcTestServer;
  let rp: oidc.Configuration;
  beforeAll(async () => {
    server = await startOidcServer('sqlite');
    ({ rp } = await webClient(server));
  });
  afterAll(async () => server.close());

  it('the error page and the sign-out confirmation allow nothing from another site and no framing', async () => {
    const browser = new Browser(new URL(server.issuer).origin);
    for (const url of ['/oidc/auth?client_id=nobody', '/oidc/session/end']) {
      const page = await browser.request(url);
      expect(page.headers.get('content-type')).toContain('text/html');
      const csp = directives(page);
      expect(csp.get('default-src')).toEqual(["'self'"]);
      // 'self', and at most the hashes of the provider's own inline scripts.
      const [first, ...hashes] = csp.get('script-src') ?? [];
      expect(first).toBe("'self'");
      for (const hash of hashes) expect(hash).toMatch(/^'sha256-[A-Za-z0-9+/=]+'$/);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(csp.get('style-src')).not.toContain('https:');
    }
  });

  it('a form_post answer may run only its own auto-submit script', async () => {
    const browser = new Browser(new URL(server.issuer).origin);
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      response_mode: 'form_post',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
    });
    const { uid } = await browser.navigate(url.href);
    const person = await signUp(server.app);
    const loggedIn = await browser.post(`/api/oidc/interaction/${uid}/login`, person.auth);
    const { response } = await browser.navigate(((await loggedIn.json()) as { redirect_to: string }).redirect_to);
    const html = await response.text();
    expect(html).toContain(`action="${REDIRECT_URI}"`);
    const scripts = directives(response).get('script-src') ?? [];
    expect(scripts[0]).toBe("'self'");
    expect(scripts.slice(1)).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/=]+'$/)]);
    // No form-action: the answer posts to the application's origin.
    expect(directives(response).has('form-action')).toBe(false);
  });
});
