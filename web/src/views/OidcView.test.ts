// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { setAuthHooks } from '../api/client';
import ReauthDialog from '../components/ReauthDialog.vue';
import { useSessionStore } from '../stores/session';
import { renderAt } from '../testing';
import OidcView from './OidcView.vue';

const UID = 'n0tR3alUid-abcdefghijk';
const BASE = `/api/oidc/interaction/${UID}`;
const RESUME = `http://localhost:3000/oidc/auth/${UID}`;

const user = {
  id: 7,
  username: 'alice',
  email: 'alice@example.com',
  role: 'user',
  email_verified: true,
  mfa_enabled: false,
  mfa_methods: [],
  created_at: '2026-01-15T12:00:00.000Z',
};
const tokens = (access: string): [number, unknown] => [
  200,
  { access_token: access, token_type: 'Bearer', expires_in: 600, refresh_token: 'r', user },
];
const noSession: [number, unknown] = [401, { error: 'refresh_token_invalid', message: 'x' }];
const interaction = (overrides: Record<string, unknown> = {}): [number, unknown] => [
  200,
  {
    uid: UID,
    prompt: 'login',
    client: { client_id: 'grafana-client', client_name: 'Grafana' },
    scopes: ['openid', 'profile'],
    claims: [],
    reauth_required: false,
    max_age: null,
    acr_values: [],
    ...overrides,
  },
];
const next: [number, unknown] = [200, { redirect_to: RESUME }];
const reauthRequired: [number, unknown] = [403, { error: 'reauth_required', message: 'Confirm it is you.' }];

interface Call {
  call: string;
  body: unknown;
  authorization: string | undefined;
}

/** A fetch stub answering by method and path from a queue each; every call is recorded. */
function server(routes: Record<string, Array<[number, unknown] | Promise<[number, unknown]>>>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit) => {
    const call = `${init.method ?? 'GET'} ${input}`;
    const headers = init.headers as Record<string, string>;
    calls.push({
      call,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
      authorization: headers.Authorization,
    });
    const [status, body] = (await routes[call]?.shift()) ?? [404, { error: 'not_found', message: 'Not found.' }];
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  });
  return calls;
}

let assign: ReturnType<typeof vi.fn>;

/** The page beside the app's "Confirm it's you" dialog (App.vue), with the client's hooks as main.ts sets them. */
async function open(): Promise<void> {
  setAuthHooks({
    token: () => useSessionStore().accessToken,
    refresh: () => useSessionStore().refresh(),
    expired: () => undefined,
    reauthenticate: () => useSessionStore().requestReauth(),
  });
  const Page = defineComponent({ setup: () => () => [h(OidcView), h(ReauthDialog)] });
  await renderAt(Page, `/oidc/${UID}`);
}

const calls = (log: Call[]): string[] => log.map((c) => c.call);

beforeEach(() => {
  document.body.innerHTML = '';
  assign = vi.fn();
  vi.stubGlobal('location', { href: `http://localhost:3000/app/oidc/${UID}`, assign });
});
afterEach(() => {
  cleanup();
  setAuthHooks(null);
  vi.unstubAllGlobals();
});

