// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/vue';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { createMemoryHistory } from 'vue-router';
import { setAuthHooks } from '../api/client';
import { makeRouter } from '../router/index';
import { useSessionStore } from '../stores/session';
import DeleteAccount from './DeleteAccount.vue';
import ReauthDialog from './ReauthDialog.vue';

const USER = {
  id: 7,
  username: 'Alice_1',
  email: 'alice@example.com',
  role: 'user',
  email_verified: true,
  mfa_enabled: false,
  mfa_methods: [],
  created_at: '2026-01-15T12:00:00.000Z',
};

interface Call {
  url: string;
  method: string;
  body: unknown;
  authorization: string | undefined;
}

/** Answers by URL from a queue per path; records every call. */
function server(routes: Record<string, Array<[number, unknown]>>): { calls: Call[]; fetch: typeof fetch } {
  const calls: Call[] = [];
  const stub = (async (input: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    calls.push({
      url: input,
      method: init.method ?? 'GET',
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

async function mount() {
  const pinia = createPinia();
  setActivePinia(pinia);
  const session = useSessionStore();
  session.accept({ access_token: 'a.token', token_type: 'Bearer', expires_in: 600, refresh_token: 'r', user: USER });
  setAuthHooks({
    token: () => session.accessToken,
    refresh: async () => false,
    expired: () => undefined,
    reauthenticate: () => session.requestReauth(),
  });
  const router = makeRouter(createMemoryHistory('/app/'));
  await router.push('/security');
  await router.isReady();
  const Page = defineComponent({ setup: () => () => [h(DeleteAccount), h(ReauthDialog)] });
  render(Page, { global: { plugins: [pinia, router] } });
  return { session, router };
}

beforeEach(() => {
  document.body.innerHTML = '';
});
afterEach(() => {
  cleanup();
  setAuthHooks(null);
  vi.unstubAllGlobals();
});

describe('DeleteAccount', () => {
  it('says what happens and keeps the button disabled until the username is typed exactly', async () => {
    vi.stubGlobal('fetch', server({}).fetch);
    await mount();
    expect(screen.getByRole('heading', { name: 'Delete account' })).toBeTruthy();
    expect(document.body.textContent).toMatch(/cannot be undone/);
    expect(document.body.textContent).toMatch(/security log keeps its entries/);
    const field = screen.getByLabelText('Type your username, Alice_1, to confirm');
    const button = screen.getByTestId('delete-account') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    for (const wrong of ['alice_1', 'Alice_1 ', 'Alice_']) {
      await fireEvent.update(field, wrong);
      expect(button.disabled, wrong).toBe(true);
    }
    await fireEvent.update(field, 'Alice_1');
    expect(button.disabled).toBe(false);
  });

  it('confirms it is you when asked, deletes, signs out and shows the sign-in page with a message', async () => {
    const api = server({
      '/api/user/me': [
        [403, { error: 'reauth_required', message: 'Confirm it is you.' }],
        [204, null],
      ],
      '/api/auth/reauth': [
        [200, { access_token: 'new.token', token_type: 'Bearer', expires_in: 600, refresh_token: 'r2', user: USER }],
      ],
    });
    vi.stubGlobal('fetch', api.fetch);
    const { session, router } = await mount();
    await fireEvent.update(screen.getByTestId('delete-confirm'), 'Alice_1');
    await fireEvent.click(screen.getByTestId('delete-account'));

    await screen.findByRole('dialog', { name: "Confirm it's you" });
    await fireEvent.update(screen.getByTestId('reauth-password'), 'a fine long passphrase');
    await fireEvent.click(screen.getByTestId('reauth-submit'));

    await waitFor(() => expect(router.currentRoute.value.name).toBe('login'));
    expect(session.signedIn).toBe(false);
    expect(session.notice).toMatch(/account has been deleted/);
    expect(api.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'DELETE /api/user/me',
      'POST /api/auth/reauth',
      'DELETE /api/user/me',
    ]);
    expect(api.calls[2]).toMatchObject({ body: { confirm: 'Alice_1' }, authorization: 'Bearer new.token' });
  });

  it('shows why when the server refuses (the last administrator), and stays signed in', async () => {
    vi.stubGlobal('fetch', server({ '/api/user/me': [[409, { error: 'last_admin', message: 'x' }]] }).fetch);
    const { session, router } = await mount();
    await fireEvent.update(screen.getByTestId('delete-confirm'), 'Alice_1');
    await fireEvent.click(screen.getByTestId('delete-account'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/last administrator/));
    expect(session.signedIn).toBe(true);
    expect(router.currentRoute.value.name).not.toBe('login');
  });
});
