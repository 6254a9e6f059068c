// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchAnswers, renderAt } from '../testing';
import ResetPasswordView from './ResetPasswordView.vue';
import VerifyEmailView from './VerifyEmailView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const TOKEN = 'QmV0dGVyLXRoYW4tYS1yZWFsLXRva2VuLTEyMzQ1Njc4OQ';

describe('ResetPasswordView', () => {
  it('takes the token out of the address bar at once, and still uses it to reset', async () => {
    const fetch = vi.fn(
      fetchAnswers([401, { error: 'refresh_token_invalid', message: 'x' }], [200, { valid: true }], [204, null]),
    );
    vi.stubGlobal('fetch', fetch);
    const { router } = await renderAt(ResetPasswordView, `/reset-password?token=${TOKEN}&lang=en`);
    await waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/reset-password?lang=en'));
    expect(router.currentRoute.value.fullPath).not.toContain(TOKEN);
    // Replaced, not pushed: "Back" does not bring the token's address back either.
    router.back();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(router.currentRoute.value.fullPath).not.toContain(TOKEN);

    await fireEvent.update(await screen.findByLabelText('New password'), 'correct horse battery staple');
    await fireEvent.update(screen.getByLabelText('Confirm new password'), 'correct horse battery staple');
    await fireEvent.click(screen.getByTestId('reset-submit'));
    await waitFor(() => expect(fetch.mock.calls.some(([url]) => url === '/api/auth/password/reset')).toBe(true));
    const [, init] = fetch.mock.calls.find(([url]) => url === '/api/auth/password/reset') as [string, RequestInit];
    expect(JSON.parse(String(init.body))).toEqual({ token: TOKEN, new_password: 'correct horse battery staple' });
  });

  it('shows the same strength hint as registration', async () => {
    vi.stubGlobal(
      'fetch',
      fetchAnswers([401, { error: 'refresh_token_invalid', message: 'x' }], [200, { valid: true }]),
    );
    await renderAt(ResetPasswordView, `/reset-password?token=${TOKEN}`);
    await fireEvent.update(await screen.findByLabelText('New password'), 'password123');
    await waitFor(() => expect(screen.getByTestId('password-strength').textContent).toMatch(/Too easy to guess/), {
      timeout: 10_000,
    });
  });
});

describe('ResetPasswordView with a dead link', () => {
  it('says so before asking for a password, and offers a new link', async () => {
    const fetch = vi.fn(
      fetchAnswers(
        [401, { error: 'refresh_token_invalid', message: 'x' }],
        [400, { error: 'validation_failed', message: 'x', fields: { token: 'is invalid or has expired' } }],
      ),
    );
    vi.stubGlobal('fetch', fetch);
    await renderAt(ResetPasswordView, `/reset-password?token=${TOKEN}`);
    await screen.findByTestId('reset-link-invalid');
    expect(screen.getByTestId('error-message').textContent).toMatch(/invalid, used or expired/);
    expect(screen.queryByLabelText('New password')).toBeNull();
    const [, init] = fetch.mock.calls.find(([url]) => url === '/api/auth/password/reset/check') as [
      string,
      RequestInit,
    ];
    expect(JSON.parse(String(init.body))).toEqual({ token: TOKEN });
  });
});

describe('VerifyEmailView', () => {
  it('takes the token out of the address bar at once, and still verifies with it', async () => {
    const fetch = vi.fn(fetchAnswers([401, { error: 'refresh_token_invalid', message: 'x' }], [200, { id: 1 }]));
    vi.stubGlobal('fetch', fetch);
    const { router } = await renderAt(VerifyEmailView, `/verify-email?token=${TOKEN}`);
    await waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/verify-email'));
    router.back();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(router.currentRoute.value.fullPath).not.toContain(TOKEN);
    await waitFor(() => expect(fetch.mock.calls.some(([url]) => url === '/api/auth/email/verify')).toBe(true));
    const [, init] = fetch.mock.calls.find(([url]) => url === '/api/auth/email/verify') as [string, RequestInit];
    expect(JSON.parse(String(init.body))).toEqual({ token: TOKEN });
    await waitFor(() => expect(screen.getByTestId('verify-result').dataset.state).toBe('ok'));
  });
});
