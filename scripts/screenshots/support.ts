/** What the screenshot runs share: where they write, who signs in, and a few requests to the real server. */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { HomePage, LoginPage } from '../../test/e2e/pages/index.js';
import { ARTIFACTS, type Harness } from '../../test/e2e/support/harness.js';

export const OUT = path.join(ARTIFACTS, 'screenshots');
export const person = { username: 'alice', email: 'alice@example.test', password: 'Lantern-orchid-57-gravel' };
export const admin = { username: 'root', password: 'Admin-copper-kettle-93' };
/** A phone's viewport at 390 px, a laptop's otherwise. */
export const viewportOf = (width: number): { width: number; height: number } => ({
  width,
  height: width < 600 ? 844 : 900,
});

export async function post(h: Harness, url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${h.baseUrl}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
}

export async function waitForMail(h: Harness, address: string, count: number): Promise<string> {
  for (let tries = 0; h.mailbox.codeMails(address).length < count; tries += 1) {
    if (tries > 150) throw new Error(`no code mail for ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return h.mailbox.latestCode(address);
}

export async function signIn(page: Page, who: { username: string; password: string }): Promise<void> {
  const login = new LoginPage(page);
  await login.open();
  await login.submitPassword(who.username, who.password);
  await new HomePage(page).waitForUser(who.username);
}
