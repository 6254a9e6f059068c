// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchAnswers, renderAt } from '../testing';
import RegisterView from './RegisterView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

async function fill(password: string, confirm: string): Promise<void> {
  await fireEvent.update(screen.getByLabelText('Username'), 'alice');
  await fireEvent.update(screen.getByLabelText('Email'), 'alice@example.com');
  await fireEvent.update(screen.getByLabelText('Password'), password);
  await fireEvent.update(screen.getByLabelText('Confirm password'), confirm);
}

describe('RegisterView', () => {
  it('says when the two passwords differ, without calling the server', async () => {
    const fetch = vi.fn(fetchAnswers([401, { error: 'refresh_token_invalid', message: 'x' }]));
    vi.stubGlobal('fetch', fetch);
    await renderAt(RegisterView, '/register');
    const calls = fetch.mock.calls.length;
    await fill('correct horse battery', 'correct horse batterz');
    await fireEvent.click(screen.getByTestId('register-submit'));
    expect(screen.getByTestId('error-password-confirm').textContent).toMatch(/do not match/);
    expect(fetch.mock.calls.length).toBe(calls);
  });

  it('shows a live strength hint', async () => {
    vi.stubGlobal('fetch', fetchAnswers([401, { error: 'refresh_token_invalid', message: 'x' }]));
    await renderAt(RegisterView, '/register');
    await fireEvent.update(screen.getByLabelText('Password'), 'abc');
    expect(screen.getByTestId('password-strength').textContent).toMatch(/Too short/);
    await fireEvent.update(screen.getByLabelText('Password'), 'Long-and-varied-passphrase-42');
    await waitFor(() => expect(screen.getByTestId('password-strength').textContent).toMatch(/Strong/), {
      timeout: 10_000,
    });
  });

  it('judges like the server: password123 and a repeated letter are too easy to guess, with the reason', async () => {
    vi.stubGlobal('fetch', fetchAnswers([401, { error: 'refresh_token_invalid', message: 'x' }]));
    await renderAt(RegisterView, '/register');
    const hint = () => screen.getByTestId('password-strength');
    await fireEvent.update(screen.getByLabelText('Password'), 'password123');
    await waitFor(() => expect(hint().textContent).toMatch(/^Too easy to guess: This is a commonly used password/), {
      timeout: 10_000,
    });
    expect(hint().textContent).not.toMatch(/digits/);
    expect(hint().dataset.score).toBe('0');
    await fireEvent.update(screen.getByLabelText('Password'), 'aaaaaaaaaa');
    await waitFor(() => expect(hint().textContent).toMatch(/^Too easy to guess: Repeated characters/));
    await fireEvent.update(screen.getByLabelText('Username'), 'alice');
    await fireEvent.update(screen.getByLabelText('Password'), 'alice2024!');
    await waitFor(() => expect(hint().textContent).toMatch(/^Too easy to guess: There should not be any personal/));
  });

  it('shows the server field errors next to their fields', async () => {
    const fetch = vi.fn(
      fetchAnswers(
        [401, { error: 'refresh_token_invalid', message: 'x' }],
        [
          400,
          {
            error: 'validation_failed',
            message: 'The request is not valid.',
            fields: { password: 'is a commonly used password', username: 'may only contain letters, digits, _ . -' },
          },
        ],
      ),
    );
    vi.stubGlobal('fetch', fetch);
    await renderAt(RegisterView, '/register');
    await fill('password123', 'password123');
    await fireEvent.click(screen.getByTestId('register-submit'));
    await waitFor(() =>
      expect(screen.getByTestId('error-password').textContent).toBe('Password is a commonly used password.'),
    );
    expect(screen.getByTestId('error-username').textContent).toMatch(/^Username may only contain/);
    expect(screen.getByTestId('error-message').textContent).toMatch(/fields need attention/);
    const [url, init] = fetch.mock.calls.at(-1) as [string, RequestInit];
    expect(url).toBe('/api/auth/register');
    expect(JSON.parse(String(init.body))).toEqual({
      username: 'alice',
      email: 'alice@example.com',
      password: 'password123',
    });
    expect((init.headers as Record<string, string>)['X-Requested-With']).toBe('twofold');
  });

  it('puts a taken username next to the username field', async () => {
    vi.stubGlobal(
      'fetch',
      fetchAnswers(
        [401, { error: 'refresh_token_invalid', message: 'x' }],
        [409, { error: 'username_taken', message: 'This username is already taken.' }],
      ),
    );
    await renderAt(RegisterView, '/register');
    await fill('a fine long passphrase', 'a fine long passphrase');
    await fireEvent.click(screen.getByTestId('register-submit'));
    await waitFor(() => expect(screen.getByTestId('error-username').textContent).toMatch(/already taken/));
  });
});
