// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdminUser } from '../api/types';
import { renderAt } from '../testing';
import AdminView from './AdminView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const person = (id: number, username: string, methods: string[], passkeys: number): AdminUser => ({
  id,
  username,
  email: `${username}@example.com`,
  role: 'user',
  email_verified: true,
  mfa_enabled: methods.length > 0,
  mfa_methods: methods,
  created_at: '2026-01-15T12:00:00.000Z',
  locked_until: null,
  last_login_at: null,
  passkeys,
});
const USERS = [
  person(2, 'pia', ['totp', 'passkey'], 2),
  person(3, 'otto', ['totp'], 0),
  person(4, 'una', ['passkey'], 1),
];

/** The administration's requests, answered by path (the audit log: empty); every call is recorded. */
function stubServer(): Array<{ key: string; body: unknown }> {
  const calls: Array<{ key: string; body: unknown }> = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const key = `${init.method ?? 'GET'} ${url.split('?')[0]}`;
      calls.push({ key, body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined });
      const answers: Record<string, unknown> = {
        'GET /api/admin/users': { items: USERS, total: USERS.length, limit: 50, offset: 0 },
        'GET /api/admin/audit': { items: [], next_before: null },
        'GET /api/admin/oidc/clients': { items: [] },
        'POST /api/admin/users/2/2fa/reset': { ...USERS[0], mfa_enabled: false, mfa_methods: [], passkeys: 0 },
      };
      const body = answers[key];
      return new Response(JSON.stringify(body ?? { error: 'refresh_token_invalid', message: 'x' }), {
        status: body ? 200 : 401,
        headers: { 'Content-Type': 'application/json' },
      });
    }),
  );
  return calls;
}

const row = (username: string): HTMLElement =>
  document.querySelector<HTMLElement>(`[data-testid="admin-user-row"][data-username="${username}"]`)!;

describe('AdminView: passkeys', () => {
  it('shows how many passkeys each user has', async () => {
    stubServer();
    await renderAt(AdminView, '/token');
    await waitFor(() => expect(screen.getAllByTestId('admin-user-row')).toHaveLength(3));
    expect(screen.getByRole('columnheader', { name: 'Passkeys' })).toBeTruthy();
    const counts = screen.getAllByTestId('admin-passkeys');
    expect(counts.map((cell) => [cell.getAttribute('data-label'), cell.textContent?.trim()])).toEqual([
      ['Passkeys', '2'],
      ['Passkeys', '0'],
      ['Passkeys', '1'],
    ]);
  });

  it('says that a two-factor reset removes the passkeys too, naming how many', async () => {
    const calls = stubServer();
    await renderAt(AdminView, '/token');
    await waitFor(() => expect(screen.getAllByTestId('admin-user-row')).toHaveLength(3));

    await fireEvent.click(within(row('otto')).getByTestId('admin-reset-2fa'));
    expect(within(row('otto')).getByTestId('admin-question').textContent).toMatch(
      /backup codes and passkeys are removed/,
    );
    await fireEvent.click(within(row('otto')).getByTestId('admin-cancel'));

    await fireEvent.click(within(row('una')).getByTestId('admin-reset-2fa'));
    expect(within(row('una')).getByTestId('admin-question').textContent).toMatch(/backup codes and 1 passkey are/);
    await fireEvent.click(within(row('una')).getByTestId('admin-cancel'));

    await fireEvent.click(within(row('pia')).getByTestId('admin-reset-2fa'));
    expect(within(row('pia')).getByTestId('admin-question').textContent).toBe(
      'Reset two-factor for pia? Their authenticator apps, email codes, backup codes and 2 passkeys are removed and they are signed out everywhere.',
    );
    expect(calls.some((c) => c.key.includes('/2fa/reset'))).toBe(false);
    await fireEvent.click(within(row('pia')).getByTestId('admin-confirm'));
    await waitFor(() =>
      expect(screen.getByTestId('notice').textContent).toMatch(/pia: two-factor authentication reset/),
    );
    expect(calls.filter((c) => c.key.includes('/2fa/reset')).map((c) => c.key)).toEqual([
      'POST /api/admin/users/2/2fa/reset',
    ]);
  });
});
