// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchAnswers, renderAt } from '../testing';
import VerifyCodeView from './VerifyCodeView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** The app first tries its refresh cookie (no session here). */
const NO_SESSION = [401, { error: 'refresh_token_invalid', message: 'x' }] as [number, unknown];

function bodyOf(fetch: ReturnType<typeof vi.fn>, url: string, nth = 0): unknown {
  const call = fetch.mock.calls.filter(([u]) => u === url)[nth] as [string, RequestInit] | undefined;
  return call && JSON.parse(String(call[1].body));
}

describe('VerifyCodeView', () => {
  it('sends a code, moves the focus to the code field, and confirms the address with it', async () => {
    const fetch = vi.fn(
      fetchAnswers(
        NO_SESSION,
        [202, { accepted: true }],
        [401, { error: 'invalid_mfa_code', message: 'x' }],
        [200, { verified: true }],
      ),
    );
    vi.stubGlobal('fetch', fetch);
    await renderAt(VerifyCodeView, '/verify');

    await fireEvent.update(screen.getByLabelText('Email'), '  kate@example.com ');
    await fireEvent.click(screen.getByTestId('proof-send'));
    await waitFor(() =>
      expect(screen.getByTestId('notice').textContent).toBe(
        'If this address can receive codes, one is on its way; it is valid for 10 minutes.',
      ),
    );
    expect(screen.getByTestId('notice').getAttribute('role')).toBe('status');
    expect(bodyOf(fetch, '/generate-2fa')).toEqual({ email: 'kate@example.com' });
    const codeField = screen.getByLabelText('6-digit code');
    await waitFor(() => expect(document.activeElement).toBe(codeField));
    expect(codeField.getAttribute('autocomplete')).toBe('one-time-code');
    expect(codeField.getAttribute('inputmode')).toBe('numeric');

    // A wrong code: a clear message, announced, and the form stays.
    await fireEvent.update(codeField, '000000');
    await fireEvent.click(screen.getByTestId('proof-submit'));
    await waitFor(() =>
      expect(screen.getByTestId('error-message').textContent).toMatch(/incorrect, has expired or was already used/),
    );
    expect(screen.getByTestId('error-message').getAttribute('role')).toBe('alert');

    await fireEvent.update(screen.getByLabelText('6-digit code'), '123 456');
    await fireEvent.click(screen.getByTestId('proof-submit'));
    await waitFor(() =>
      expect(screen.getByTestId('proof-done').textContent).toMatch(/This address is verified: kate@example.com/),
    );
    expect(bodyOf(fetch, '/verify', 1)).toEqual({ email: 'kate@example.com', code: '123456' });
    expect(document.activeElement).toBe(screen.getByTestId('proof-done'));
  });

  it('names the field of a malformed address', async () => {
    vi.stubGlobal(
      'fetch',
      fetchAnswers(NO_SESSION, [
        400,
        { error: 'validation_failed', message: 'x', fields: { email: 'must match the address format' } },
      ]),
    );
    await renderAt(VerifyCodeView, '/verify');
    await fireEvent.update(screen.getByLabelText('Email'), 'nope');
    await fireEvent.click(screen.getByTestId('proof-send'));
    await waitFor(() => expect(screen.getByTestId('error-email')).toBeTruthy());
  });

  it('checks a code another application asked for: the typed address and the code, without sending a new one', async () => {
    const fetch = vi.fn(fetchAnswers(NO_SESSION, [200, { verified: true }]));
    vi.stubGlobal('fetch', fetch);
    await renderAt(VerifyCodeView, '/verify');
    // No address yet: the page asks for it instead of sending a request that cannot succeed.
    await fireEvent.update(screen.getByLabelText('6-digit code'), '123456');
    await fireEvent.click(screen.getByTestId('proof-submit'));
    await waitFor(() =>
      expect(screen.getByTestId('error-message').textContent).toBe('Enter the email address the code was sent to.'),
    );
    expect(document.activeElement).toBe(screen.getByLabelText('Email'));
    expect(bodyOf(fetch, '/verify')).toBeUndefined();

    await fireEvent.update(screen.getByLabelText('Email'), ' lee@example.com ');
    await fireEvent.click(screen.getByTestId('proof-submit'));
    await waitFor(() =>
      expect(screen.getByTestId('proof-done').textContent).toMatch(/This address is verified: lee@example.com/),
    );
    expect(bodyOf(fetch, '/verify')).toEqual({ email: 'lee@example.com', code: '123456' });
    expect(bodyOf(fetch, '/generate-2fa')).toBeUndefined();
  });
});
