// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setAuthHooks } from '../api/client';
import { useSessionStore } from '../stores/session';
import { fetchAnswers, renderAt } from '../testing';
import AccountData from './AccountData.vue';

/** The refresh renderAt's sign-in check tries first. */
const NO_SESSION = [401, { error: 'refresh_token_invalid', message: 'x' }] as [number, unknown];
const EXPORT = {
  exported_at: '2026-01-15T12:00:00.000Z',
  profile: { id: 7, username: 'alice', last_login_at: null },
  sessions: [],
  two_factor: { totp_enabled: false, email_enabled: false, backup_codes_remaining: 0 },
  audit_events: [],
  audit_events_truncated: false,
};

afterEach(() => {
  cleanup();
  setAuthHooks(null);
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('AccountData', () => {
  it('downloads the export as a JSON file named for the user, fetched with the access token', async () => {
    const fetch = vi.fn(fetchAnswers(NO_SESSION, [200, EXPORT]));
    vi.stubGlobal('fetch', fetch);
    // jsdom has no object URLs; the browser suite (test/e2e/account.e2e.ts) saves a real file.
    const blobs: Blob[] = [];
    vi.stubGlobal(
      'URL',
      Object.assign(URL, { createObjectURL: (b: Blob) => (blobs.push(b), 'blob:x'), revokeObjectURL: () => undefined }),
    );
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    await renderAt(AccountData, '/security');
    const session = useSessionStore();
    setAuthHooks({ token: () => session.accessToken, refresh: async () => false, expired: () => undefined });
    session.accessToken = 'a.token';

    await fireEvent.click(screen.getByTestId('data-download'));
    await waitFor(() => expect(screen.getByRole('status').textContent).toMatch(/twofold-alice-export\.json/));
    const [url, init] = fetch.mock.calls.at(-1) as unknown as [string, RequestInit];
    expect(url).toBe('/api/user/me/export');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer a.token');
    expect(clicked).toHaveLength(1);
    expect(clicked[0]!.download).toBe('twofold-alice-export.json');
    expect(JSON.parse(await blobs[0]!.text())).toEqual(EXPORT);
  });

  it('says what went wrong when the export fails', async () => {
    vi.stubGlobal('fetch', vi.fn(fetchAnswers(NO_SESSION, [503, { error: 'service_unavailable', message: 'x' }])));
    await renderAt(AccountData, '/security');
    await fireEvent.click(screen.getByTestId('data-download'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/temporarily unavailable/));
  });
});
