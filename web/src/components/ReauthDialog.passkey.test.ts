// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/vue';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { setAuthHooks } from '../api/client';
import type { Tokens, User } from '../api/types';
import { useSessionStore } from '../stores/session';
import { fakeAssertion, server, stubWebAuthn } from '../testing-webauthn';
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
const tokens = (mfa: string[]): Tokens => ({
  access_token: 'new.token',
  token_type: 'Bearer',
  expires_in: 600,
  refresh_token: 'r2',
  user: user(mfa),
});
const OPTIONS = { options: { challenge: 'Y2hhbGxlbmdl', rpId: 'localhost', allowCredentials: [] } };
const REAUTH_REQUIRED: [number, unknown] = [403, { error: 'reauth_required', message: 'Confirm it is you.' }];

/** A sensitive change (new backup codes) answering 403 reauth_required once, then 200. */
function regenerateRoute(): (body: unknown) => [number, unknown] {
  let calls = 0;
  return () => (calls++ === 0 ? REAUTH_REQUIRED : [200, { backup_codes: ['aaaaa-bbbbb'] }]);
}

/** RegenerateCodes beside the dialog, with the client's hooks wired as main.ts does. */
function mount(mfa: string[]) {
  const pinia = createPinia();
  setActivePinia(pinia);
  const session = useSessionStore();
  session.accept({ ...tokens(mfa), access_token: 'old.token' });
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
  await screen.findByRole('dialog', { name: "Confirm it's you" });
}

beforeEach(() => {
  document.body.innerHTML = '';
});
afterEach(() => {
  cleanup();
  setAuthHooks(null);
  vi.unstubAllGlobals();
});

describe('ReauthDialog with a passkey', () => {
  it('re-authenticates with the passkey alone: options for this session, the assertion, then the retry', async () => {
    const ceremonies = stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    const calls = server({
      'POST /api/auth/2fa/backup-codes': regenerateRoute(),
      'POST /api/auth/passkeys/reauth/options': () => [200, OPTIONS],
      'POST /api/auth/reauth': () => [200, tokens(['totp', 'passkey'])],
    });
    const { codes } = mount(['totp', 'passkey']);
    await regenerate();
    const button = screen.getByRole('button', { name: 'Use a passkey' });
    await waitFor(() => expect(document.activeElement).toBe(button));
    expect(screen.getByTestId('reauth-dialog').textContent).toMatch(/Use a passkey, or enter your password and a code/);
    await fireEvent.click(button);
    await waitFor(() => expect(codes).toHaveBeenCalledWith(['aaaaa-bbbbb']));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls.map((c) => c.key)).toEqual([
      'POST /api/auth/2fa/backup-codes',
      'POST /api/auth/passkeys/reauth/options',
      'POST /api/auth/reauth',
      'POST /api/auth/2fa/backup-codes',
    ]);
    expect(calls[1]?.body).toEqual({});
    const reauth = calls[2]?.body as Record<string, unknown>;
    // The passkey replaces password and code: the contract takes `response` alone.
    expect(Object.keys(reauth)).toEqual(['response']);
    expect(reauth.response).toMatchObject({ id: 'Y3JlZA', type: 'public-key' });
    expect(ceremonies).toHaveLength(1);
  });

  it('lets a passkey-only account confirm with its password alone: no code asked for', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    const calls = server({
      'POST /api/auth/2fa/backup-codes': regenerateRoute(),
      'POST /api/auth/reauth': () => [200, tokens(['passkey'])],
    });
    const { codes } = mount(['passkey']);
    await regenerate();
    expect(screen.queryByTestId('reauth-code')).toBeNull();
    expect(screen.getByTestId('reauth-dialog').textContent).toMatch(/Use a passkey, or enter your password, and/);
    await fireEvent.update(screen.getByTestId('reauth-password'), 'a fine long passphrase');
    await fireEvent.click(screen.getByTestId('reauth-submit'));
    await waitFor(() => expect(codes).toHaveBeenCalled());
    expect(calls.find((c) => c.key === 'POST /api/auth/reauth')?.body).toEqual({ password: 'a fine long passphrase' });
  });

  it('says so when the person cancels the passkey, and keeps the dialog open for another try', async () => {
    let tries = 0;
    stubWebAuthn(() =>
      tries++ === 0 ? Promise.reject(new DOMException('No.', 'NotAllowedError')) : Promise.resolve(fakeAssertion()),
    );
    const calls = server({
      'POST /api/auth/2fa/backup-codes': regenerateRoute(),
      'POST /api/auth/passkeys/reauth/options': () => [200, OPTIONS],
      'POST /api/auth/reauth': () => [200, tokens(['passkey'])],
    });
    const { codes } = mount(['passkey']);
    await regenerate();
    await fireEvent.click(screen.getByTestId('reauth-passkey'));
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toMatch(/Cancelled, or the device did not answer/),
    );
    expect(screen.getByRole('dialog')).toBeTruthy();
    expect(calls.some((c) => c.key === 'POST /api/auth/reauth')).toBe(false);
    await fireEvent.click(screen.getByTestId('reauth-passkey'));
    await waitFor(() => expect(codes).toHaveBeenCalled());
  });

  it('says the passkey was not accepted when the server refuses it', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({
      'POST /api/auth/2fa/backup-codes': regenerateRoute(),
      'POST /api/auth/passkeys/reauth/options': () => [200, OPTIONS],
      'POST /api/auth/reauth': () => [401, { error: 'invalid_credentials', message: 'x' }],
    });
    const { codes } = mount(['totp', 'passkey']);
    await regenerate();
    await fireEvent.click(screen.getByTestId('reauth-passkey'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/passkey was not accepted/));
    expect(codes).not.toHaveBeenCalled();
  });

  it('offers no passkey to an account without one', async () => {
    stubWebAuthn(() => Promise.resolve(fakeAssertion()));
    server({ 'POST /api/auth/2fa/backup-codes': regenerateRoute() });
    mount(['totp']);
    await regenerate();
    expect(screen.queryByTestId('reauth-passkey')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('reauth-password')));
  });
});
