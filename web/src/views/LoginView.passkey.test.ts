// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderAt } from '../testing';
import { LOGIN_OPTIONS, fakeAssertion, server, stubWebAuthn } from '../testing-webauthn';
import LoginView from './LoginView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const USER = { id: 1, username: 'alice', email: null, email_verified: false, role: 'user', mfa_enabled: false };
const TOKENS = {
  access_token: 'a.t',
  token_type: 'Bearer',
  expires_in: 900,
  user: USER,
  amr: ['hwk', 'mfa'],
};

describe('LoginView: sign in with a passkey', () => {
  it('signs in with the passkey alone: discoverable options ({}), the assertion, then the home page', async () => {
    const ceremonies = stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    const calls = server({
      'POST /api/auth/passkeys/login/options': () => [200, LOGIN_OPTIONS],
      'POST /api/auth/passkeys/login/verify': () => [200, TOKENS],
    });
    const { router } = await renderAt(LoginView, '/login');
    expect(screen.getByLabelText('Username or email').getAttribute('autocomplete')).toBe('username webauthn');
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
    await waitFor(() => expect(router.currentRoute.value.path).toBe('/'));
    expect(calls.find((c) => c.key.endsWith('login/options'))?.body).toEqual({});
    const verify = calls.find((c) => c.key.endsWith('login/verify'))?.body as Record<string, unknown>;
    expect(verify.flow_token).toBe('flow.tok');
    expect(verify.response).toMatchObject({ id: 'Y3JlZA', type: 'public-key', response: { signature: 'c2ln' } });
    expect(ceremonies).toHaveLength(1);
    expect(ceremonies[0]!.options.mediation).toBeUndefined();
  });

  it('opens the second step when the passkey answer is an mfa_challenge', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({
      'POST /api/auth/passkeys/login/options': () => [200, LOGIN_OPTIONS],
      'POST /api/auth/passkeys/login/verify': () => [
        200,
        { mfa_required: true, mfa_token: 'mfa.tok', mfa_methods: ['totp'], expires_in: 300 },
      ],
    });
    await renderAt(LoginView, '/login');
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
    await waitFor(() => expect(screen.getByTestId('mfa-step')).toBeTruthy());
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('mfa-code')));
  });

  it.each([
    ['the person cancels (NotAllowedError)', 'NotAllowedError', 'Cancelled, or the device did not answer.'],
    ['the browser refuses the address (SecurityError)', 'SecurityError', 'refused to use a passkey on this address'],
  ])('says so when %s, and sends nothing to verify', async (_, error, message) => {
    stubWebAuthn(() => Promise.reject(new DOMException('No.', error)));
    const calls = server({ 'POST /api/auth/passkeys/login/options': () => [200, LOGIN_OPTIONS] });
    await renderAt(LoginView, '/login');
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toContain(message));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('error-message')));
    expect(calls.some((c) => c.key.endsWith('login/verify'))).toBe(false);
  });

  it('says the passkey was not accepted when the server refuses the assertion', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({
      'POST /api/auth/passkeys/login/options': () => [200, LOGIN_OPTIONS],
      'POST /api/auth/passkeys/login/verify': () => [401, { error: 'invalid_credentials', message: 'x' }],
    });
    await renderAt(LoginView, '/login');
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/passkey was not accepted/));
  });

  it('offers passkeys in the autofill in the background, and stops asking when the page is left', async () => {
    let signal: AbortSignal | undefined;
    const ceremonies = stubWebAuthn(
      (_, options) =>
        new Promise((_resolve, reject) => {
          signal = options.signal ?? undefined;
          signal?.addEventListener('abort', () => reject(signal?.reason));
        }),
      { autofill: true },
    );
    server({ 'POST /api/auth/passkeys/login/options': () => [200, LOGIN_OPTIONS] });
    const { unmount } = await renderAt(LoginView, '/login');
    await waitFor(() => expect(ceremonies).toHaveLength(1));
    expect(ceremonies[0]!.options.mediation).toBe('conditional');
    expect(signal?.aborted).toBe(false);
    unmount();
    await waitFor(() => expect(signal?.aborted).toBe(true));
    expect(screen.queryByTestId('error-message')).toBeNull();
  });

  it('keeps quiet when the background request is refused or rate-limited: the person did not ask for it', async () => {
    const ceremonies = stubWebAuthn(() => Promise.reject(new DOMException('No.', 'NotAllowedError')), {
      autofill: true,
    });
    server({ 'POST /api/auth/passkeys/login/options': () => [200, LOGIN_OPTIONS] });
    await renderAt(LoginView, '/login');
    await waitFor(() => expect(ceremonies).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByTestId('error-message')).toBeNull();
    cleanup();
    server({ 'POST /api/auth/passkeys/login/options': () => [429, { error: 'too_many_attempts', message: 'x' }] });
    await renderAt(LoginView, '/login');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByTestId('error-message')).toBeNull();
    expect(ceremonies).toHaveLength(1);
  });

  it('hides the button and says why in a browser without the Web Authentication API', async () => {
    server({});
    await renderAt(LoginView, '/login');
    expect(screen.queryByRole('button', { name: 'Sign in with a passkey' })).toBeNull();
    expect(screen.getByTestId('passkey-unsupported').textContent).toMatch(/cannot use passkeys/);
  });
});
