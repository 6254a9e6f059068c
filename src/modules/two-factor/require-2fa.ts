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

/**
 * Whether the account has a second factor, from its enabled methods (the factor flags). A passkey,
 * when it comes, is one more method here.
 */
export function hasSecondFactor(methods: readonly string[]): boolean {
  return methods.length > 0;
}

/**
 * Whether a sign-in proved a second factor, from its RFC 8176 `amr`: `otp` (a TOTP, email or backup
 * code), or `mfa` (a passkey whose authenticator verified the person: possession and a PIN or
 * biometric in one, NIST SP 800-63B §5.1.9). A passkey without user verification (`hwk` alone) is one factor.
 */
export function provesSecondFactor(amr: readonly string[]): boolean {
  return amr.includes('otp') || amr.includes('mfa');
}