describe('OidcView', () => {
  it('says it is loading while the interaction is on its way', async () => {
    server({ 'POST /api/auth/refresh': [noSession], [`GET ${BASE}`]: [new Promise(() => undefined)] });
    await open();
    expect(screen.getByTestId('oidc-page')).toBeTruthy();
    expect(screen.getByRole('status').textContent).toMatch(/Loading the sign-in request/);
    expect(screen.queryByTestId('login-username')).toBeNull();
  });

  it('says the request has expired, and what to do, when the interaction is not found (404)', async () => {
    server({ 'POST /api/auth/refresh': [tokens('access.tok')] });
    await open();
    const message = await screen.findByTestId('oidc-error');
    expect(message.textContent).toMatch(/expired or was started in another browser\. Go back to the application/);
    await waitFor(() => expect(document.activeElement).toBe(message));
    expect(screen.queryByTestId('login-username')).toBeNull();
    expect(assign).not.toHaveBeenCalled();
  });

  it('signed in already (single sign-on): hands the access token over at once and follows redirect_to', async () => {
    const log = server({
      'POST /api/auth/refresh': [tokens('access.tok')],
      [`GET ${BASE}`]: [interaction()],
      [`POST ${BASE}/login`]: [next],
    });
    await open();
    await waitFor(() => expect(assign).toHaveBeenCalledWith(RESUME));
    expect(calls(log)).toEqual(['POST /api/auth/refresh', `GET ${BASE}`, `POST ${BASE}/login`]);
    expect(log[2]).toEqual({ call: `POST ${BASE}/login`, body: {}, authorization: 'Bearer access.tok' });
    expect(screen.queryByTestId('login-username')).toBeNull();
  });

  it('with reauth_required, asks "Confirm it\'s you" first, then signs in with the new token', async () => {
    const log = server({
      'POST /api/auth/refresh': [tokens('old.tok')],
      [`GET ${BASE}`]: [interaction({ reauth_required: true })],
      'POST /api/auth/reauth': [tokens('fresh.tok')],
      [`POST ${BASE}/login`]: [next],
    });
    await open();
    await screen.findByRole('dialog', { name: "Confirm it's you" });
    expect(calls(log)).not.toContain(`POST ${BASE}/login`);
    await fireEvent.update(screen.getByTestId('reauth-password'), 'a fine long passphrase');
    await fireEvent.click(screen.getByTestId('reauth-submit'));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(RESUME));
    expect(log.at(-1)).toEqual({ call: `POST ${BASE}/login`, body: {}, authorization: 'Bearer fresh.tok' });
  });

  it('a 403 reauth_required from login opens the dialog too; cancelling it leaves Continue and Cancel', async () => {
    const log = server({
      'POST /api/auth/refresh': [tokens('old.tok')],
      [`GET ${BASE}`]: [interaction({ acr_values: ['mfa'] })],
      [`POST ${BASE}/login`]: [reauthRequired],
      [`POST ${BASE}/abort`]: [next],
    });
    await open();
    await screen.findByRole('dialog', { name: "Confirm it's you" });
    await fireEvent.click(screen.getByTestId('reauth-cancel'));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/Grafana asks you to confirm/));
    expect(screen.getByTestId('oidc-signed-in-as').textContent).toBe('alice');
    expect(screen.getByTestId('oidc-client-name').textContent).toBe('Grafana');
    await fireEvent.click(screen.getByTestId('oidc-cancel'));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(RESUME));
    expect(log.at(-1)).toMatchObject({ call: `POST ${BASE}/abort`, body: {} });
  });

  it('"Use another account" signs out of Twofold and shows the sign-in form', async () => {
    const log = server({
      'POST /api/auth/refresh': [tokens('old.tok')],
      [`GET ${BASE}`]: [interaction({ reauth_required: true })],
      'POST /api/auth/logout': [[204, null]],
    });
    await open();
    await screen.findByRole('dialog', { name: "Confirm it's you" });
    await fireEvent.click(screen.getByTestId('reauth-cancel'));
    await fireEvent.click(await screen.findByTestId('oidc-switch'));
    await waitFor(() => expect(screen.getByTestId('login-username')).toBeTruthy());
    expect(calls(log)).toContain('POST /api/auth/logout');
    expect(useSessionStore().signedIn).toBe(false);
    expect(calls(log)).not.toContain(`POST ${BASE}/login`);
  });

  it('never follows a redirect_to that is not a web address', async () => {
    server({
      'POST /api/auth/refresh': [tokens('access.tok')],
      [`GET ${BASE}`]: [interaction({ prompt: 'consent' })],
      [`POST ${BASE}/consent`]: [[200, { redirect_to: 'javascript:alert(document.domain)' }]],
    });
    await open();
    await fireEvent.click(await screen.findByTestId('oidc-allow'));
    await waitFor(() => expect(screen.getByTestId('error-message')).toBeTruthy());
    expect(assign).not.toHaveBeenCalled();
  });

  it('not signed in: the sign-in form under the application name, then login with the new token', async () => {
    const log = server({
      'POST /api/auth/refresh': [noSession],
      [`GET ${BASE}`]: [interaction({ reauth_required: true })],
      'POST /api/auth/login': [tokens('new.tok')],
      [`POST ${BASE}/login`]: [next],
    });
    await open();
    expect((await screen.findByTestId('oidc-client-name')).textContent).toBe('Grafana');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toMatch(/Sign in to continue to Grafana/);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('login-username')));
    await fireEvent.update(screen.getByTestId('login-username'), 'alice');
    await fireEvent.update(screen.getByTestId('login-password'), 'a fine long passphrase');
    await fireEvent.click(screen.getByTestId('login-submit'));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(RESUME));
    // Just signed in: no "Confirm it's you" although the application asked for a fresh sign-in.
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(log.at(-1)).toEqual({ call: `POST ${BASE}/login`, body: {}, authorization: 'Bearer new.tok' });
  });

  it('Cancel on the sign-in step aborts, and names the client by its id when it has no name', async () => {
    const log = server({
      'POST /api/auth/refresh': [noSession],
      [`GET ${BASE}`]: [interaction({ client: { client_id: 'grafana-client', client_name: null } })],
      [`POST ${BASE}/abort`]: [next],
    });
    await open();
    expect((await screen.findByTestId('oidc-client-name')).textContent).toBe('grafana-client');
    await fireEvent.click(screen.getByTestId('oidc-cancel'));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(RESUME));
    expect(calls(log)).toEqual(['POST /api/auth/refresh', `GET ${BASE}`, `POST ${BASE}/abort`]);
  });

  it('consent: names the application, lists each scope in words, says who is signed in; Allow consents', async () => {
    const log = server({
      'POST /api/auth/refresh': [tokens('access.tok')],
      [`GET ${BASE}`]: [
        interaction({
          prompt: 'consent',
          scopes: ['openid', 'profile', 'email', 'roles', 'offline_access', 'reports:read'],
        }),
      ],
      [`POST ${BASE}/consent`]: [next],
    });
    await open();
    const consent = await screen.findByTestId('oidc-consent');
    expect(consent.querySelector('h1')?.textContent).toMatch(/Allow Grafana to use your Twofold account\?/);
    await waitFor(() => expect(document.activeElement).toBe(consent.querySelector('h1')));
    expect(screen.getAllByTestId('oidc-scope').map((li) => li.textContent?.trim())).toEqual([
      'Who you are: an identifier for your Twofold account',
      'Your username',
      'Your email address, and whether it is verified',
      'Your role in Twofold',
      'Keep access while you are away, without asking you again',
      'Permission: reports:read',
    ]);
    expect(screen.getByTestId('oidc-signed-in-as').textContent).toBe('alice');
    await fireEvent.click(screen.getByTestId('oidc-allow'));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(RESUME));
    expect(log.at(-1)).toEqual({ call: `POST ${BASE}/consent`, body: {}, authorization: 'Bearer access.tok' });
  });

  it('consent: Deny aborts; a failure is said and the buttons work again', async () => {
    const log = server({
      'POST /api/auth/refresh': [tokens('access.tok')],
      [`GET ${BASE}`]: [interaction({ prompt: 'consent' })],
      [`POST ${BASE}/abort`]: [[503, { error: 'service_unavailable', message: 'x' }], next],
    });
    await open();
    await fireEvent.click(await screen.findByTestId('oidc-deny'));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent).toMatch(/temporarily unavailable/));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('error-message')));
    expect((screen.getByTestId('oidc-allow') as HTMLButtonElement).disabled).toBe(false);
    await fireEvent.click(screen.getByTestId('oidc-deny'));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(RESUME));
    expect(calls(log).filter((c) => c.endsWith('/abort'))).toHaveLength(2);
    expect(calls(log)).not.toContain(`POST ${BASE}/consent`);
  });
});
