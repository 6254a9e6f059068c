// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchAnswers, renderAt } from '../testing';
import LoginView from './LoginView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

const noSession: [number, unknown] = [401, { error: 'refresh_token_invalid', message: 'x' }];
const challengeWith = (mfaMethods: string[]): [number, unknown] => [
  200,
  { mfa_required: true, mfa_token: 'mfa.tok', mfa_methods: mfaMethods, expires_in: 300 },
];
/** An account with an authenticator app, email codes and no backup codes left. */
const challenge = challengeWith(['totp', 'email']);

async function signIn(): Promise<void> {
  await fireEvent.update(screen.getByLabelText('Username or email'), 'alice');
  await fireEvent.update(screen.getByLabelText('Password'), 'a fine long passphrase');
  await fireEvent.click(screen.getByTestId('login-submit'));
}

describe('LoginView', () => {
  it('asks for the second factor after an mfa challenge', async () => {
    const fetch = vi.fn(fetchAnswers(noSession, challenge, [401, { error: 'invalid_mfa_code', message: 'x' }]));
    vi.stubGlobal('fetch', fetch);
    await renderAt(LoginView, '/login');
    await signIn();
    await waitFor(() => expect(screen.getByTestId('mfa-step')).toBeTruthy());
    expect(screen.getByTestId('mfa-method-totp')).toBeTruthy();
    expect(screen.getByTestId('mfa-method-email')).toBeTruthy();
    // The server lists 'backup_code' only while the account has backup codes left; this one has none.
    expect(screen.queryByTestId('mfa-method-backup')).toBeNull();
    expect(screen.queryByTestId('login-password')).toBeNull();

    await fireEvent.update(screen.getByTestId('mfa-code'), '123456');
    await fireEvent.click(screen.getByTestId('mfa-submit'));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/incorrect or has expired/));
    const [url, init] = fetch.mock.calls.at(-1) as [string, RequestInit];
    expect(url).toBe('/api/auth/2fa/login');
    expect(JSON.parse(String(init.body))).toEqual({ mfa_token: 'mfa.tok', code: '123456', method: 'totp' });
  });

  it('offers backup codes when the challenge lists them, and sends the chosen method', async () => {
    const fetch = vi.fn(
      fetchAnswers(noSession, challengeWith(['totp', 'backup_code']), [
        401,
        { error: 'invalid_mfa_code', message: 'x' },
      ]),
    );
    vi.stubGlobal('fetch', fetch);
    await renderAt(LoginView, '/login');
    await signIn();
    await waitFor(() => expect(screen.getByTestId('mfa-step')).toBeTruthy());
    expect(screen.getByTestId('mfa-method-totp')).toBeTruthy();
    expect(screen.queryByTestId('mfa-method-email')).toBeNull();
    await fireEvent.click(screen.getByTestId('mfa-method-backup'));
    await fireEvent.update(screen.getByTestId('mfa-code'), 'aaaaa-bbbbb');
    await fireEvent.click(screen.getByTestId('mfa-submit'));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/backup code is incorrect/));
    const [url, init] = fetch.mock.calls.at(-1) as [string, RequestInit];
    expect(url).toBe('/api/auth/2fa/login');
    expect(JSON.parse(String(init.body))).toEqual({ mfa_token: 'mfa.tok', code: 'aaaaa-bbbbb', method: 'backup_code' });
  });

  it('offers only what the challenge lists: an email-only account sees the emailed code first', async () => {
    vi.stubGlobal('fetch', fetchAnswers(noSession, challengeWith(['email'])));
    await renderAt(LoginView, '/login');
    await signIn();
    await waitFor(() => expect(screen.getByTestId('mfa-step')).toBeTruthy());
    expect(screen.queryByTestId('mfa-method-totp')).toBeNull();
    expect(screen.queryByTestId('mfa-method-backup')).toBeNull();
    expect(screen.getByTestId('mfa-method-email').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('mfa-send-email')).toBeTruthy();
  });

  it('sends an emailed code and counts down before a resend', async () => {
    vi.stubGlobal('fetch', fetchAnswers(noSession, challenge, [202, { sent: true, expires_in: 600 }]));
    await renderAt(LoginView, '/login');
    await signIn();
    await waitFor(() => screen.getByTestId('mfa-step'));
    await fireEvent.click(screen.getByTestId('mfa-method-email'));
    await fireEvent.click(await screen.findByTestId('mfa-send-email'));
    await waitFor(() => expect(screen.getByTestId('mfa-resend-countdown').textContent).toMatch(/30 s/));
    expect((screen.getByTestId('mfa-send-email') as HTMLButtonElement).disabled).toBe(true);
  });

  it('has the focus in the username field on load, in the code field after the password, on the error after a wrong code', async () => {
    vi.stubGlobal('fetch', fetchAnswers(noSession, challenge, [401, { error: 'invalid_mfa_code', message: 'x' }]));
    await renderAt(LoginView, '/login');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Username or email')));
    await signIn();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('mfa-code')));
    await fireEvent.update(screen.getByTestId('mfa-code'), '123456');
    await fireEvent.click(screen.getByTestId('mfa-submit'));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('error-message')));
  });

  it('has the focus in the password field on load when the username is filled in (after registering)', async () => {
    vi.stubGlobal('fetch', fetchAnswers(noSession));
    await renderAt(LoginView, '/login?username=alice');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Password')));
  });

  it('shows the wait after too many attempts', async () => {
    vi.stubGlobal(
      'fetch',
      fetchAnswers(noSession, [429, { error: 'too_many_attempts', message: 'x' }, { 'Retry-After': '90' }]),
    );
    await renderAt(LoginView, '/login');
    await signIn();
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/90 seconds/));
  });
});
