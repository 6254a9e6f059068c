// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderAt } from '../testing';
import AuthenticatorList from './AuthenticatorList.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const PHONE = {
  id: 3,
  name: 'Phone',
  created_at: '2026-01-15T12:00:00.000Z',
  last_used_at: '2026-01-16T08:30:00.000Z',
};
const TABLET = { id: 7, name: 'Tablet', created_at: '2026-01-17T12:00:00.000Z', last_used_at: null };

/** A fetch stub that answers by method and path (the refresh cookie is gone: no session), and records the calls. */
function server(routes: Record<string, (body: unknown) => [number, unknown]>) {
  const calls: Array<{ key: string; body: unknown }> = [];
  const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
    const key = `${init.method ?? 'GET'} ${url}`;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ key, body });
    const [status, answer] = routes[key]?.(body) ?? [401, { error: 'refresh_token_invalid', message: 'x' }];
    return new Response(JSON.stringify(answer), { status, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fetch);
  return calls;
}

describe('AuthenticatorList', () => {
  it('lists each app with its name, when it was added and last used, and never asks for a secret', async () => {
    server({ 'GET /api/auth/2fa/authenticators': () => [200, { authenticators: [PHONE, TABLET] }] });
    await renderAt(AuthenticatorList, '/security', { emailEnabled: false });
    await waitFor(() => expect(screen.getAllByTestId('authenticator-row')).toHaveLength(2));
    const names = screen.getAllByTestId('authenticator-name').map((cell) => cell.textContent);
    expect(names).toEqual(['Phone', 'Tablet']);
    const [phoneRow, tabletRow] = screen.getAllByTestId('authenticator-row');
    expect(phoneRow!.textContent).toMatch(/2026/);
    expect(tabletRow!.textContent).toMatch(/Not yet/);
    expect(screen.getByRole('button', { name: 'Remove “Tablet”' })).toBeTruthy();
  });

  it('renames inline: the field takes the focus, the new name is sent and shown, the notice takes the focus', async () => {
    const calls = server({
      'GET /api/auth/2fa/authenticators': () => [200, { authenticators: [PHONE, TABLET] }],
      'PATCH /api/auth/2fa/authenticators/3': (body) => [200, { ...PHONE, ...(body as object) }],
    });
    await renderAt(AuthenticatorList, '/security', { emailEnabled: false });
    await waitFor(() => expect(screen.getAllByTestId('authenticator-row')).toHaveLength(2));
    await fireEvent.click(screen.getByRole('button', { name: 'Rename “Phone”' }));
    const input = screen.getByTestId('authenticator-name-input') as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    expect(input.value).toBe('Phone');
    await fireEvent.update(input, '   ');
    await fireEvent.submit(input.closest('form')!);
    expect(screen.getByTestId('error-authenticator-name').textContent).toMatch(/1 to 64/);
    await fireEvent.update(input, ' Old phone ');
    await fireEvent.submit(input.closest('form')!);
    await waitFor(() => expect(screen.getByTestId('notice').textContent).toMatch(/Renamed to “Old phone”/));
    expect(calls.filter((c) => c.key.startsWith('PATCH'))).toEqual([
      { key: 'PATCH /api/auth/2fa/authenticators/3', body: { name: 'Old phone' } },
    ]);
    expect(screen.getAllByTestId('authenticator-name').map((cell) => cell.textContent)).toEqual([
      'Old phone',
      'Tablet',
    ]);
    expect(document.activeElement).toBe(screen.getByTestId('notice'));
  });

  it('asks before removing, naming the app; Cancel sends nothing, Yes removes it and tells the page', async () => {
    let list = [PHONE, TABLET];
    const calls = server({
      'GET /api/auth/2fa/authenticators': () => [200, { authenticators: list }],
      'DELETE /api/auth/2fa/authenticators/7': () => {
        list = [PHONE];
        return [200, { enabled: true }];
      },
    });
    const { emitted } = await renderAt(AuthenticatorList, '/security', { emailEnabled: false });
    await waitFor(() => expect(screen.getAllByTestId('authenticator-row')).toHaveLength(2));
    await fireEvent.click(screen.getByRole('button', { name: 'Remove “Tablet”' }));
    expect(screen.getByTestId('authenticator-question').textContent).toMatch(
      /Remove “Tablet”\? Its codes will stop working/,
    );
    expect(document.activeElement).toBe(screen.getByTestId('authenticator-cancel-remove'));
    await fireEvent.click(screen.getByTestId('authenticator-cancel-remove'));
    expect(calls.some((c) => c.key.startsWith('DELETE'))).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Remove “Tablet”' }));
    await fireEvent.click(screen.getByTestId('authenticator-confirm-remove'));
    await waitFor(() => expect(screen.getAllByTestId('authenticator-row')).toHaveLength(1));
    expect(emitted().removed).toEqual([[true, 'Tablet']]);
  });

  it('warns that removing the last app turns two-factor off when no email codes are on', async () => {
    server({ 'GET /api/auth/2fa/authenticators': () => [200, { authenticators: [PHONE] }] });
    await renderAt(AuthenticatorList, '/security', { emailEnabled: false });
    await waitFor(() => expect(screen.getAllByTestId('authenticator-row')).toHaveLength(1));
    await fireEvent.click(screen.getByRole('button', { name: 'Remove “Phone”' }));
    expect(screen.getByTestId('authenticator-question').textContent).toMatch(/last second factor.*turns off/);
  });
});
