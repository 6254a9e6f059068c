// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setAuthHooks } from '../api/client';
import { useSessionStore } from '../stores/session';
import { fetchAnswers, renderAt } from '../testing';
import LoginView from './LoginView.vue';

afterEach(() => {
  cleanup();
  setAuthHooks(null);
  vi.unstubAllGlobals();
});

const noSession: [number, unknown] = [401, { error: 'refresh_token_invalid', message: 'x' }];
const setupRequired = (methods: string[]): [number, unknown] => [
  200,
  { mfa_setup_required: true, setup_token: 'setup.tok', expires_in: 600, mfa_methods: methods },
];
const user = {
  id: 7,
  username: 'alice',
  email: null,
  role: 'admin',
  email_verified: false,
  mfa_enabled: true,
  mfa_methods: ['totp'],
  created_at: '2026-01-15T12:00:00.000Z',
};
const tokens = { access_token: 'access.tok', token_type: 'Bearer', expires_in: 600, refresh_token: 'r', user };

/** Renders the sign-in page with the app's auth hooks (as main.ts sets them), and signs in with a password. */
async function signIn(fetch: typeof globalThis.fetch): Promise<Awaited<ReturnType<typeof renderAt>>> {
  vi.stubGlobal('fetch', fetch);
  const rendered = await renderAt(LoginView, '/login');
  const session = useSessionStore();
  setAuthHooks({ token: () => session.accessToken, refresh: async () => false, expired: () => undefined });
  await fireEvent.update(screen.getByLabelText('Username or email'), 'alice');
  await fireEvent.update(screen.getByLabelText('Password'), 'a fine long passphrase');
  await fireEvent.click(screen.getByTestId('login-submit'));
  return rendered;
}

describe('LoginView when the server requires a second factor (mfa_setup_required)', () => {
  it('sets up an authenticator app with the set-up token, shows the backup codes, then continues signed in', async () => {
    const fetch = vi.fn(
      fetchAnswers(
        noSession,
        setupRequired(['totp']),
        [200, { secret: 'JBSWY3DPEHPK3PXP', otpauth_url: 'otpauth://totp/x', qr_base64: 'data:image/png;base64,AA==' }],
        [200, { enabled: true, backup_codes: ['aaaaa-bbbbb', 'ccccc-ddddd'], tokens }],
      ),
    );
    const { router } = await signIn(fetch);
    await waitFor(() => expect(screen.getByTestId('mfa-setup-step')).toBeTruthy());
    // The step's heading takes the focus (the password form it replaced is gone).
    await waitFor(() => expect(document.activeElement?.id).toBe('mfa-setup-heading'));
    expect(screen.queryByTestId('login-password')).toBeNull();
    expect(screen.queryByTestId('email-enable')).toBeNull();
    expect(useSessionStore().signedIn).toBe(false);

    await fireEvent.click(screen.getByTestId('totp-start'));
    await waitFor(() => expect(screen.getByTestId('totp-secret').textContent).toBe('JBSWY3DPEHPK3PXP'));
    const [setupUrl, setupInit] = fetch.mock.calls[2] as [string, RequestInit];
    expect(setupUrl).toBe('/api/auth/2fa/setup');
    expect((setupInit.headers as Record<string, string>).Authorization).toBe('Bearer setup.tok');

    await fireEvent.update(screen.getByTestId('totp-code'), '123 456');
    await fireEvent.click(screen.getByTestId('totp-verify'));
    await waitFor(() => expect(screen.getAllByTestId('backup-code').map((li) => li.textContent)).toHaveLength(2));
    await waitFor(() => expect(document.activeElement?.id).toBe('mfa-setup-done'));
    // Not signed in until the person has seen the codes and continues.
    expect(useSessionStore().signedIn).toBe(false);

    await fireEvent.click(screen.getByTestId('mfa-setup-continue'));
    await waitFor(() => expect(router.currentRoute.value.path).toBe('/'));
    expect(useSessionStore().accessToken).toBe('access.tok');
    expect(useSessionStore().user?.id).toBe(7);
  });

  it('offers email codes when the server lists them, and "Use a different account" forgets the set-up token', async () => {
    await signIn(fetchAnswers(noSession, setupRequired(['totp', 'email'])));
    await waitFor(() => expect(screen.getByTestId('email-enable')).toBeTruthy());
    expect(screen.getByTestId('totp-start')).toBeTruthy();
    await fireEvent.click(screen.getByText('Use a different account'));
    await waitFor(() => expect(screen.getByTestId('login-password')).toBeTruthy());
    expect(useSessionStore().accessToken).toBeNull();
  });
});
