import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';

describe('the web UI is served', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('redirects / to /app/ and renders the app in Chromium without console errors', async () => {
    const { page, context } = await h.newPage();
    const response = await page.goto('/');
    // The server's redirect (before the app's own routing).
    expect(new URL(response?.url() ?? '').pathname).toBe('/app/');
    // Signed out, the account page sends the person to sign in (the brand link is on every page).
    await page.getByTestId('login-username').waitFor();
    await page.getByRole('link', { name: 'Twofold' }).first().waitFor();
    await page.goto('/app/some/deep/link');
    await page.getByTestId('not-found').waitFor();
    await h.screenshot(page, 'smoke');
    await context.close();
    expect(h.consoleErrors).toEqual([]);
  });
});
