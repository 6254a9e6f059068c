// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatRelative } from '../components/format';
import { fetchAnswers, renderAt } from '../testing';
import TokenView from './TokenView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const NO_SESSION = [401, { error: 'refresh_token_invalid', message: 'x' }] as [number, unknown];

describe('TokenView', () => {
  it('shows the time claims as dates with how far they are from now, not as epoch numbers', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: '7', iat: now - 180, exp: now + 420, auth_time: now - 180 };
    vi.stubGlobal('fetch', vi.fn(fetchAnswers(NO_SESSION, [200, { valid: true, claims }])));
    await renderAt(TokenView, '/token');

    await fireEvent.update(screen.getByLabelText('Access token'), 'a.b.c');
    await fireEvent.click(screen.getByTestId('token-inspect'));
    await waitFor(() => expect(screen.getByTestId('token-times')).toBeTruthy());
    const text = screen.getByTestId('token-times').textContent ?? '';
    expect(text).toMatch(/Issued iat.*\(3 minutes ago\)/);
    expect(text).toMatch(/Expires exp.*\(in 7 minutes\)/);
    expect(text).toMatch(/Signed in auth_time/);
    expect(text).not.toContain(String(now + 420));
  });
});

describe('formatRelative', () => {
  const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
  it('uses the largest whole unit, in the past and the future', () => {
    expect(formatRelative(NOW / 1000 + 420, NOW)).toBe('in 7 minutes');
    expect(formatRelative(NOW / 1000 - 180, NOW)).toBe('3 minutes ago');
    expect(formatRelative(NOW / 1000 + 2 * 3600 + 5, NOW)).toBe('in 2 hours');
    expect(formatRelative(NOW / 1000 - 3 * 86_400, NOW)).toBe('3 days ago');
    expect(formatRelative(NOW / 1000, NOW)).toBe('now');
  });
});
