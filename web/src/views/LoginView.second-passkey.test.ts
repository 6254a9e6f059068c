// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderAt } from '../testing';
import { fakeAssertion, server, stubWebAuthn } from '../testing-webauthn';
import LoginView from './LoginView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const USER = { id: 1, username: 'alice', email: null, email_verified: false, role: 'user', mfa_enabled: true };
const TOKENS = { access_token: 'a.t', token_type: 'Bearer', expires_in: 900, user: USER, amr: ['pwd', 'hwk'] };
const OPTIONS = {
  options: {
    challenge: 'Y2hhbGxlbmdl',
    rpId: 'localhost',
    allowCredentials: [{ id: 'Y3JlZA', type: 'public-key' }],
    userVerification: 'discouraged',
  },
};
const challengeWith = (methods: string[]) => (): [number, unknown] => [
  200,
  { mfa_required: true, mfa_token: 'mfa.tok', mfa_methods: methods, expires_in: 300 },
];

async function password(): Promise<void> {
  await fireEvent.update(screen.getByLabelText('Username or email'), 'alice');
  await fireEvent.update(screen.getByLabelText('Password'), 'a fine long passphrase');
  await fireEvent.click(screen.getByTestId('login-submit'));
  await waitFor(() => expect(screen.getByTestId('mfa-step')).toBeTruthy());
}

