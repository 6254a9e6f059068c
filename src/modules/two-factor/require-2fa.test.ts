import { describe, expect, it } from 'vitest';
import { hasSecondFactor, policyCovers, provesSecondFactor, reauthProof } from './require-2fa.js';

describe('REQUIRE_2FA rules', () => {
  it('covers nobody with off, administrators with admin, everyone with all', () => {
    expect([policyCovers('off', 'admin'), policyCovers('off', 'user')]).toEqual([false, false]);
    expect([policyCovers('admin', 'admin'), policyCovers('admin', 'user')]).toEqual([true, false]);
    expect([policyCovers('all', 'admin'), policyCovers('all', 'user')]).toEqual([true, true]);
  });

  it('counts any enabled method as a second factor, and otp in amr as a second factor proven', () => {
    expect(hasSecondFactor([])).toBe(false);
    expect(hasSecondFactor(['email'])).toBe(true);
    expect(provesSecondFactor(['pwd'])).toBe(false);
    expect(provesSecondFactor(['pwd', 'otp'])).toBe(true);
    expect(provesSecondFactor(['hwk', 'mfa'])).toBe(true);
    expect(provesSecondFactor(['hwk'])).toBe(false);
    expect(hasSecondFactor(['passkey'])).toBe(true);
    expect(provesSecondFactor(['pwd', 'hwk'])).toBe(true);
  });
});

describe('reauthProof', () => {
  it('asks for a code when the account has a code factor, the passkey when a passkey is its only one, else the password', () => {
    expect(reauthProof(['totp'])).toBe('password_and_code');
    expect(reauthProof(['email', 'passkey'])).toBe('password_and_code');
    expect(reauthProof(['passkey'])).toBe('passkey');
    expect(reauthProof([])).toBe('password');
  });
});
