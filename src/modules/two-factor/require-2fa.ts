import type { Require2fa } from '../../config.js';

/*
 * REQUIRE_2FA (docs/security.md, "Required second factor"): whose accounts may not be used with a
 * password alone. NIST SP 800-63B §4.2 (AAL2 needs two factors) and OWASP ASVS V2.1 / the OWASP
 * Multifactor Authentication Cheat Sheet ("require MFA for administrative accounts") are the reason;
 * this file is the one place that says whom the policy covers and what counts as a second factor.
 */

/** The `scope` claim of a set-up token: an access token that may only set up a second factor. */
export const MFA_SETUP_SCOPE = 'mfa_setup';

/** Whether the policy asks this role for a second factor. */
export function policyCovers(policy: Require2fa, role: string): boolean {
  return policy === 'all' || (policy === 'admin' && role === 'admin');
}

/** A second factor an account has turned on, as `mfa_methods` names it. */
export type FactorMethod = 'totp' | 'email' | 'passkey';

/**
 * Whether the account has a second factor, from its enabled methods (the factor flags). A passkey
 * counts: after a password it is a second, phishing-resistant factor of another kind (possession;
 * NIST SP 800-63B §4.2.1, §5.1.8).
 */
export function hasSecondFactor(methods: readonly string[]): boolean {
  return methods.length > 0;
}

/**
 * Whether a sign-in proved a second factor, from its RFC 8176 `amr`: `otp` (a TOTP, email or backup
 * code), or `mfa` (a passkey whose authenticator verified the person: possession and a PIN or
 * biometric in one, NIST SP 800-63B §5.1.9), or `pwd` + `hwk` (a password and a passkey as its second
 * step). A passkey without user verification (`hwk` alone) is one factor.
 */
export function provesSecondFactor(amr: readonly string[]): boolean {
  // A password then a passkey (`pwd` + `hwk`): something known and something held, two factors.
  return amr.includes('otp') || amr.includes('mfa') || (amr.includes('pwd') && amr.includes('hwk'));
}

/**
 * What "confirm it's you" asks of an account with these second factors: the proof must be at the
 * account's own level before it may change how the account signs in (NIST SP 800-63B §6.1.2.1). A
 * code factor: the password and a code. A passkey only: the passkey (a password alone would let a
 * stolen access token plus a phished password remove it, and there is no code to add). None: the
 * password.
 */
export function reauthProof(methods: readonly FactorMethod[]): 'password' | 'password_and_code' | 'passkey' {
  if (methods.some((method) => method !== 'passkey')) return 'password_and_code';
  return methods.includes('passkey') ? 'passkey' : 'password';
}
