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
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/app/');
    await page.getByRole('heading', { name: 'Twofold' }).first().waitFor();
    await page.goto('/app/some/deep/link');
    await page.getByRole('heading', { name: 'Twofold' }).first().waitFor();
    await h.screenshot(page, 'smoke');
    await context.close();
    expect(h.consoleErrors).toEqual([]);
  });
});
