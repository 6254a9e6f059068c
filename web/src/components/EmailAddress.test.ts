// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/vue';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { setAuthHooks } from '../api/client';
import type { User } from '../api/types';
import { useSessionStore } from '../stores/session';
import EmailAddress from './EmailAddress.vue';
import ReauthDialog from './ReauthDialog.vue';

const user = (email: string | null, verified = false): User => ({
  id: 7,
  username: 'alice',
  email,
  role: 'user',
  email_verified: verified,
  mfa_enabled: false,
  mfa_methods: [],
  created_at: '2026-01-15T12:00:00.000Z',
});
const NOTHING_PENDING = { pending_email: null, expires_in: null };

interface Call {
  url: string;
  body: unknown;
}

/** A fetch stub answering by URL: each path has a queue of answers, every call is recorded. */
function server(routes: Record<string, Array<[number, unknown]>>): Call[] {
  const calls: Call[] = [];
  const stub = (async (input: string, init: RequestInit) => {
    calls.push({ url: input, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const [status, body] = routes[input]?.shift() ?? [404, { error: 'not_found', message: 'Not found.' }];
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }) as unknown as typeof fetch;
  vi.stubGlobal('fetch', stub);
  return calls;
}

/** The section beside the "Confirm it's you" dialog, signed in as `who`, the client's hooks wired as main.ts does. */
function mount(who: User): void {
  const pinia = createPinia();
  setActivePinia(pinia);
  const session = useSessionStore();
  session.accept({ access_token: 'old.token', token_type: 'Bearer', expires_in: 600, refresh_token: 'r', user: who });
  setAuthHooks({
    token: () => session.accessToken,
    refresh: async () => false,
    expired: () => undefined,
    reauthenticate: () => session.requestReauth(),
  });
  const Page = defineComponent({ setup: () => () => [h(EmailAddress), h(ReauthDialog)] });
  render(Page, { global: { plugins: [pinia] } });
}

afterEach(() => {
  cleanup();
  setAuthHooks(null);
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
});

describe('EmailAddress', () => {
  it('adds an address to an account without one: the link goes out, the change shows as pending, the focus moves to the result', async () => {
    const calls = server({
      '/api/auth/email/pending': [[200, NOTHING_PENDING]],
      '/api/auth/email/change': [[202, { pending_email: 'new@example.com', expires_in: 86400 }]],
    });
    mount(user(null));
    expect(screen.getByTestId('email-current').textContent).toMatch(/None/);
    expect(screen.queryByTestId('email-resend')).toBeNull();
    expect(screen.getByTestId('email-new').id).toBe('email-new');
    expect(document.querySelector('label[for="email-new"]')?.textContent).toBe('Email address');
    await fireEvent.update(screen.getByTestId('email-new'), ' new@example.com ');
    await fireEvent.click(screen.getByRole('button', { name: 'Add an email address' }));

    await waitFor(() => expect(screen.getByTestId('email-pending').textContent).toMatch(/new@example\.com/));
    const notice = screen.getByTestId('notice');
    expect(notice.textContent).toMatch(/sent a link to new@example\.com/);
    await waitFor(() => expect(document.activeElement).toBe(notice));
    expect(calls.find((c) => c.url === '/api/auth/email/change')?.body).toEqual({ email: 'new@example.com' });
  });

  it('an old sign-in asks "Confirm it\'s you" first, then sends the change', async () => {
    const calls = server({
      '/api/auth/email/pending': [[200, NOTHING_PENDING]],
      '/api/auth/email/change': [
        [403, { error: 'reauth_required', message: 'Confirm it is you.' }],
        [202, { pending_email: 'moved@example.com', expires_in: 86400 }],
      ],
      '/api/auth/reauth': [
        [
          200,
          {
            access_token: 'new.token',
            token_type: 'Bearer',
            expires_in: 600,
            refresh_token: 'r2',
            user: user('old@example.com', true),
          },
        ],
      ],
    });
    mount(user('old@example.com', true));
    expect(screen.getByTestId('email-verified').textContent).toMatch(/\(verified\)/);
    await fireEvent.update(screen.getByLabelText('New email address'), 'moved@example.com');
    await fireEvent.click(screen.getByRole('button', { name: 'Change email address' }));
    await screen.findByRole('dialog', { name: "Confirm it's you" });
    await fireEvent.update(screen.getByTestId('reauth-password'), 'a fine long passphrase');
    await fireEvent.click(screen.getByTestId('reauth-submit'));
    await waitFor(() =>
      expect(screen.getByTestId('notice').textContent).toMatch(/until then old@example\.com keeps working/),
    );
    expect(calls.map((c) => c.url).filter((url) => url !== '/api/auth/email/pending')).toEqual([
      '/api/auth/email/change',
      '/api/auth/reauth',
      '/api/auth/email/change',
    ]);
  });

  it('says a taken address beside the field, and resends the verification link of an unverified address', async () => {
    const calls = server({
      '/api/auth/email/pending': [[200, NOTHING_PENDING]],
      '/api/auth/email/change': [[409, { error: 'email_taken', message: 'This email address is already registered.' }]],
      '/api/auth/email/verify/resend': [[202, { accepted: true }]],
    });
    mount(user('me@example.com'));
    expect(screen.getByTestId('email-verified').textContent).toMatch(/not verified/);
    await fireEvent.update(screen.getByLabelText('New email address'), 'taken@example.com');
    await fireEvent.click(screen.getByRole('button', { name: 'Change email address' }));
    await waitFor(() => expect(screen.getByTestId('error-email').textContent).toMatch(/already exists/));
    expect(screen.queryByTestId('email-pending')).toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Resend verification link' }));
    await waitFor(() =>
      expect(screen.getByTestId('notice').textContent).toMatch(/new verification link to me@example\.com/),
    );
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('notice')));
    expect(calls.find((c) => c.url === '/api/auth/email/verify/resend')?.body).toEqual({ email: 'me@example.com' });
  });
});
