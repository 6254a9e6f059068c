import { get as httpGet } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcPage } from './pages/index.js';
import { startApacheOidc, type ProtectedSite } from './support/apache.js';
import { freePort, startHarness, type Harness } from './support/harness.js';
import { createClient } from './support/oidc-rp.js';

/**
 * A third-party relying party that knows nothing of Twofold but the standard: Debian's Apache with mod_auth_openidc
 * protects a static page. Opening it sends the browser to Twofold's sign-in step; after the sign-in and consent the
 * browser is back on the page, which shows the claims mod_auth_openidc took from Twofold's ID token and userinfo.
 */
describe('Apache mod_auth_openidc signs people in with Twofold', () => {
  let h: Harness;
  let site: ProtectedSite;
  const password = 'Copper-kettle-41-willow';

  beforeAll(async () => {
    h = await startHarness({ publicUrlIsPageOrigin: true });
    const port = await freePort();
    const client = await createClient(h, [
      '--name',
      'Team wiki',
      '--redirect-uri',
      `http://127.0.0.1:${port}/private/redirect_uri`,
    ]);
    site = await startApacheOidc({
      port,
      metadataUrl: `${h.baseUrl}/.well-known/openid-configuration`,
      clientId: client.client_id,
      clientSecret: client.client_secret,
    });
    const created = await h.cli([
      'user',
      'create',
      '--username',
      'linus',
      '--password',
      password,
      '--email',
      'linus@example.test',
    ]);
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => {
    await site?.stop();
    await h?.close();
  });

  /** A plain HTTP GET with exactly these headers (fetch adds Fetch Metadata of its own). */
  const get = (url: string, headers: Record<string, string>) =>
    new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
      httpGet(url, { headers }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, location: response.headers.location, body }),
        );
      }).on('error', reject);
    });
  const text = async (page: Page, id: string) => (await page.locator(`#${id}`).textContent()) ?? '';

  it('the protected page leads to Twofold, and back to the page with the person’s claims after signing in', async () => {
    const { context, page } = await h.newPage();
    try {
      await page.goto(`${site.origin}/private/`);
      await page.waitForURL((u) => u.origin === h.baseUrl && u.pathname.startsWith('/app/oidc/'));
      const step = new OidcPage(page);
      await step.clientName.waitFor();
      expect(await step.clientName.textContent()).toContain('Team wiki');
      await step.signIn('linus', password);
      await step.consent.waitFor();
      await h.screenshot(page, 'apache-oidc-consent');
      await step.allow();

      await page.waitForURL(`${site.origin}/private/`);
      expect(await text(page, 'user')).toBe('linus');
      expect(await text(page, 'preferred_username')).toBe('linus');
      expect(await text(page, 'email')).toBe('linus@example.test');
      expect(await text(page, 'amr')).toBe('pwd');
      expect(await text(page, 'acr')).toBe('pwd');
      await h.screenshot(page, 'apache-oidc-page');

      // mod_auth_openidc's own session now: the page opens again without a trip to Twofold.
      const again = await page.goto(`${site.origin}/private/`);
      expect(again?.url()).toBe(`${site.origin}/private/`);
      expect(await text(page, 'user')).toBe('linus');
    } catch (error) {
      throw new Error(
        `${String(error)}\nat ${page.url()}: ${(await page.content()).slice(0, 600)}\napache: ${site.errorLog().slice(-4000)}`,
        { cause: error },
      );
    } finally {
      await context.close();
    }
  });

  it('without a session the page is not served: the answer is a redirect to Twofold’s authorization endpoint', async () => {
    // A page navigation (Fetch Metadata: a document) is sent to sign in; a script's request is refused with 401.
    const navigation = await get(`${site.origin}/private/`, {
      accept: 'text/html',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
    });
    expect(navigation.status).toBe(302);
    const location = new URL(navigation.location ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${h.baseUrl}/oidc/auth`);
    expect(location.searchParams.get('response_type')).toBe('code');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('redirect_uri')).toBe(`${site.origin}/private/redirect_uri`);
    expect(navigation.body).not.toContain('Team wiki');
    const script = await get(`${site.origin}/private/`, { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' });
    expect(script.status).toBe(401);
    expect(script.body).not.toContain('Team wiki');
    expect(h.consoleErrors).toEqual([]);
  });
});
