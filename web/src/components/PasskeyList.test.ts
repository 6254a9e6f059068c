// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderAt } from '../testing';
import { CREATION_OPTIONS, server, stubWebAuthn } from '../testing-webauthn';
import PasskeyList from './PasskeyList.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const LAPTOP = {
  id: 4,
  name: 'Laptop',
  created_at: '2026-01-15T12:00:00.000Z',
  last_used_at: '2026-01-16T08:30:00.000Z',
  backed_up: true,
  transports: ['internal', 'hybrid'],
};
const KEY = { ...LAPTOP, id: 9, name: 'Blue key', last_used_at: null, backed_up: false, transports: ['usb'] };
const refused = (name: string) => () => Promise.reject(new DOMException('The browser said no.', name));

describe('PasskeyList', () => {
  it('lists each passkey: name, added, last used, synced or this device only', async () => {
    stubWebAuthn(refused('NotAllowedError'));
    server({ 'GET /api/auth/passkeys': () => [200, { passkeys: [LAPTOP, KEY] }] });
    await renderAt(PasskeyList, '/security');
    await waitFor(() => expect(screen.getAllByTestId('passkey-row')).toHaveLength(2));
    expect(screen.getAllByTestId('passkey-name-text').map((cell) => cell.textContent)).toEqual(['Laptop', 'Blue key']);
    expect(screen.getAllByTestId('passkey-synced').map((cell) => cell.textContent?.trim())).toEqual([
      'Synced (backed up)',
      'This device only',
    ]);
    const [laptop, key] = screen.getAllByTestId('passkey-row');
    expect(laptop!.textContent).toMatch(/2026/);
    expect(key!.textContent).toMatch(/Not yet/);
    expect(screen.getByRole('button', { name: 'Add a passkey' })).toBeTruthy();
  });

  it('renames inline and removes only after a confirmation that names the passkey', async () => {
    stubWebAuthn(refused('NotAllowedError'));
    let list = [LAPTOP, KEY];
    const calls = server({
      'GET /api/auth/passkeys': () => [200, { passkeys: list }],
      'PATCH /api/auth/passkeys/9': (body) => [200, { ...KEY, ...(body as object) }],
      'DELETE /api/auth/passkeys/9': () => {
        list = [LAPTOP];
        return [204, null];
      },
      'GET /api/user/me': () => [200, { id: 7, username: 'alice', mfa_enabled: true, mfa_methods: ['passkey'] }],
    });
    await renderAt(PasskeyList, '/security');
    await waitFor(() => expect(screen.getAllByTestId('passkey-row')).toHaveLength(2));
    await fireEvent.click(screen.getByRole('button', { name: 'Rename “Blue key”' }));
    const input = screen.getByTestId('passkey-name-input') as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    await fireEvent.update(input, '  ');
    await fireEvent.submit(input.closest('form')!);
    expect(screen.getByTestId('error-passkey-rename').textContent).toMatch(/1 to 64/);
    await fireEvent.update(input, ' Red key ');
    await fireEvent.submit(input.closest('form')!);
    await waitFor(() => expect(screen.getByTestId('notice').textContent).toMatch(/Renamed to “Red key”/));
    expect(calls.filter((c) => c.key.startsWith('PATCH'))).toEqual([
      { key: 'PATCH /api/auth/passkeys/9', body: { name: 'Red key' } },
    ]);

    await fireEvent.click(screen.getByRole('button', { name: 'Remove “Red key”' }));
    expect(screen.getByTestId('passkey-question').textContent).toMatch(
      /Remove “Red key”\? It will no longer sign you in/,
    );
    expect(document.activeElement).toBe(screen.getByTestId('passkey-cancel-remove'));
    await fireEvent.click(screen.getByTestId('passkey-cancel-remove'));
    expect(calls.some((c) => c.key.startsWith('DELETE'))).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Remove “Red key”' }));
    await fireEvent.click(screen.getByTestId('passkey-confirm-remove'));
    await waitFor(() => expect(screen.getAllByTestId('passkey-row')).toHaveLength(1));
    await waitFor(() => expect(screen.getByTestId('notice').textContent).toMatch(/Passkey “Red key” removed/));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('notice')));
    // The signed-in user is read again: its mfa_methods say whether a passkey is left (the reauth dialog reads them).
    expect(calls.filter((c) => c.key === 'GET /api/user/me')).toHaveLength(1);
  });

  it.each([
    ['NotAllowedError', 'Cancelled, or the device did not answer.'],
    ['InvalidStateError', 'This device already has a passkey for this account.'],
  ])('says so when the browser answers %s, and registers nothing', async (error, message) => {
    const ceremonies = stubWebAuthn(refused(error));
    const calls = server({
      'GET /api/auth/passkeys': () => [200, { passkeys: [] }],
      'POST /api/auth/passkeys/register/options': () => [200, CREATION_OPTIONS],
    });
    await renderAt(PasskeyList, '/security');
    await waitFor(() => expect(screen.getByTestId('passkeys-none')).toBeTruthy());
    await fireEvent.update(screen.getByLabelText('Name (optional)'), 'Laptop');
    await fireEvent.click(screen.getByRole('button', { name: 'Add a passkey' }));
    await waitFor(() => expect(screen.getByTestId('error-message').textContent?.trim()).toBe(message));
    expect(document.activeElement).toBe(screen.getByTestId('error-message'));
    expect(ceremonies.map((c) => c.kind)).toEqual(['create']);
    expect(calls.some((c) => c.key.includes('register/verify'))).toBe(false);
  });

  it('hides "Add a passkey" and says why in a browser without the Web Authentication API', async () => {
    server({ 'GET /api/auth/passkeys': () => [200, { passkeys: [LAPTOP] }] });
    await renderAt(PasskeyList, '/security');
    await waitFor(() => expect(screen.getAllByTestId('passkey-row')).toHaveLength(1));
    expect(screen.queryByRole('button', { name: 'Add a passkey' })).toBeNull();
    expect(screen.getByTestId('passkeys-unsupported').textContent).toMatch(/cannot use passkeys/);
    // What is there can still be renamed and removed (e.g. a passkey made on another device).
    expect(screen.getByRole('button', { name: 'Remove “Laptop”' })).toBeTruthy();
  });
});
