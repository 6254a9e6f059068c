// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OidcClient } from '../api/types';
import { renderAt } from '../testing';
import OidcClients from './OidcClients.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const WIKI: OidcClient = {
  client_id: 'wiki-id',
  name: 'Wiki',
  public: false,
  redirect_uris: ['https://wiki.example/cb'],
  post_logout_redirect_uris: [],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile email offline_access',
  skip_consent: false,
  created_at: '2026-01-15T12:00:00.000Z',
};

type Answer = [number, unknown];

/** Answers by "METHOD path"; every call is recorded with its body. */
function stubServer(answers: Record<string, Answer | (() => Answer)>): Array<{ key: string; body: unknown }> {
  const calls: Array<{ key: string; body: unknown }> = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const key = `${init.method ?? 'GET'} ${url.split('?')[0]}`;
      calls.push({ key, body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined });
      const entry = answers[key];
      const [status, body] = typeof entry === 'function' ? entry() : (entry ?? [500, { error: 'internal_error' }]);
      return new Response(status === 204 ? null : JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' },
      });
    }),
  );
  return calls;
}

describe('OidcClients', () => {
  it('creates a client from the form and shows its secret once, with a copy button', async () => {
    let items: OidcClient[] = [];
    const calls = stubServer({
      'GET /api/admin/oidc/clients': () => [200, { items }],
      'POST /api/admin/oidc/clients': () => {
        items = [{ ...WIKI, name: 'Blog', client_id: 'blog-id' }];
        return [201, { ...items[0], client_secret: 's3cret-value' }];
      },
    });
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    await renderAt(OidcClients, '/admin');
    await waitFor(() => expect(screen.getByText('No clients yet.')).toBeTruthy());

    await fireEvent.update(screen.getByTestId('oidc-name'), 'Blog');
    await fireEvent.update(
      screen.getByTestId('oidc-redirect-uris'),
      'https://blog.example/cb\n\n https://blog.example/2 ',
    );
    await fireEvent.click(screen.getByTestId('oidc-skip-consent'));
    await fireEvent.update(screen.getByTestId('oidc-scopes'), 'openid  email');
    await fireEvent.click(screen.getByTestId('oidc-create'));

    await waitFor(() => expect(screen.getByTestId('oidc-secret-value').textContent).toBe('s3cret-value'));
    expect(calls.find((c) => c.key === 'POST /api/admin/oidc/clients')?.body).toEqual({
      name: 'Blog',
      redirect_uris: ['https://blog.example/cb', 'https://blog.example/2'],
      public: false,
      scopes: ['openid', 'email'],
      skip_consent: true,
    });
    await waitFor(() => expect(screen.getAllByTestId('oidc-client-row')).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('oidc-secret-copy'));
    expect(writeText).toHaveBeenCalledWith('s3cret-value');
    await fireEvent.click(screen.getByTestId('oidc-secret-done'));
    expect(screen.queryByTestId('oidc-secret')).toBeNull();
    expect(document.body.textContent).not.toContain('s3cret-value');
  });

  it('sends a client-credentials client without redirect URIs, and shows the server’s field errors', async () => {
    const calls = stubServer({
      'GET /api/admin/oidc/clients': [200, { items: [] }],
      'POST /api/admin/oidc/clients': [
        400,
        { error: 'validation_failed', message: 'x', fields: { scopes: 'unknown: admin:all' } },
      ],
    });
    await renderAt(OidcClients, '/admin');
    await fireEvent.update(screen.getByTestId('oidc-name'), 'Job');
    await fireEvent.click(screen.getByTestId('oidc-client-credentials'));
    expect(screen.queryByTestId('oidc-redirect-uris')).toBeNull();
    await fireEvent.update(screen.getByTestId('oidc-scopes'), 'admin:all');
    await fireEvent.click(screen.getByTestId('oidc-create'));
    await waitFor(() => expect(screen.getByTestId('error-scope').textContent).toMatch(/unknown: admin:all/));
    expect(calls.find((c) => c.key === 'POST /api/admin/oidc/clients')?.body).toMatchObject({
      redirect_uris: [],
      grants: ['client_credentials'],
    });
  });

  it('sends the post-logout redirect URIs, lists them under the redirect URIs, and shows their field error', async () => {
    let items: OidcClient[] = [];
    const calls = stubServer({
      'GET /api/admin/oidc/clients': () => [200, { items }],
      'POST /api/admin/oidc/clients': () => {
        const body = calls.at(-1)?.body as { post_logout_redirect_uris?: string[] };
        if (body.post_logout_redirect_uris?.includes('/out'))
          return [
            400,
            {
              error: 'validation_failed',
              message: 'x',
              fields: { post_logout_redirect_uris: '"/out" is not an absolute URL' },
            },
          ];
        items = [{ ...WIKI, post_logout_redirect_uris: body.post_logout_redirect_uris ?? [] }];
        return [201, { ...items[0], client_secret: 's3cret-value' }];
      },
    });
    await renderAt(OidcClients, '/admin');
    await fireEvent.update(screen.getByTestId('oidc-name'), 'Wiki');
    await fireEvent.update(screen.getByTestId('oidc-redirect-uris'), 'https://wiki.example/cb');
    await fireEvent.update(screen.getByTestId('oidc-post-logout-uris'), '/out');
    await fireEvent.click(screen.getByTestId('oidc-create'));
    await waitFor(() =>
      expect(screen.getByTestId('error-post_logout_redirect_uri').textContent).toMatch(/not an absolute URL/),
    );
    expect(screen.getByTestId('oidc-post-logout-uris').getAttribute('aria-invalid')).toBe('true');

    await fireEvent.update(screen.getByTestId('oidc-post-logout-uris'), ' https://wiki.example/bye \n\n');
    await fireEvent.click(screen.getByTestId('oidc-create'));
    await waitFor(() =>
      expect(screen.getByTestId('oidc-post-logout-list').textContent).toBe('After sign-out:\nhttps://wiki.example/bye'),
    );
    expect(calls.filter((c) => c.key === 'POST /api/admin/oidc/clients').map((c) => c.body)).toEqual([
      expect.objectContaining({ post_logout_redirect_uris: ['/out'] }),
      expect.objectContaining({ post_logout_redirect_uris: ['https://wiki.example/bye'] }),
    ]);
  });

  it('asks before deleting or replacing a secret, naming the client, and does nothing on Cancel', async () => {
    let items = [WIKI];
    const calls = stubServer({
      'GET /api/admin/oidc/clients': () => [200, { items }],
      'POST /api/admin/oidc/clients/wiki-id/rotate-secret': [200, { client_id: 'wiki-id', client_secret: 'new-one' }],
      'DELETE /api/admin/oidc/clients/wiki-id': () => {
        items = [];
        return [204, null];
      },
    });
    await renderAt(OidcClients, '/admin');
    const row = await screen.findByTestId('oidc-client-row');

    await fireEvent.click(within(row).getByTestId('oidc-rotate'));
    expect(within(row).getByTestId('oidc-question').textContent).toBe(
      'Replace the secret of Wiki? The current one stops working at once.',
    );
    await fireEvent.click(within(row).getByText('Cancel'));
    await fireEvent.click(within(row).getByTestId('oidc-rotate'));
    await fireEvent.click(within(row).getByTestId('oidc-confirm'));
    await waitFor(() => expect(screen.getByTestId('oidc-secret-value').textContent).toBe('new-one'));

    await fireEvent.click(within(screen.getByTestId('oidc-client-row')).getByTestId('oidc-delete'));
    expect(screen.getByTestId('oidc-question').textContent).toBe(
      'Delete Wiki? It can no longer sign anyone in or get tokens.',
    );
    expect(calls.some((c) => c.key.startsWith('DELETE'))).toBe(false);
    await fireEvent.click(screen.getByTestId('oidc-confirm'));
    await waitFor(() => expect(screen.getByTestId('notice').textContent).toBe('Client Wiki deleted.'));
    expect(screen.queryByTestId('oidc-secret')).toBeNull();
    expect(calls.filter((c) => c.key.includes('/oidc/clients/')).map((c) => c.key)).toEqual([
      'POST /api/admin/oidc/clients/wiki-id/rotate-secret',
      'DELETE /api/admin/oidc/clients/wiki-id',
    ]);
  });

  it('says so when the provider is off on this server', async () => {
    stubServer({
      'GET /api/admin/oidc/clients': [404, { error: 'not_found', message: 'The OpenID Connect provider is off.' }],
    });
    await renderAt(OidcClients, '/admin');
    await waitFor(() => expect(screen.getByTestId('oidc-off').textContent).toBe('The OpenID Connect provider is off.'));
    expect(screen.queryByTestId('oidc-create-form')).toBeNull();
  });
});