describe('LoginView: a passkey as the second step', () => {
  it('keeps the code first and offers the passkey as a labelled alternative; the passkey signs in', async () => {
    const ceremonies = stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    const calls = server({
      'POST /api/auth/login': challengeWith(['totp', 'passkey']),
      'POST /api/auth/2fa/passkey/options': () => [200, OPTIONS],
      'POST /api/auth/2fa/login': () => [200, TOKENS],
    });
    const { router } = await renderAt(LoginView, '/login');
    await password();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('mfa-code')));
    expect(screen.getByTestId('mfa-method-totp').getAttribute('aria-pressed')).toBe('true');
    // Not one of the code methods: a button of its own, after them, that says what it does.
    expect(screen.queryByTestId('mfa-method-passkey')).toBeNull();
    expect(screen.getByText('Or confirm with a passkey instead of a code.')).toBeTruthy();
    const button = screen.getByRole('button', { name: 'Use a passkey' });
    expect(button.classList.contains('primary')).toBe(false);

    await fireEvent.click(button);
    await waitFor(() => expect(router.currentRoute.value.path).toBe('/'));
    expect(calls.find((c) => c.key.endsWith('2fa/passkey/options'))?.body).toEqual({ mfa_token: 'mfa.tok' });
    const login = calls.find((c) => c.key.endsWith('2fa/login'))?.body as Record<string, unknown>;
    expect(login).toMatchObject({ mfa_token: 'mfa.tok', method: 'passkey' });
    expect(login.code).toBeUndefined();
    expect(login.response).toMatchObject({ id: 'Y3JlZA', type: 'public-key', response: { signature: 'c2ln' } });
    expect(ceremonies).toHaveLength(1);
    expect(ceremonies[0]!.options.publicKey?.userVerification).toBe('discouraged');
  });

  it('makes the passkey the way in when it is the only factor: no code field, the focus on its button', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({
      'POST /api/auth/login': challengeWith(['passkey']),
      'POST /api/auth/2fa/passkey/options': () => [200, OPTIONS],
      'POST /api/auth/2fa/login': () => [200, TOKENS],
    });
    const { router } = await renderAt(LoginView, '/login');
    await password();
    const button = screen.getByRole('button', { name: 'Use a passkey' });
    await waitFor(() => expect(document.activeElement).toBe(button));
    expect(button.classList.contains('primary')).toBe(true);
    expect(screen.queryByTestId('mfa-code')).toBeNull();
    expect(screen.getByTestId('mfa-step').textContent).toMatch(/protected with a passkey/);
    await fireEvent.click(button);
    await waitFor(() => expect(router.currentRoute.value.path).toBe('/'));
  });

  it('with backup codes left beside the passkey: the passkey first, the backup code after it', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({ 'POST /api/auth/login': challengeWith(['passkey', 'backup_code']) });
    await renderAt(LoginView, '/login');
    await password();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('mfa-passkey')));
    expect(screen.getByTestId('mfa-method-backup').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByText(/No passkey at hand\?/)).toBeTruthy();
  });

  it('says so when the person cancels, sends nothing, and a second try signs in', async () => {
    let tries = 0;
    stubWebAuthn(() =>
      tries++ === 0 ? Promise.reject(new DOMException('No.', 'NotAllowedError')) : Promise.resolve(fakeAssertion()),
    );
    const calls = server({
      'POST /api/auth/login': challengeWith(['totp', 'passkey']),
      'POST /api/auth/2fa/passkey/options': () => [200, OPTIONS],
      'POST /api/auth/2fa/login': () => [200, TOKENS],
    });
    const { router } = await renderAt(LoginView, '/login');
    await password();
    await fireEvent.click(screen.getByRole('button', { name: 'Use a passkey' }));
    await waitFor(() =>
      expect(screen.getByTestId('error-message').textContent).toContain('Cancelled, or the device did not answer.'),
    );
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('error-message')));
    expect(calls.some((c) => c.key.endsWith('2fa/login'))).toBe(false);
    // Still the second step: the code methods are there, and the passkey can be tried again.
    expect(screen.getByTestId('mfa-code')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Use a passkey' }));
    await waitFor(() => expect(router.currentRoute.value.path).toBe('/'));
  });

  it('says the passkey was not accepted when the server refuses it, and stays on the step', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({
      'POST /api/auth/login': challengeWith(['passkey']),
      'POST /api/auth/2fa/passkey/options': () => [200, OPTIONS],
      'POST /api/auth/2fa/login': () => [401, { error: 'invalid_mfa_code', message: 'x' }],
    });
    await renderAt(LoginView, '/login');
    await password();
    await fireEvent.click(screen.getByRole('button', { name: 'Use a passkey' }));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/passkey was not accepted/));
    expect(screen.getByTestId('mfa-step')).toBeTruthy();
  });

  it('goes back to the password when the sign-in attempt has expired, and says so', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({
      'POST /api/auth/login': challengeWith(['passkey']),
      'POST /api/auth/2fa/passkey/options': () => [401, { error: 'mfa_token_invalid', message: 'x' }],
    });
    await renderAt(LoginView, '/login');
    await password();
    await fireEvent.click(screen.getByRole('button', { name: 'Use a passkey' }));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/attempt has expired/));
    expect(screen.queryByTestId('mfa-step')).toBeNull();
    expect(screen.getByTestId('login-password')).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('error-message')));
  });

  it('a code still signs in beside the passkey (the step hands its tokens to the page)', async () => {
    const ceremonies = stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    const calls = server({
      'POST /api/auth/login': challengeWith(['totp', 'passkey']),
      'POST /api/auth/2fa/login': () => [200, TOKENS],
    });
    const { router } = await renderAt(LoginView, '/login');
    await password();
    await fireEvent.update(screen.getByTestId('mfa-code'), '123 456');
    await fireEvent.click(screen.getByTestId('mfa-submit'));
    await waitFor(() => expect(router.currentRoute.value.path).toBe('/'));
    expect(calls.find((c) => c.key.endsWith('2fa/login'))?.body).toEqual({
      mfa_token: 'mfa.tok',
      code: '123456',
      method: 'totp',
    });
    expect(ceremonies).toHaveLength(0);
  });

  it('says why in a browser without the Web Authentication API, and leaves the backup code to type', async () => {
    server({ 'POST /api/auth/login': challengeWith(['passkey', 'backup_code']) });
    await renderAt(LoginView, '/login');
    await password();
    expect(screen.queryByRole('button', { name: 'Use a passkey' })).toBeNull();
    expect(screen.getByTestId('mfa-passkey-unsupported').textContent).toMatch(/cannot use passkeys/);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('mfa-code')));
  });
});
