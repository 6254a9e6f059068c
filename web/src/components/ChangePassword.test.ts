// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchAnswers, renderAt } from '../testing';
import ChangePassword from './ChangePassword.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const NO_SESSION = [401, { error: 'refresh_token_invalid', message: 'x' }] as [number, unknown];
const NEW = 'Lantern-orchid-57-gravel';

async function fill(current: string, next: string, confirmation: string): Promise<void> {
  await fireEvent.update(screen.getByTestId('password-current'), current);
  await fireEvent.update(screen.getByTestId('password-new'), next);
  await fireEvent.update(screen.getByTestId('password-new-confirm'), confirmation);
}

describe('ChangePassword', () => {
  it('has the same new-password fields as register and reset: a strength hint and a confirmation', async () => {
    const fetch = vi.fn(fetchAnswers(NO_SESSION));
    vi.stubGlobal('fetch', fetch);
    await renderAt(ChangePassword, '/security');
    expect(screen.getByTestId('password-strength').textContent).toMatch(/at least 8 characters/);
    await fill('old password here', NEW, `${NEW}x`);
    expect(screen.getByTestId('error-password-confirm').textContent).toMatch(/do not match/);
    await fireEvent.click(screen.getByTestId('password-change'));
    // Nothing is sent while the two differ.
    expect(fetch.mock.calls.filter(([url]) => url === '/api/auth/password/change')).toHaveLength(0);
  });

  it('says a wrong current password is wrong, beside that field, not as a failed sign-in', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(
        fetchAnswers(NO_SESSION, [
          401,
          { error: 'invalid_credentials', message: 'The username, email or password is incorrect.' },
        ]),
      ),
    );
    await renderAt(ChangePassword, '/security');
    await fill('not it', NEW, NEW);
    await fireEvent.click(screen.getByTestId('password-change'));
    await waitFor(() =>
      expect(screen.getByTestId('error-current_password').textContent).toMatch(/not your current password/),
    );
    expect(document.body.textContent).not.toMatch(/username, email or password/);
  });
});
