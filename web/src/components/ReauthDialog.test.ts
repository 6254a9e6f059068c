// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/vue';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { setAuthHooks } from '../api/client';
import type { User } from '../api/types';
import { useSessionStore } from '../stores/session';
import RegenerateCodes from './RegenerateCodes.vue';
import ReauthDialog from './ReauthDialog.vue';

const user = (mfa: string[]): User => ({
  id: 7,
  username: 'alice',
  email: 'alice@example.com',
  role: 'user',
  email_verified: true,
  mfa_enabled: mfa.length > 0,
  mfa_methods: mfa,
  created_at: '2026-01-15T12:00:00.000Z',
});
const reauthRequired = { error: 'reauth_required', message: 'Confirm it is you: call POST /api/auth/reauth …' };

interface Call {
  url: string;
  body: unknown;
  authorization: string | undefined;
}

/** A fetch stub answering by URL: each path has a queue of answers, every call is recorded. */
function server(routes: Record<string, Array<[number, unknown]>>): { calls: Call[]; fetch: typeof fetch } {
  const calls: Call[] = [];
  const stub = (async (input: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    calls.push({
      url: input,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
      authorization: headers.Authorization,
    });
    const [status, body] = routes[input]?.shift() ?? [404, { error: 'not_found', message: 'Not found.' }];
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json' },
    });
  }) as unknown as typeof fetch;
  return { calls, fetch: stub };
}

/** RegenerateCodes (a sensitive change) beside the dialog, with the client's hooks wired as main.ts does. */
function mount(mfa: string[]) {
  const pinia = createPinia();
  setActivePinia(pinia);
  const session = useSessionStore();
  session.accept({
    access_token: 'old.token',
    token_type: 'Bearer',
    expires_in: 600,
    refresh_token: 'r',
    user: user(mfa),
  });
  setAuthHooks({
    token: () => session.accessToken,
    refresh: async () => false,
    expired: () => undefined,
    reauthenticate: () => session.requestReauth(),
  });
  const codes = vi.fn();
  const Page = defineComponent({
    setup: () => () => [h(RegenerateCodes, { remaining: 3, onCodes: codes }), h(ReauthDialog)],
  });
  render(Page, { global: { plugins: [pinia] } });
  return { session, codes };
}

async function regenerate(): Promise<void> {
  await fireEvent.update(screen.getByTestId('backup-regenerate-password'), 'a fine long passphrase');
  await fireEvent.click(screen.getByTestId('backup-regenerate'));
}

beforeEach(() => {
  document.body.innerHTML = '';
});
afterEach(() => {
  cleanup();
  setAuthHooks(null);
  vi.unstubAllGlobals();
});

describe('ReauthDialog', () => {
  it('asks "Confirm it\'s you" on 403 reauth_required, reauthenticates, then retries the action with the new token', async () => {
    const api = server({
      '/api/auth/2fa/backup-codes': [
        [403, reauthRequired],
        [200, { backup_codes: ['aaaaa-bbbbb'] }],
      ],
      '/api/auth/reauth': [
        [401, { error: 'invalid_credentials', message: 'The password is incorrect.' }],
        [
          200,
          { access_token: 'new.token', token_type: 'Bearer', expires_in: 600, refresh_token: 'r2', user: user([]) },
        ],
      ],
    });
    vi.stubGlobal('fetch', api.fetch);
    const { codes } = mount([]);
    await regenerate();

    const dialog = await screen.findByRole('dialog', { name: "Confirm it's you" });
    expect(dialog.getAttribute('aria-describedby')).toBe('reauth-description');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Password')));
    expect(screen.queryByTestId('reauth-code')).toBeNull();

    await fireEvent.update(screen.getByTestId('reauth-password'), 'wrong');
    await fireEvent.click(screen.getByTestId('reauth-submit'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/password is incorrect/));
    expect(codes).not.toHaveBeenCalled();

    await fireEvent.update(screen.getByTestId('reauth-password'), 'a fine long passphrase');
    await fireEvent.click(screen.getByTestId('reauth-submit'));
    await waitFor(() => expect(codes).toHaveBeenCalledWith(['aaaaa-bbbbb']));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(api.calls.map((c) => c.url)).toEqual([
      '/api/auth/2fa/backup-codes',
      '/api/auth/reauth',
      '/api/auth/reauth',
      '/api/auth/2fa/backup-codes',
    ]);
    expect(api.calls[2]?.body).toEqual({ password: 'a fine long passphrase' });
    // The retry is the same request, now with the fresh access token.
    expect(api.calls[3]).toEqual({
      url: '/api/auth/2fa/backup-codes',
      body: { password: 'a fine long passphrase' },
      authorization: 'Bearer new.token',
    });
  });

  it('asks for a code when the account has 2FA and can email one', async () => {
    const api = server({
      '/api/auth/2fa/backup-codes': [
        [403, reauthRequired],
        [200, { backup_codes: ['ccccc-ddddd'] }],
      ],
      '/api/auth/2fa/email/send': [[202, { sent: true, expires_in: 600 }]],
      '/api/auth/reauth': [
        [
          200,
          {
            access_token: 'new.token',
            token_type: 'Bearer',
            expires_in: 600,
            refresh_token: 'r2',
            user: user(['totp', 'email']),
          },
        ],
      ],
    });
    vi.stubGlobal('fetch', api.fetch);
    const { codes } = mount(['totp', 'email']);
    await regenerate();
    await screen.findByRole('dialog', { name: "Confirm it's you" });
    await fireEvent.click(screen.getByTestId('reauth-send-email'));
    await waitFor(() => expect(screen.getByRole('status').textContent).toMatch(/emailed you a code/));
    expect(api.calls.find((c) => c.url === '/api/auth/2fa/email/send')).toMatchObject({
      body: {},
      authorization: 'Bearer old.token',
    });

    await fireEvent.update(screen.getByTestId('reauth-password'), 'a fine long passphrase');
    await fireEvent.update(screen.getByLabelText('Code'), ' 123456 ');
    await fireEvent.click(screen.getByTestId('reauth-submit'));
    await waitFor(() => expect(codes).toHaveBeenCalledWith(['ccccc-ddddd']));
    expect(api.calls.find((c) => c.url === '/api/auth/reauth')?.body).toEqual({
      password: 'a fine long passphrase',
      code: '123456',
    });
  });

  it('cancelling leaves the action undone and says so', async () => {
    const api = server({ '/api/auth/2fa/backup-codes': [[403, reauthRequired]] });
    vi.stubGlobal('fetch', api.fetch);
    const { codes } = mount([]);
    await regenerate();
    await screen.findByRole('dialog');
    await fireEvent.click(screen.getByTestId('reauth-cancel'));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/Nothing was changed/));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(codes).not.toHaveBeenCalled();
    expect(api.calls.map((c) => c.url)).toEqual(['/api/auth/2fa/backup-codes']);
  });

  it('Escape cancels like the Cancel button', async () => {
    vi.stubGlobal('fetch', server({ '/api/auth/2fa/backup-codes': [[403, reauthRequired]] }).fetch);
    mount([]);
    await regenerate();
    const dialog = await screen.findByRole('dialog');
    await fireEvent(dialog, new Event('cancel', { cancelable: true }));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/Nothing was changed/));
  });
});
