// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/vue';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../../src/lib/errors';
import FormMessages from '../components/FormMessages.vue';
import { ApiError } from './client';
import { ERROR_MESSAGES, errorMessage, fieldErrors } from './errors';

afterEach(cleanup);

const codes = Object.keys(ERROR_CATALOGUE);

describe('the error table', () => {
  it('has a sentence for every error code of the server catalogue', () => {
    const missing = codes.filter((code) => !(code in ERROR_MESSAGES));
    expect(missing).toEqual([]);
  });

  it.each(codes)('shows a user-facing sentence for %s', (code) => {
    const { status, message } = ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE];
    const text = errorMessage(new ApiError(code, message, status, {}, 42));
    expect(text.length).toBeGreaterThan(10);
    render(FormMessages, { props: { error: text } });
    expect(screen.getByTestId('error-message').textContent).toBe(text);
  });

  it('tells how long to wait after too many attempts', () => {
    expect(errorMessage(new ApiError('too_many_attempts', 'x', 429, {}, 42))).toContain('42 seconds');
    expect(errorMessage(new ApiError('too_many_attempts', 'x', 429, {}, 1))).toContain('1 second ');
    expect(errorMessage(new ApiError('too_many_attempts', 'x', 429))).toMatch(/wait/);
  });

  it('turns field fragments into sentences', () => {
    const error = new ApiError('validation_failed', 'x', 400, { new_password: 'must not be the username' });
    expect(fieldErrors(error)).toEqual({ new_password: 'New password must not be the username.' });
    expect(fieldErrors(new ApiError('email_taken', 'x', 409)).email).toBe(ERROR_MESSAGES.email_taken);
  });

  it('has a sentence for unknown errors and network failures', () => {
    expect(errorMessage(new Error('boom'))).toBe(ERROR_MESSAGES.internal_error);
    expect(errorMessage(new ApiError('network_error', 'x', 0))).toMatch(/reached/);
  });
});
