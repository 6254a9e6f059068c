import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginPage } from './pages/index.js';
import { freePort, startHarness, type Harness } from './support/harness.js';
import { startEchoUpstream, startNginx, type ProxiedSite } from './support/nginx.js';

/**
 * Forward authentication with Debian's nginx (`auth_request`) in front of a small application and a static page,
 * configured as docs/forward-auth.md says, over TLS, with host names under example.test that Chromium resolves to
 * 127.0.0.1: signed out, the application sends the person to Twofold's sign-in page and, once signed in, back to
 * the page they asked for, which receives X-Auth-User from nginx; a person signed in already goes straight back;
 * a host whose rule asks for administrators answers 403 to anyone else.
 */
const DOMAIN = 'example.test';

describe('nginx auth_request in front of an application', () => {
  let h: Harness;
  let site: ProxiedSite;
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let port: number;
  const password = 'Lantern-quarry-58-meadow';
  const url = (host: string, rest = '/') => `https://${host}.${DOMAIN}:${port}${rest}`;

  beforeAll(async () => {
    port = await freePort();
    upstream = await startEchoUpstream();
    h = await startHarness({
      env: {
        PUBLIC_URL: `https://auth.${DOMAIN}:${port}`,
        SESSION_COOKIE_DOMAIN: DOMAIN,
        FORWARD_AUTH_DOMAINS: DOMAIN,
        FORWARD_AUTH_RULES: `admin.${DOMAIN}=admin`,
      },
      chromiumArgs: [`--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`],
    });
    site = await startNginx({
      port,
      domain: DOMAIN,
      twofold: new URL(h.baseUrl).host.replace('localhost', '127.0.0.1'),
      upstreamPort: upstream.port,
    });
    for (const username of ['robin390', 'robin1280']) {
      const created = await h.cli(['user', 'create', '--username', username, '--password', password]);
      expect(created.code, created.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await site?.stop();
    await h?.close();
    await upstream?.close();
  });

  const text = async (page: Page, id: string) => (await page.locator(`#${id}`).textContent()) ?? '';

  for (const width of [390, 1280]) {
    it(`signs in through the proxy and comes back to the page asked for, at ${width} px`, async () => {
      const username = `robin${width}`;
      const { context, page } = await h.newPage({ viewport: { width, height: 900 }, ignoreHTTPSErrors: true });
      try {
        await page.goto(url('app', '/reports/weekly?team=blue&sort=desc'));
        await page.waitForURL((u) => u.host === `auth.${DOMAIN}:${port}` && u.pathname === '/app/login');
        expect(new URL(page.url()).searchParams.get('redirect')).toBe(
          url('app', '/reports/weekly?team=blue&sort=desc'),
        );
        const login = new LoginPage(page);
        await page.getByTestId('login-username').waitFor();
        await h.screenshot(page, `forward-auth-sign-in-${width}`);
        await login.submitPassword(username, password);
        await page.waitForURL((u) => u.host === `app.${DOMAIN}:${port}`);
        expect(await text(page, 'path')).toBe('/reports/weekly?team=blue&sort=desc');
        expect(await text(page, 'x-auth-user')).toBe(username);
        expect(await text(page, 'x-auth-role')).toBe('user');
        expect(await text(page, 'x-auth-amr')).toBe('pwd');
        await h.screenshot(page, `forward-auth-app-${width}`);

        // The static page behind the same check, and a host for administrators only.
        await page.goto(url('app', '/static/'));
        expect(await text(page, 'static')).toBe('A static page behind Twofold');
        const admin = await page.goto(url('admin'));
        expect(admin?.status()).toBe(403);

        // Signed in already: the sign-in page sends the person on at once.
        await page.goto(`${url('auth', '/app/login')}?redirect=${encodeURIComponent(url('app', '/again'))}`);
        await page.waitForURL((u) => u.host === `app.${DOMAIN}:${port}`);
        expect(await text(page, 'path')).toBe('/again');
        expect(await text(page, 'x-auth-user')).toBe(username);
      } catch (error) {
        throw new Error(
          `${String(error)}\nat ${page.url()}: ${(await page.content()).slice(0, 600)}\nnginx: ${site.errorLog()}`,
          { cause: error },
        );
      } finally {
        await context.close();
      }
    });
  }

  it('never sends the person to a host outside FORWARD_AUTH_DOMAINS after signing in', async () => {
    const { context, page } = await h.newPage({ ignoreHTTPSErrors: true });
    try {
      await page.goto(`${url('auth', '/app/login')}?redirect=${encodeURIComponent('https://evil.com/')}`);
      await new LoginPage(page).submitPassword('robin1280', password);
      await page.waitForURL((u) => u.host === `auth.${DOMAIN}:${port}` && u.pathname === '/app/');
    } finally {
      await context.close();
    }
    // The administrators' host answered 403 on purpose; nothing else may have failed in any page.
    expect(h.consoleErrors.filter((line) => !line.startsWith(`${url('admin')}: `))).toEqual([]);
  });
});
